import { mulawDecodeSample } from './mulaw.js';
import { InThreadDetector } from './voice-activity.js';

export interface EnergyVadOptions {
  /** RMS (16-bit scale) over one frame above which the frame counts as speech. */
  thresholdRms?: number;
  /** Consecutive speech frames before "started" (debounces clicks and line noise). */
  startFrames?: number;
  /** Consecutive quiet frames before "stopped". */
  stopFrames?: number;
}

/**
 * A small voice-activity detector on the caller's mu-law audio. Engines that stop reporting the
 * callee's speech once they have finished generating (Gemini) still need barge-in while their audio
 * plays at the carrier; this catches the callee talking over it.
 */
export class EnergyVad extends InThreadDetector {
  private readonly threshold2: number;
  private readonly startFrames: number;
  private readonly stopFrames: number;
  private loud = 0;
  private quiet = 0;
  speaking = false;
  readonly onsetMs: number;

  constructor(o: EnergyVadOptions = {}) {
    super();
    const t = o.thresholdRms ?? 800;
    this.threshold2 = t * t;
    this.startFrames = o.startFrames ?? 3;
    this.stopFrames = o.stopFrames ?? 15;
    this.onsetMs = this.startFrames * 20;
  }

  close(): void {
    // Nothing held.
  }

  /** Feeds one mu-law frame; returns 'started' or 'stopped' on a change, else undefined. */
  push(mulaw: Uint8Array): 'started' | 'stopped' | undefined {
    let sum = 0;
    for (let i = 0; i < mulaw.length; i++) {
      const s = mulawDecodeSample(mulaw[i]);
      sum += s * s;
    }
    return this.decide(mulaw.length > 0 && sum / mulaw.length > this.threshold2);
  }

  /** Feeds one frame already decoded to PCM16. */
  pushPcm(pcm: Int16Array): 'started' | 'stopped' | undefined {
    let sum = 0;
    for (let i = 0; i < pcm.length; i++) sum += pcm[i] * pcm[i];
    return this.decide(pcm.length > 0 && sum / pcm.length > this.threshold2);
  }

  private decide(loud: boolean): 'started' | 'stopped' | undefined {
    if (loud) {
      this.loud++;
      this.quiet = 0;
      if (!this.speaking && this.loud >= this.startFrames) {
        this.speaking = true;
        return 'started';
      }
    } else {
      this.quiet++;
      this.loud = 0;
      if (this.speaking && this.quiet >= this.stopFrames) {
        this.speaking = false;
        return 'stopped';
      }
    }
    return undefined;
  }
}
