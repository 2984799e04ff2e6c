import { setTimeout as sleep } from 'node:timers/promises';
import { downloadRecording } from '../records/recordings.js';
import { recordFolders, storedName } from '../records/record-files.js';
import { LateRecords, type LateRecord } from './late-records.js';
import type { CallRuntime } from './call-runtime.js';
import type { CallRow } from '../store/call-rows.js';
import { findCompletedRecording, RECORDING_LIST_POLL_MS } from './carrier-recording.js';

/**
 * The records that come after a call has ended: the carrier's price (polled, it is often not known at
 * once) and the recording (fetched when its callback arrives, or found in the carrier's list for a call
 * whose node died). The call's live event stream stays open until they are in, or until waiting for
 * them has taken too long.
 */
export class AfterCallRecords {
  private readonly lateRecords: LateRecords;
  private readonly pricePolls = new Set<string>();
  /** Recording downloads in flight, by call. */
  private readonly fetches = new Map<string, Promise<void>>();
  /** Aborted on shutdown: a price or recording poll between its tries stops at once rather than holding the exit for minutes. */
  private readonly shuttingDown = new AbortController();

  constructor(private readonly rt: CallRuntime) {
    this.lateRecords = new LateRecords(rt.d.settleTimeoutMs ?? 10 * 60_000, (callId, missing) => this.completeRecords(callId, missing));
  }

  /**
   * The call has ended: work out which late records are still to come, and wait for them. `transcriptText`:
   * the transcript file's text as the end wrote it, handed on to the outcome so the call is rendered once.
   */
  startSettling(callId: string, transcriptText?: string): void {
    // Read now, not before the end's awaits: a recording may have been stored in the meantime.
    this.settle(this.rt.d.calls.kept(callId)!, transcriptText);
  }

  /**
   * A call of a node that died, ended here (lost-node-calls.ts): the late records that node would have
   * waited for. The carrier's callbacks for it go to the dead node and are never answered, so the price
   * is polled as after a hang-up, and the recording is looked for in the carrier's list of the call's
   * recordings, then fetched as usual.
   */
  async settleLostCall(call: CallRow, transcriptText?: string, o: { outcome: boolean } = { outcome: true }): Promise<void> {
    // The dead node may have died with its write of the answer to the row still queued (row writes are
    // asynchronous, per call); if the answer's event made it to the timeline, the call was answered.
    const answeredAt = call.answeredAt ?? (await this.answeredOnTimeline(call.id));
    if (this.settle({ ...call, answeredAt }, transcriptText, o.outcome).includes('recording')) this.rt.track(this.recordingFromCarrier(call).finally(() => this.settled(call.id, 'recording')));
  }

  /**
   * A call this node left live when it crashed, ended at its restart (restart-recovery.ts). Its recording
   * callback comes here (the same address) if the carrier sends it after the restart, but one sent while
   * the node was down is lost (Twilio does not retry it): so the recording is also looked for in the
   * carrier's list, and fetched once whichever finds it first. Its outcome is the restart's to resume.
   */
  settleInterruptedCall(call: CallRow, transcriptText?: string): Promise<void> {
    return this.settleLostCall(call, transcriptText, { outcome: false });
  }

  private async answeredOnTimeline(callId: string): Promise<string | null> {
    const events = await this.rt.d.timeline.list(callId).catch(() => []);
    return events.find((e) => e.type === 'status' && e.data.status === 'answered')?.at ?? null;
  }

  private settle(call: CallRow, transcriptText: string | undefined, outcome = true): LateRecord[] {
    const { d } = this.rt;
    const callId = call.id;
    const expected: LateRecord[] = [];
    if (call.carrierCallId && d.carrier) expected.push('price');
    if (d.settings.RECORD_CALLS && call.answeredAt && !call.recordingPath) expected.push('recording');
    if (this.rt.outcomes && outcome) expected.push('outcome');
    this.lateRecords.expect(callId, expected);
    if (this.rt.outcomes && outcome) this.rt.track(this.computeOutcome(callId, transcriptText));
    // A user or agent hang-up gets no "completed" callback handling of its own: poll the price here.
    if (this.lateRecords.isWaiting(callId) && expected.includes('price') && !this.pricePolls.has(callId)) this.rt.track(this.pollPrice(callId));
    return expected;
  }

  settled(callId: string, what: LateRecord): void {
    this.lateRecords.arrived(callId, what, this.rt.live.has(callId) || this.rt.ending.has(callId));
  }

  /** The call's end is done: records that arrived during it and were never expected are dropped. */
  dropEarly(callId: string): void {
    this.lateRecords.dropEarly(callId);
  }

  /** Shutdown: stop waiting for every call. */
  completeAll(): void {
    this.shuttingDown.abort();
    this.lateRecords.completeAll();
  }

  /** Every late record is in, or waiting for the rest took too long (`missing` says which). */
  private completeRecords(callId: string, missing: LateRecord[]): void {
    this.rt.record(callId, 'records.complete', missing.length ? { missing } : {});
    if (missing.length && !this.rt.closing) this.rt.d.log.warn({ event: 'records.incomplete', callId, missing }, 'stopped waiting for late records that never arrived');
    this.rt.d.timeline.close(callId);
  }

  isWaiting(callId: string): boolean {
    return this.lateRecords.isWaiting(callId);
  }

