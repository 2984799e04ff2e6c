/**
 * Silero's energy pre-gate: while a frame's RMS is below the floor (the callee's silences), the network
 * is not run and the audio counts as silence (scripts/profile-vad-gate.ts). A sum of squares per frame:
 * it stays on the main thread when Silero runs in the VAD worker, so silent frames never cross to it.
 *
 * The floor is the fixed level (-45 dBFS by default) or, on a line whose steady noise is louder than that
 * allows, the line's own noise floor plus NOISE_MARGIN_DB, whichever is higher. Without this, a callee on
 * a hissing line (steady noise at -43 dBFS, say) had every frame of the call run through the network, in
 * the one VAD worker that all calls share: at 200 such calls on 2 cores that was 0.7 of a core for audio
 * Silero then called silence (docs/benchmarks.md, "line noise").
 */

/**
 * After the last frame above the floor the network keeps running this long, so a dip between words or a
 * trailing quiet syllable is judged by Silero exactly as without the gate, and its own silence ends the speech.
 */
const GATE_HANGOVER_MS = 256;
/**
 * How far above the line's noise a frame must be to be fed. Speech sits 20 dB or more above the noise of a
 * usable telephone line; at under 9 dB of signal to noise Silero itself rarely calls it speech.
 */
export const NOISE_MARGIN_DB = 9;
/**
 * The noise floor follows the quietest frames: down at once, up by at most this much per second of audio.
 * Slow enough that a callee who talks for many seconds with no pause (speech dips between syllables pull
 * it back down) is not taken for noise; fast enough to find a noisy line within a few seconds.
 */
const NOISE_RISE_DB_PER_S = 1.5;
/** The tracker never goes below this (-90 dBFS): a multiplicative rise from digital silence must get anywhere. */
const NOISE_MIN_MEAN_SQ = (32768 * 10 ** (-90 / 20)) ** 2;

/** 'feed': run the network on it; 'gate-starts': the first gated frame (restart Silero); 'gated': skip it. */
export type GateVerdict = 'feed' | 'gate-starts' | 'gated';

export class SileroPreGate {
  /** Mean square (int16 units) below which a frame is gated, whatever the line's noise. */
  private readonly floorMeanSq: number;
  /** The line's noise floor (mean square), tracked from the quietest frames. */
  private noiseMeanSq: number;
  private readonly margin = 10 ** (NOISE_MARGIN_DB / 10);
  /** Audio ms fed since the last frame above the floor; starts gated (a call opens in silence). */
  private quietMs = Infinity;

  constructor(floorDbfs: number) {
    this.floorMeanSq = (32768 * 10 ** (floorDbfs / 20)) ** 2;
    // Starts where the fixed floor is the higher one: nothing changes until the line proves noisier.
    this.noiseMeanSq = Math.max(NOISE_MIN_MEAN_SQ, this.floorMeanSq / this.margin);
  }

  /** The level a frame must reach now to be fed (dBFS, RMS): the fixed floor, or the line's noise plus the margin. */
  get floorDbfs(): number {
    return 10 * Math.log10(this.threshold() / 32768 ** 2);
  }

  frame(pcm8k: Int16Array): GateVerdict {
    let sum = 0;
    for (let i = 0; i < pcm8k.length; i++) sum += pcm8k[i] * pcm8k[i];
    const meanSq = pcm8k.length > 0 ? sum / pcm8k.length : 0;
    const above = pcm8k.length > 0 && meanSq >= this.threshold();
    this.track(meanSq, pcm8k.length / 8);
    if (above) {
      this.quietMs = 0;
      return 'feed';
    }
    if (this.quietMs === Infinity) return 'gated';
    if (this.quietMs >= GATE_HANGOVER_MS) {
      this.quietMs = Infinity;
      return 'gate-starts';
    }
    this.quietMs += pcm8k.length / 8;
    return 'feed';
  }

  private threshold(): number {
    return Math.max(this.floorMeanSq, this.noiseMeanSq * this.margin);
  }

  private track(meanSq: number, ms: number): void {
    if (meanSq < this.noiseMeanSq) this.noiseMeanSq = Math.max(NOISE_MIN_MEAN_SQ, meanSq);
    else this.noiseMeanSq *= 10 ** ((NOISE_RISE_DB_PER_S * ms) / 1000 / 10);
  }
}
