/**
 * Energy voice-activity detector on the input timeline of one connection, shared by the engine
 * simulators. Deliberately dumb and
 * deterministic: tests send loud tones for speech and digital silence for pauses, so a fixed RMS threshold
 * over 20 ms windows is exact and every timestamp is a multiple of 20 ms. Works at any input rate because
 * the service accepts any `audio/pcm;rate=N`.
 */

export const WINDOW_MS = 20;

export interface VadOptions {
  /** RMS of 16-bit samples above which a window counts as speech. */
  rmsThreshold: number;
  /** Consecutive speech needed before speech is reported; filters clicks. */
  minSpeechMs: number;
}

export type VadEvent =
  /** `atMs`: start of the first speech window of the run. */
  | { kind: 'start'; atMs: number }
  /** `atMs`: the point where the silence run reached silenceMs. */
  | { kind: 'end'; atMs: number };

export class EnergyVad {
  private rate = 0;
  private pending = new Int16Array(0);
  private pendingCount = 0;
  /** Complete windows seen; the timeline counts every window, detected or not. */
  private windowIndex = 0;
  private inSpeech = false;
  private runStartWindow = -1;
  private runWindows = 0;

  constructor(private readonly opts: VadOptions) {}

  get speaking(): boolean {
    return this.inSpeech;
  }

  /** End of the last complete window, in ms. */
  get timelineMs(): number {
    return this.windowIndex * WINDOW_MS;
  }

  /** Feeds samples at `rate`; returns the transitions they caused, in timeline order. */
  push(samples: Int16Array, rate: number, silenceMs: number): VadEvent[] {
    if (rate !== this.rate) {
      // A partial window at the old rate (< 20 ms) is dropped: the timeline stays on whole windows.
      this.rate = rate;
      this.pending = new Int16Array(Math.round((rate * WINDOW_MS) / 1000));
      this.pendingCount = 0;
    }
    const events: VadEvent[] = [];
    const size = this.pending.length;
    let offset = 0;
    while (offset < samples.length) {
      const take = Math.min(size - this.pendingCount, samples.length - offset);
      this.pending.set(samples.subarray(offset, offset + take), this.pendingCount);
      this.pendingCount += take;
      offset += take;
      if (this.pendingCount === size) {
        const ev = this.step(rms(this.pending) > this.opts.rmsThreshold, silenceMs);
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

  /** Ends speech in progress (audioStreamEnd); returns the end event if there was speech. */
  flush(): VadEvent | null {
    const wasSpeaking = this.inSpeech;
    this.inSpeech = false;
    this.runWindows = 0;
    return wasSpeaking ? { kind: 'end', atMs: this.timelineMs } : null;
  }

  private step(isSpeech: boolean, silenceMs: number): VadEvent | null {
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
      return { kind: 'start', atMs: this.runStartWindow * WINDOW_MS };
    }
    if (isSpeech) {
      this.runWindows = 0;
      return null;
    }
    this.runWindows++;
    if (this.runWindows * WINDOW_MS < silenceMs) return null;
    this.inSpeech = false;
    this.runWindows = 0;
    return { kind: 'end', atMs: (this.windowIndex + 1) * WINDOW_MS };
  }
}

function rms(samples: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
  return Math.sqrt(sum / samples.length);
}