  /**
   * The outcome, from the transcript now complete; the live stream stays open until it is in. The webhook
   * goes after the stream has closed: its retries may take far longer than anyone watches the call page.
   */
  private async computeOutcome(callId: string, transcriptText: string | undefined): Promise<void> {
    const outcomes = this.rt.outcomes!;
    try {
      await outcomes.compute(callId, { transcriptText });
    } finally {
      this.settled(callId, 'outcome');
    }
    // Still part of this tracked task, so shutdown waits for the try in flight (its retries stop).
    if (outcomes.webhookConfigured) await outcomes.deliver(callId);
  }

  /** The carrier's price is often null right after the call; ask again with growing pauses. */
  async pollPrice(callId: string): Promise<void> {
    if (this.pricePolls.has(callId)) return;
    this.pricePolls.add(callId);
    try {
      for (const waitMs of this.rt.d.pricePollMs ?? [0, 5_000, 30_000, 120_000]) {
        if (waitMs) await sleep(waitMs, undefined, { signal: this.shuttingDown.signal }).catch(() => undefined);
        if (this.rt.closing) return;
        if (await this.fetchPrice(callId)) return;
      }
    } finally {
      this.pricePolls.delete(callId);
      this.settled(callId, 'price');
    }
  }

  private async fetchPrice(callId: string): Promise<boolean> {
    const { d } = this.rt;
    const call = await d.calls.get(callId);
    if (!call?.carrierCallId || !d.carrier) return true;
    if (call.carrierPrice !== null) return true;
    const p = await d.carrier.callPrice(call.carrierCallId);
    if (!p) return false;
    d.calls.update(callId, {
      ...(p.price !== null ? { carrierPrice: p.price, carrierPriceUnit: p.unit } : {}),
      ...(p.durationSec !== null ? { carrierDurationSec: p.durationSec } : {}),
    });
    if (p.price === null) return false;
    this.rt.record(callId, 'carrier.price', { price: p.price, unit: p.unit });
    return true;
  }

  /**
   * SSRF guard, made visible: the recording is only ever fetched from the configured carrier API host.
   * A callback naming another host (even a signed one) is recorded; its URL is not used.
   */
  noteForeignUrl(callId: string, recordingId: string, theirs: string | undefined): void {
    const { d } = this.rt;
    if (!theirs || !d.carrier) return;
    let own: string | null = null;
    try {
      own = new URL(d.carrier.recordingSource(recordingId).url).origin;
    } catch {
      // An invalid recording id: the download refuses it and records why.
    }
    if (theirs !== own) {
      this.rt.record(callId, 'security.foreignUrl', { source: 'recording-callback', host: theirs, fetchedFrom: own });
      d.log.warn({ event: 'security.foreignUrl', callId, host: theirs }, 'a callback named a host other than the configured carrier API; ignored');
    }
  }

  /** The recording of a lost node's call, from the carrier's list (see settleLostCall); why not, on the timeline. */
  private async recordingFromCarrier(call: CallRow): Promise<void> {
    const { d } = this.rt;
    const r =
      d.carrier && call.carrierCallId
        ? await findCompletedRecording(d.carrier, call.carrierCallId, { pollMs: d.recordingListPollMs ?? RECORDING_LIST_POLL_MS, knownId: call.recordingSid, signal: this.shuttingDown.signal })
        : ({ notFound: 'none', message: 'the call has no carrier call to ask about' } as const);
    if ('stopped' in r) return;
    if ('notFound' in r) {
      this.rt.record(call.id, 'error', { source: 'recording', fatal: false, code: 'recording_not_found', reason: r.notFound, message: r.message });
      d.log.warn({ event: 'recording.notFound', callId: call.id, reason: r.notFound }, `the recording of a lost node's call was not fetched: ${r.message}`);
      return;
    }
    if (r.found !== call.recordingSid) d.calls.update(call.id, { recordingSid: r.found });
    await this.fetchRecording(call.id, r.found);
  }

  /**
   * Downloads a call's recording, once: a second request while one is in flight (the callback and the
   * list both found it) waits for that one, and one after it is stored does nothing.
   */
  fetchRecording(callId: string, recordingId: string): Promise<void> {
    const inFlight = this.fetches.get(callId);
    if (inFlight) return inFlight;
    const p = this.download(callId, recordingId).finally(() => this.fetches.delete(callId));
    this.fetches.set(callId, p);
    return p;
  }

  private async download(callId: string, recordingId: string): Promise<void> {
    const { d } = this.rt;
    if (!d.carrier) return;
    if ((await d.calls.get(callId))?.recordingPath) return;
    try {
      const src = d.carrier.recordingSource(recordingId);
      const r = await downloadRecording({ ...src, dir: recordFolders(d.settings).recordings, callId, maxBytes: d.settings.RECORDING_MAX_BYTES, ...d.recordingRetry });
      // The name, not the path: any node mounting RECORDINGS_DIR serves it (record-files.ts).
      d.calls.update(callId, { recordingPath: storedName(r.path) });
      this.rt.record(callId, 'recording', { bytes: r.bytes, attempts: r.attempts });
    } catch (err) {
      this.rt.record(callId, 'error', { source: 'recording', fatal: false, code: 'recording_download_failed', message: (err as Error).message });
    }
  }
}
