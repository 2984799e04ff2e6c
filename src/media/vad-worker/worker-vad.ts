import { EnergyVad } from '../energy-vad.js';
import { SileroPreGate } from '../silero-pre-gate.js';
import { sileroOnsetMs, type SileroVadOptions } from '../silero-vad.js';
import type { FrameHeard, VoiceActivityChange, VoiceActivityDetector } from '../voice-activity.js';
import type { VadWorkerClient, WorkerVadPeer } from './client.js';

interface Pending {
  seq: number;
  heard: FrameHeard;
  /** The batch whose answer settles this frame. */
  batch: number;
}

/**
 * One call's Silero detector, run in the VAD worker. The pre-gate runs here (a sum of squares): frames
 * below the floor never cross, and the gate's closing crosses as a restart. Each frame is heard, in order,
 * when the worker has answered the batch it went in (or, if nothing of this call is in flight, at once
 * for a gated frame); `heard` gets the change found at that frame, so the consumers count the same frames
 * as with an in-thread detector, a fraction of a millisecond later.
 *
 * If the worker dies, or cannot open the detector, this call's VAD falls back to the energy detector
 * (the barge-in detector before Silero): frames in flight are heard as silence, the next ones by energy.
 */
export class WorkerVad implements VoiceActivityDetector, WorkerVadPeer {
  speaking = false;
  private readonly sileroOnsetMs: number;
  private readonly gate?: SileroPreGate;
  private readonly id: number;
  private seq = 0;
  private pending: Pending[] = [];
  private drained: Array<() => void> = [];
  private closed = false;
  /** Set once the worker is lost: the rest of the call is heard by energy. */
  private fallback?: EnergyVad;
  /** Why the fallback was taken (the bridge records it). */
  lostReason?: string;

  constructor(
    private readonly client: VadWorkerClient,
    o: SileroVadOptions,
    private readonly onLost?: (reason: string) => void,
  ) {
    this.sileroOnsetMs = sileroOnsetMs(o);
    if (o.floorDbfs !== undefined) this.gate = new SileroPreGate(o.floorDbfs);
    this.id = client.open(this, { ...o, floorDbfs: undefined });
  }

  get onsetMs(): number {
    return this.fallback ? this.fallback.onsetMs : this.sileroOnsetMs;
  }

  pushFrame(pcm8k: Int16Array, heard: FrameHeard): void {
    if (this.closed) return;
    if (this.fallback) {
      const change = this.fallback.pushPcm(pcm8k);
      this.speaking = this.fallback.speaking;
      return heard(change, this.speaking);
    }
    const seq = ++this.seq;
    const verdict = this.gate?.frame(pcm8k) ?? 'feed';
    let batch: number | undefined;
    if (verdict === 'feed') batch = this.client.frame(this.id, seq, pcm8k);
    else if (verdict === 'gate-starts') batch = this.client.restart(this.id, seq);
    else batch = this.pending.at(-1)?.batch;
    // A gated frame with nothing in flight before it: silence, at once (the call's silences cost no message).
    if (batch === undefined) return heard(undefined, this.speaking);
    this.pending.push({ seq, heard, batch });
  }

  answered(batch: number, changes: readonly number[]): void {
    if (this.pending.length === 0 || this.pending[0].batch > batch) return;
    let c = 0;
    while (this.pending.length > 0 && this.pending[0].batch <= batch && !this.closed) {
      const p = this.pending.shift()!;
      let change: VoiceActivityChange | undefined;
      // Changes come in frame order; a frame has at most one.
      if (c < changes.length && changes[c] === p.seq) {
        change = changes[c + 1] === 1 ? 'started' : 'stopped';
        this.speaking = change === 'started';
        c += 2;
      }
      p.heard(change, this.speaking);
    }
    if (this.pending.length === 0) this.settle();
  }

  lost(reason: string): void {
    if (this.fallback || this.closed) return;
    this.lostReason = reason;
    this.fallback = new EnergyVad();
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) {
      const change = this.speaking ? 'stopped' : undefined;
      this.speaking = false;
      p.heard(change, false);
    }
    this.settle();
    this.onLost?.(reason);
  }

  drain(): Promise<void> {
    if (this.pending.length === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    this.client.close(this.id);
    this.settle();
  }

  private settle(): void {
    const d = this.drained;
    this.drained = [];
    for (const r of d) r();
  }
}
