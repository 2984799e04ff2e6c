/** Records that arrive after a call has ended: the carrier's price, the recording, the outcome. */
export type LateRecord = 'price' | 'recording' | 'outcome';

interface Waiting {
  waitingFor: Set<LateRecord>;
  timer: NodeJS.Timeout;
}

/**
 * Knows, per ended call, which late records are still to come, and says once when they are all in (or
 * when waiting for them has taken too long, naming what is missing).
 *
 * A record may arrive before the call's end has worked out what to wait for: the carrier sends its
 * callbacks while the server is still shutting the session down and writing the transcript, and a fast
 * recording download can finish in that gap. Such an arrival is remembered and counted when the wait
 * starts; forgetting it left the call's live stream open until the timeout.
 */
export class LateRecords {
  private readonly waiting = new Map<string, Waiting>();
  /** Arrived while the call was still ending, before `expect`. */
  private readonly early = new Map<string, Set<LateRecord>>();

  constructor(
    private readonly timeoutMs: number,
    private readonly onComplete: (callId: string, missing: LateRecord[]) => void,
  ) {}

  /**
   * The call has ended; these records are still to come. Those that arrived already count. Completes
   * at once when nothing is left to wait for.
   */
  expect(callId: string, records: Iterable<LateRecord>): void {
    const early = this.early.get(callId);
    this.early.delete(callId);
    const waitingFor = new Set([...records].filter((r) => !early?.has(r)));
    if (waitingFor.size === 0) return this.onComplete(callId, []);
    const timer = setTimeout(() => this.complete(callId), this.timeoutMs);
    timer.unref();
    this.waiting.set(callId, { waitingFor, timer });
  }

  /**
   * A record is in (or will never come: a failed download counts as arrived, its error is on record).
   * `ending` says the call is still live or ending, so the record is kept for the coming `expect`;
   * otherwise an arrival for a call not waited for is ignored.
   */
  arrived(callId: string, record: LateRecord, ending: boolean): void {
    const w = this.waiting.get(callId);
    if (!w) {
      if (!ending) return;
      const early = this.early.get(callId) ?? new Set<LateRecord>();
      early.add(record);
      this.early.set(callId, early);
      return;
    }
    w.waitingFor.delete(record);
    if (w.waitingFor.size === 0) this.complete(callId);
  }

  /** Drops what arrived early for a call whose end failed before `expect`: nothing will ask for it. */
  dropEarly(callId: string): void {
    this.early.delete(callId);
  }

  isWaiting(callId: string): boolean {
    return this.waiting.has(callId);
  }

  /** Completes every wait now, naming what is missing (server shutdown). */
  completeAll(): void {
    for (const id of [...this.waiting.keys()]) this.complete(id);
  }

  /** Calls with records still to come, and calls with early arrivals held (for tests and diagnostics). */
  get size(): { waiting: number; early: number } {
    return { waiting: this.waiting.size, early: this.early.size };
  }

  private complete(callId: string): void {
    const w = this.waiting.get(callId);
    if (!w) return;
    clearTimeout(w.timer);
    this.waiting.delete(callId);
    this.onComplete(callId, [...w.waitingFor]);
  }
}
