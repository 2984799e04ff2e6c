/**
 * Energy voice-activity detector on the 8 kHz input timeline. Deliberately dumb and deterministic: tests
 * generate loud tones for "speech" and digital silence for pauses, so a fixed RMS threshold over 20 ms
 * windows is exact, and every timestamp is a multiple of the window length.
 */

export const SAMPLE_RATE = 8000;
const WINDOW_MS = 20;
const WINDOW_SAMPLES = (SAMPLE_RATE * WINDOW_MS) / 1000;

export interface VadOptions {
  /** RMS (of 16-bit samples) above which a window counts as speech. */
  rmsThreshold: number;
  /** Consecutive speech needed before speech is reported; filters clicks. */
  minSpeechMs: number;
}

export interface VadParams {
  silenceDurationMs: number;
}

export type VadEvent =
  /** `onsetMs`: start of the first speech window of the run (before prefix padding is applied). */
  | { kind: 'speech_started'; onsetMs: number }
  /** `endMs`: the point where the silence run reached silenceDurationMs (what the real API reports). */
  | { kind: 'speech_stopped'; endMs: number };

export class EnergyVad {
  private pending = new Int16Array(WINDOW_SAMPLES);
  private pendingCount = 0;
  /** Window index of the next complete window; the timeline counts every appended sample, detected or not. */
  private windowIndex = 0;
  private inSpeech = false;
  private runStartWindow = -1;
  private runWindows = 0;

  constructor(private readonly opts: VadOptions) {}

  get speaking(): boolean {
    return this.inSpeech;
  }

  /** Feeds samples; returns the transitions they caused, in timeline order. */
  push(samples: Int16Array, params: VadParams): VadEvent[] {
    const events: VadEvent[] = [];
    let offset = 0;
    while (offset < samples.length) {
      const take = Math.min(WINDOW_SAMPLES - this.pendingCount, samples.length - offset);
      this.pending.set(samples.subarray(offset, offset + take), this.pendingCount);
      this.pendingCount += take;
      offset += take;
      if (this.pendingCount === WINDOW_SAMPLES) {
        const ev = this.step(rms(this.pending) > this.opts.rmsThreshold, params);
        if (ev) events.push(ev);
        this.pendingCount = 0;
        this.windowIndex++;
      }
    }
    return events;
  }

  /** Forgets any speech in progress (buffer cleared or committed by hand) without moving the timeline. */
  reset(): void {
    this.inSpeech = false;
    this.runStartWindow = -1;
    this.runWindows = 0;
  }

  private step(isSpeech: boolean, params: VadParams): VadEvent | null {
    if (!this.inSpeech) {
      if (!isSpeech) {
        this.runWindows = 0;
        return null;
      }
      if (this.runWindows === 0) this.runStartWindow = this.windowIndex;
      this.runWindows++;
      if (this.runWindows * WINDOW_MS < this.opts.minSpeechMs) return null;
      this.inSpeech = true;
      this.runWindows = 0;
      return { kind: 'speech_started', onsetMs: this.runStartWindow * WINDOW_MS };
    }
    if (isSpeech) {
      this.runWindows = 0;
      return null;
    }
    this.runWindows++;
    if (this.runWindows * WINDOW_MS < params.silenceDurationMs) return null;
    this.inSpeech = false;
    this.runWindows = 0;
    return { kind: 'speech_stopped', endMs: (this.windowIndex + 1) * WINDOW_MS };
  }
}

function rms(samples: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
  return Math.sqrt(sum / samples.length);
}
