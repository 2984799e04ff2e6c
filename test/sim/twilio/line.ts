/**
 * The call's audio path from answer to hang-up: one drift-free 20 ms clock that sends the callee's
 * audio, plays the agent's audio, and records both directions. Everything time-based in the call
 * (callee waits, <Pause>, <Say>) counts these ticks, so behaviour is tied to media time, not to
 * how busy the event loop happens to be.
 */
import { MULAW_SILENCE } from '../../../src/media/mulaw.js';
import { FRAME_BYTES } from './callee-audio.js';
import type { MediaStreamClient } from './media-stream-client.js';
import { DtmfDecoder, type DecodedDigit } from './dtmf-decoder.js';

export const TICK_MS = 20;
/** After a stall the clock catches up, but never with an unbounded burst. */
const MAX_CATCH_UP_TICKS = 50;

type Waiter = { check: () => boolean; resolve: (ok: boolean) => void; deadline: number };

/** A FIFO of audio byte chunks, read 160 bytes at a time. */
class ByteQueue {
  private chunks: Uint8Array[] = [];
  private offset = 0;
  length = 0;
  push(b: Uint8Array): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.length += b.length;
  }
  /** One frame of queued audio padded with silence; null when nothing is queued. */
  takeFrame(): Uint8Array | null {
    if (this.length === 0) return null;
    const frame = new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE);
    let n = 0;
    while (n < FRAME_BYTES && this.chunks.length > 0) {
      const head = this.chunks[0];
      const k = Math.min(FRAME_BYTES - n, head.length - this.offset);
      frame.set(head.subarray(this.offset, this.offset + k), n);
      n += k;
      this.offset += k;
      if (this.offset === head.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
    this.length -= n;
    return frame;
  }
}

const SILENT_FRAME = new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE);

/**
 * One direction of the call as recorded: frames copied into 10 s blocks, so a live call holds a handful of
 * objects rather than one per 20 ms (hundreds of live calls would otherwise keep the GC busy).
 */
class Tape {
  private static readonly BLOCK = 8000 * 10;
  private readonly blocks: Uint8Array[] = [];
  private used = Tape.BLOCK;

  push(frame: Uint8Array): void {
    let off = 0;
    while (off < frame.length) {
      if (this.used === Tape.BLOCK) {
        this.blocks.push(new Uint8Array(Tape.BLOCK));
        this.used = 0;
      }
      const n = Math.min(frame.length - off, Tape.BLOCK - this.used);
      this.blocks[this.blocks.length - 1].set(frame.subarray(off, off + n), this.used);
      this.used += n;
      off += n;
    }
  }

  /** What was recorded, in order (the last block trimmed), and forgets it. */
  take(): Uint8Array[] {
    const out = this.blocks.splice(0);
    if (out.length) out[out.length - 1] = out[out.length - 1].subarray(0, this.used);
    this.used = Tape.BLOCK;
    return out;
  }
}

export class Line {
  ticks = 0;
  /** Last tick in which agent audio was played; -1 before any. */
  lastAgentPlayTick = -1;
  /** Ticks in which agent audio was played. */
  agentPlayTicks = 0;
  /**
   * The last tick that sent queued callee audio, and agentPlayTicks as of then. Read after an await they
   * still say when the callee stopped, even if the clock has caught up several ticks since.
   */
  lastCalleeAudioTick = 0;
  agentPlayTicksAtLastCalleeAudio = 0;
  /** First tick in which agent audio was played; -1 before any. */
  firstAgentPlayTick = -1;
  stream: MediaStreamClient | null = null;
  /** The callee is talking with another party: a <Dial>ed number that answered, or a started conference. */
  bridged = false;
  private readonly left = new Tape();
  private readonly right = new Tape();
  private readonly callee = new ByteQueue();
  /** Audio Twilio itself plays (e.g. <Say>) while no stream is connected. */
  private readonly system = new ByteQueue();
  private waiters = new Set<Waiter>();
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private stopped = false;
  readonly startedAtDate = new Date();
  /** Listens to what the callee hears, as a PSTN DTMF receiver at their end would. */
  private readonly dtmf: DtmfDecoder;

  constructor(onDtmf?: (d: DecodedDigit) => void) {
    this.dtmf = new DtmfDecoder(onDtmf);
  }

