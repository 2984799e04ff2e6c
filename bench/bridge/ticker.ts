/**
 * One 20 ms clock for every call in a bench process, without drift: each call gets a phase (2 ms slots,
 * spread as real calls are), and slot k of round n is due at t0 + n*20 + k*2 ms whatever time the
 * previous one ran. A late wake runs every slot it missed (a frame is never skipped; the tag carries its
 * real send time, so the sender's own lateness is not counted as the bridge's latency).
 * One timer for the whole process, not one per call: the load generator's own cost stays small.
 */
import { performance } from 'node:perf_hooks';

export const FRAME_MS = 20;
const SLOT_MS = 2;
const SLOTS = FRAME_MS / SLOT_MS;

export class FrameTicker {
  private readonly slots: Array<Set<(lateMs: number) => void>> = Array.from({ length: SLOTS }, () => new Set());
  private readonly t0 = performance.now();
  /** Next slot to run, counted from t0. */
  private next = 0;
  private timer: NodeJS.Timeout | null = null;
  private placed = 0;
  private stopped = false;

  /**
   * Runs `tick` every 20 ms from the next free phase; returns the function that stops it. `lateMs` is how
   * far behind its slot this run is (the frame's scheduled time is now - lateMs).
   */
  add(tick: (lateMs: number) => void): () => void {
    // 7 slots apart: neighbours in time are far apart in phase, as 7 and 10 share no factor.
    const slot = this.slots[(this.placed++ * 7) % SLOTS];
    slot.add(tick);
    this.arm();
    return () => slot.delete(tick);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.slots) s.clear();
  }

  private arm(): void {
    if (this.timer || this.stopped) return;
    const nowSlot = Math.floor((performance.now() - this.t0) / SLOT_MS);
    if (this.next < nowSlot - SLOTS) this.next = nowSlot - SLOTS; // after an idle spell, no replay of the past
    const delay = Math.max(1, this.t0 + (this.next + 1) * SLOT_MS - performance.now());
    this.timer = setTimeout(() => this.run(), delay);
  }

  private run(): void {
    this.timer = null;
    const now = performance.now();
    const due = Math.floor((now - this.t0) / SLOT_MS);
    for (; this.next <= due; this.next++) {
      const late = now - (this.t0 + this.next * SLOT_MS);
      for (const tick of this.slots[this.next % SLOTS]) tick(late);
    }
    if (this.slots.some((s) => s.size > 0)) this.arm();
  }
}
