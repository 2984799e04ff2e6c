import { Upsampler8kTo16k } from './resample.js';

/** Silero v5/v6 at 16 kHz: a window is 512 new samples after the previous window's last 64. */
export const SILERO_SHIFT = 512;
export const SILERO_CONTEXT = 64;
export const SILERO_WINDOW = SILERO_SHIFT + SILERO_CONTEXT;
/** The network's recurrent state per stream: 2 layers x 128. */
export const SILERO_STATE = 2 * 128;
const SAMPLE_RATE = 16000;

export interface SileroStreamOptions {
  threshold: number;
  minSpeechMs: number;
  minSilenceMs: number;
  /** Speech longer than this is held to a stricter threshold (0.9) and ends after 100 ms of silence. */
  maxSpeechMs: number;
}

/**
 * One call's Silero VAD without the network: the windowing, the recurrent state and the decisions, so
 * that one ONNX Runtime session can run the windows of every call in one batch (vad-worker/). The
 * decisions are sherpa-onnx's VoiceActivityDetector over its SileroVadModel (v5/v6), which the in-thread
 * detector (silero-vad.ts) runs: a window is speech once the probability has stayed above the threshold
 * for `minSpeechMs`, stays speech while it is above threshold - 0.15, and ends after `minSilenceMs` below
 * the threshold; the detector says "speaking" after each frame in which a window was speech, and keeps
 * what it said across frames that complete no window. test/unit/silero-stream.test.ts checks this port
 * frame for frame against sherpa-onnx on recorded speech.
 *
 * A 20 ms frame at 8 kHz is 320 samples at 16 kHz, under one window's 512: each frame completes at most
 * one window, so `push` returns the window to run, or undefined, and `heard` takes its probability.
 */
export class SileroStream {
  /** The network's state for this stream, read and written by the runner. */
  readonly state = new Float32Array(SILERO_STATE);
  speaking = false;
  private readonly up = new Upsampler8kTo16k();
  private pcm16k = new Int16Array(320);
  /** Samples not yet consumed by a window (the next window's context and beginning). */
  private pending = new Float32Array(SILERO_WINDOW + 640);
  private pendingN = 0;
  // The decision state (sherpa's SileroVadModel).
  private triggered = false;
  private sample = 0;
  private tempStart = 0;
  private tempEnd = 0;
  /** Samples the detector holds (sherpa's buffer: the current speech, or a short tail before it). */
  private held = 0;
  private readonly minSpeech: number;
  private readonly minSilence: number;
  private readonly maxSpeech: number;

  constructor(private readonly o: SileroStreamOptions) {
    this.minSpeech = Math.trunc((SAMPLE_RATE * o.minSpeechMs) / 1000);
    this.minSilence = Math.trunc((SAMPLE_RATE * o.minSilenceMs) / 1000);
    this.maxSpeech = (SAMPLE_RATE * o.maxSpeechMs) / 1000;
  }

  /**
   * Takes one 8 kHz frame; returns the window it completes (a new array, handed to the runner), if any.
   * The window's decision is made by `heard` once its probability is known, before the next window's.
   */
  push(pcm8k: Int16Array): Float32Array | undefined {
    const n = pcm8k.length * 2;
    if (this.pcm16k.length < n) this.pcm16k = new Int16Array(n);
    const up = this.up.process(pcm8k, this.pcm16k.subarray(0, n));
    if (this.pendingN + n > this.pending.length) {
      const bigger = new Float32Array(this.pendingN + n + SILERO_WINDOW);
      bigger.set(this.pending.subarray(0, this.pendingN));
      this.pending = bigger;
    }
    for (let i = 0; i < n; i++) this.pending[this.pendingN + i] = up[i]! / 32768;
    this.pendingN += n;
    if (this.pendingN < SILERO_WINDOW) return undefined;
    const window = this.pending.slice(0, SILERO_WINDOW);
    this.pending.copyWithin(0, SILERO_SHIFT, this.pendingN);
    this.pendingN -= SILERO_SHIFT;
    return window;
  }

  /** The probability of the window `push` returned: updates the decision; returns the change, if any. */
  heard(probability: number): 'started' | 'stopped' | undefined {
    // As sherpa: the stricter settings apply once the speech held exceeds the longest allowed.
    const long = this.held > this.maxSpeech;
    const threshold = long ? 0.9 : this.o.threshold;
    const minSilence = long ? Math.trunc(SAMPLE_RATE * 0.1) : this.minSilence;
    this.held += SILERO_SHIFT;
    const speech = this.decide(probability, threshold, minSilence);
    if (!speech) {
      // Speech ended: the detector keeps the silence after it; no speech: a short tail for the next onset.
      this.held = this.speaking ? minSilence : Math.min(this.held, Math.max(0, 2 * SILERO_WINDOW + this.minSpeech));
    }
    if (speech === this.speaking) return undefined;
    this.speaking = speech;
    return speech ? 'started' : 'stopped';
  }

  /** The pre-gate closed: start clean when audio returns. Returns 'stopped' if it was speaking. */
  restart(): 'stopped' | undefined {
    this.state.fill(0);
    this.up.reset();
    this.pendingN = 0;
    this.triggered = false;
    this.sample = 0;
    this.tempStart = 0;
    this.tempEnd = 0;
    this.held = 0;
    if (!this.speaking) return undefined;
    this.speaking = false;
    return 'stopped';
  }

  private decide(p: number, threshold: number, minSilence: number): boolean {
    this.sample += SILERO_SHIFT;
    if (p > threshold && this.tempEnd !== 0) this.tempEnd = 0;
    if (p > threshold && this.tempStart === 0) {
      // Speech may be starting: it must last minSpeech first.
      this.tempStart = this.sample;
      return false;
    }
    if (p > threshold && this.tempStart !== 0 && !this.triggered) {
      if (this.sample - this.tempStart < this.minSpeech) return false;
      this.triggered = true;
      return true;
    }
    if (p < threshold && !this.triggered) {
      this.tempStart = 0;
      this.tempEnd = 0;
      return false;
    }
    if (p > threshold - 0.15 && this.triggered) return true;
    if (p < threshold && this.triggered) {
      if (this.tempEnd === 0) this.tempEnd = this.sample;
      if (this.sample - this.tempEnd < minSilence) return true;
      this.tempStart = 0;
      this.tempEnd = 0;
      this.triggered = false;
      return false;
    }
    return false;
  }
}
