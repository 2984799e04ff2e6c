/**
 * When the next piece of a model's reply may go out (shared by the engine simulators). Both modes yield to
 * the event loop between pieces, because a real network interleaves the client's messages (a cancel, the
 * callee's speech) with the server's stream; a synchronous loop would make barge-in untestable.
 */

export type Pacing = 'burst' | 'realtime';

export class Pacer {
  private readonly t0 = performance.now();
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly pacing: Pacing) {}

  /**
   * Resolves when `offsetMs` of playback time since the response started has elapsed (realtime), or on the
   * next event-loop turn (burst). Offsets are absolute, not deltas, so timer lateness never accumulates.
   */
  until(offsetMs: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      if (this.pacing === 'burst') {
        this.immediate = setImmediate(() => this.fire());
      } else {
        const delay = Math.max(0, this.t0 + offsetMs - performance.now());
        this.timer = setTimeout(() => this.fire(), delay);
      }
    });
  }

  /** Cancels the pending wait and releases the waiter so its loop can see why it was stopped. */
  stop(): void {
    this.fire();
  }

  private fire(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