  start(): void {
    this.startedAt = performance.now();
    this.schedule();
  }

  get elapsedMs(): number {
    return this.ticks * TICK_MS;
  }

  get calleeQueuedBytes(): number {
    return this.callee.length;
  }

  /** True when nothing of the agent is waiting to be played. */
  get agentIdle(): boolean {
    return !this.stream || this.stream.bufferedBytes === 0;
  }

  get segmentPlayedMs(): number {
    return this.stream?.info.segmentPlayedMs ?? 0;
  }

  /** The agent is mid-utterance on the current stream. */
  get agentSegmentActive(): boolean {
    return this.stream?.segmentActive ?? false;
  }

  speak(audio: Uint8Array): void {
    this.callee.push(audio);
  }

  playSystem(audio: Uint8Array): void {
    this.system.push(audio);
  }

  /** Interrupted <Say>: Twilio stops speaking the moment the document is replaced. */
  clearSystem(): void {
    while (this.system.takeFrame() !== null);
  }

  get systemQueuedBytes(): number {
    return this.system.length;
  }

  /**
   * Resolves true when `check` holds after some tick, false once `timeoutMs` of media time has
   * passed (or the line stops). Evaluated on the clock so results do not depend on timer jitter.
   */
  waitFor(check: () => boolean, timeoutMs = Infinity): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    if (check()) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.waiters.add({ check, resolve, deadline: this.ticks + timeoutMs / TICK_MS });
    });
  }

  waitMs(ms: number): Promise<boolean> {
    const until = this.ticks + Math.round(ms / TICK_MS);
    return this.waitFor(() => this.ticks >= until);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const w of this.waiters) w.resolve(false);
    this.waiters.clear();
  }

  /** Hands over both recorded directions and forgets them: a call's audio is kept once, in its recording. */
  takeRecorded(): { left: Uint8Array[]; right: Uint8Array[] } {
    return { left: this.left.take(), right: this.right.take() };
  }

  /** Keys the callee's DTMF receiver has recognised so far. */
  get keysHeard(): number {
    return this.dtmf.digits.length;
  }

  /** The `i`-th key the callee's DTMF receiver recognised (0-based), if it has. */
  keyAt(i: number): string | undefined {
    return this.dtmf.digits[i]?.digit;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  private schedule(): void {
    if (this.stopped) return;
    const due = this.startedAt + (this.ticks + 1) * TICK_MS;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, due - performance.now()));
  }

  private onTimer(): void {
    const now = performance.now();
    let n = 0;
    // Tick n covers [n*20, (n+1)*20) ms of call time; it can only be sent once that interval is over.
    while (!this.stopped && this.startedAt + (this.ticks + 1) * TICK_MS <= now + 0.5) {
      this.tick();
      if (++n >= MAX_CATCH_UP_TICKS) {
        // Give up on the backlog rather than flooding the server: shift the epoch instead.
        this.startedAt = now - this.ticks * TICK_MS;
        break;
      }
    }
    this.schedule();
  }

  private tick(): void {
    this.ticks++;
    const queued = this.callee.takeFrame();
    const calleeFrame = queued ?? SILENT_FRAME;
    this.left.push(calleeFrame);
    let right: Uint8Array = SILENT_FRAME;
    if (this.stream && this.stream.isOpen) {
      const r = this.stream.tick(calleeFrame);
      right = r.frame;
      if (r.played > 0) {
        this.agentPlayTicks++;
        this.lastAgentPlayTick = this.ticks;
        if (this.firstAgentPlayTick < 0) this.firstAgentPlayTick = this.ticks;
      }
    } else {
      right = this.system.takeFrame() ?? SILENT_FRAME;
    }
    this.right.push(right);
    if (queued) {
      this.lastCalleeAudioTick = this.ticks;
      this.agentPlayTicksAtLastCalleeAudio = this.agentPlayTicks;
    }
    this.dtmf.pushMulaw(right);
    for (const w of this.waiters) {
      if (w.check()) {
        this.waiters.delete(w);
        w.resolve(true);
      } else if (this.ticks >= w.deadline) {
        this.waiters.delete(w);
        w.resolve(false);
      }
    }
  }
}
