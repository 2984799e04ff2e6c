/**
 * What one bench process saw of one audio direction: as the sender, each call's frame numbers and when the
 * first went out; as the receiver, each tagged frame's send time and latency, and which frame numbers of
 * each call arrived. The orchestrator joins the two sides (analyze.ts) after the run.
 */
import { monoUs, writeTag, type Tag } from './tag.js';

/**
 * Sender side, per call: frames are numbered from 1 and sent on a drift-free 20 ms clock, so frame q is
 * sent at firstSendUs + (q-1) * 20 ms or later (never earlier: firstSendUs is frame 1's scheduled time,
 * not the possibly late moment it went out).
 */
export interface SentCall {
  firstSendUs: number;
  lastSeq: number;
}

export class FrameSender {
  readonly calls = new Map<number, SentCall>();

  /** Tags `frame` as the next frame of `call` and notes it; `lateMs`: how late the ticker runs it. */
  stamp(frame: Buffer, call: number, lateMs = 0): void {
    const now = monoUs();
    let c = this.calls.get(call);
    if (!c) {
      c = { firstSendUs: now - lateMs * 1000, lastSeq: 0 };
      this.calls.set(call, c);
    }
    writeTag(frame, call, ++c.lastSeq, 0, now);
  }
}

class Grow<T extends Float64Array | Float32Array> {
  n = 0;
  constructor(public a: T, private readonly make: (n: number) => T) {}
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = this.make(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  view(): T {
    return this.a.subarray(0, this.n) as T;
  }
}

/** Receiver side. */
export class FrameReceiver {
  private readonly sent = new Grow(new Float64Array(1 << 16), (n) => new Float64Array(n));
  private readonly lat = new Grow(new Float32Array(1 << 16), (n) => new Float32Array(n));
  /** Per call, one byte per frame number: 1 once it arrived (duplicates are not counted twice). */
  readonly seen = new Map<number, Uint8Array>();
  duplicates = 0;

  /** The bound callback for TagScanner.scan. */
  readonly take = (tag: Tag): void => {
    let s = this.seen.get(tag.call);
    if (!s || tag.seq >= s.length) {
      const b = new Uint8Array(Math.max(tag.seq + 1, (s?.length ?? 0) * 2, 4096));
      if (s) b.set(s);
      s = b;
      this.seen.set(tag.call, s);
    }
    if (s[tag.seq]) {
      this.duplicates++;
      return;
    }
    s[tag.seq] = 1;
    this.sent.push(tag.sentUs);
    this.lat.push((monoUs() - tag.sentUs) / 1000);
  };

  get received(): number {
    return this.sent.n;
  }

  report(): ReceivedFrames {
    return { sentUs: this.sent.view(), latencyMs: this.lat.view(), seen: this.seen, duplicates: this.duplicates };
  }
}

export interface ReceivedFrames {
  sentUs: Float64Array;
  latencyMs: Float32Array;
  seen: Map<number, Uint8Array>;
  duplicates: number;
}
