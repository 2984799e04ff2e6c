/**
 * The callee's line for `--line-noise <dBFS>`: steady, band-limited noise around each caller frame's
 * timestamp tag, so the frames pass Silero's fixed energy floor (src/media/silero-pre-gate.ts, -45 dBFS by
 * default), while no detector hears speech (no barge-in: the traffic stays the same as with a silent
 * callee). They cross to the VAD worker until the pre-gate has learnt the line's noise (about 2 s into a
 * call at -43 dBFS), then are gated there as a real noisy line's are.
 *
 * Which level: from the pre-gate's floor (-45 dBFS) up to just under HOLD_MUSIC_FLOOR_DBFS, -43 say.
 * Above that, the product's hold detector (src/media/sound-classifier.ts, floor RMS 300) hears a second
 * of continuous sound with no syllabic movement, which is what it calls music, and after 3 s of it puts
 * the call on hold (src/bridge/hold-mode.ts): the agent is cut (a `clear`) and caller audio stops going
 * to the model, so the run would measure a call on hold, not a conversation.
 *
 * Why this shape:
 * - The tag's 20 bytes (tag.ts) are kept as written; the noise fills the frame's other 140 samples. The
 *   tag is then read exactly, its check still refuses a damaged one, and the scanner needs no tolerance.
 * - The level is the frame's RMS, tag included, i.e. what the pre-gate and the energy detector measure
 *   (their mean square over the 160 samples of a frame): each frame's noise is scaled to it, less the
 *   tag's expected share, after mu-law's steps, so every frame is within 0.1 dB of the level asked (0.35 dB
 *   at -50 dBFS, where the tag's own varying samples weigh more).
 * - Band-limited to the telephone band (high-pass 300 Hz, low-pass 3,000 Hz, 2nd-order each): a line's
 *   hiss, not a click or hum. Steady noise is not speech to Silero (test/unit/bench-bridge.test.ts checks
 *   it, and that the energy detector, whose threshold is RMS 800, about -32 dBFS, hears none at -35).
 * - Precomputed once per run, a bank of BANK_FRAMES frames shared by every call at its own offset: the
 *   load process's cost per frame is one 140-byte copy, so the harness's own noise floor does not move.
 *   Deterministic (seeded): the same audio every run.
 */
import { mulawDecodeSample, mulawEncodeSample } from '../../src/media/mulaw.js';
import { prng } from '../../test/sim/shared/prng.js';
import { TAG_BYTES, TAG_MAGIC, tagSymbol } from './tag.js';

const FRAME_BYTES = 160;
const RATE_HZ = 8000;
/** 10 s of distinct noise; calls start at different frames of it. */
const BANK_FRAMES = 500;
const NOISE_BYTES = FRAME_BYTES - TAG_BYTES;
/** Levels accepted: above -20 dBFS it is no longer a line's noise; below -80 it is silence to every detector. */
export const LINE_NOISE_MIN_DBFS = -80;
export const LINE_NOISE_MAX_DBFS = -20;
/** The hold detector's floor (SoundClassifier's default floorRms 300): steady sound above it is hold music. */
export const HOLD_MUSIC_FLOOR_DBFS = 20 * Math.log10(300 / 32768);

/** RBJ biquad coefficients (normalised by a0): [b0, b1, b2, a1, a2]. */
function biquad(kind: 'lowpass' | 'highpass', cutoffHz: number, q = Math.SQRT1_2): number[] {
  const w = (2 * Math.PI * cutoffHz) / RATE_HZ;
  const alpha = Math.sin(w) / (2 * q);
  const cos = Math.cos(w);
  const a0 = 1 + alpha;
  const b = kind === 'lowpass' ? [(1 - cos) / 2, 1 - cos, (1 - cos) / 2] : [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2];
  return [b[0] / a0, b[1] / a0, b[2] / a0, (-2 * cos) / a0, (1 - alpha) / a0];
}

/** A direct-form-I biquad that keeps its state across calls, so the noise is continuous across frames. */
function filter(c: number[]): (x: number) => number {
  let x1 = 0;
  let x2 = 0;
  let y1 = 0;
  let y2 = 0;
  return (x) => {
    const y = c[0] * x + c[1] * x1 + c[2] * x2 - c[3] * y1 - c[4] * y2;
    x2 = x1;
    x1 = x;
    y2 = y1;
    y1 = y;
    return y;
  };
}

/** The tag's expected sum of squares: its magic, and symbols that are any of their 32 codes alike. */
function expectedTagSumSq(): number {
  let magic = 0;
  for (const b of TAG_MAGIC) magic += mulawDecodeSample(b) ** 2;
  let symbols = 0;
  for (let v = 0; v < 32; v++) symbols += mulawDecodeSample(tagSymbol(v)) ** 2 / 32;
  return magic + (TAG_BYTES - TAG_MAGIC.length) * symbols;
}

export class LineNoise {
  private readonly bank: Buffer;

  constructor(
    readonly levelDbfs: number,
    seed = 18,
  ) {
    if (!(levelDbfs >= LINE_NOISE_MIN_DBFS && levelDbfs <= LINE_NOISE_MAX_DBFS)) {
      throw new Error(`--line-noise must be a level in dBFS from ${LINE_NOISE_MIN_DBFS} to ${LINE_NOISE_MAX_DBFS} (e.g. -35), not ${levelDbfs}`);
    }
    const random = prng(seed);
    const hp = filter(biquad('highpass', 300));
    const lp = filter(biquad('lowpass', 3000));
    // Let the filters settle so the first frame is as steady as the rest.
    for (let i = 0; i < RATE_HZ; i++) lp(hp(random() - 0.5));
    const targetRms = 32768 * 10 ** (levelDbfs / 20);
    // The whole frame's mean square at the level: the noise carries it less the tag's expected share.
    const noiseSumSq = Math.max(FRAME_BYTES * targetRms * targetRms - expectedTagSumSq(), NOISE_BYTES);
    this.bank = Buffer.alloc(BANK_FRAMES * NOISE_BYTES);
    const x = new Float64Array(FRAME_BYTES);
    for (let f = 0; f < BANK_FRAMES; f++) {
      // A whole frame of the continuous noise is made; the tag's samples are left out of it, as the tag
      // replaces them on the line.
      for (let i = 0; i < FRAME_BYTES; i++) x[i] = lp(hp(random() - 0.5));
      const out = this.bank.subarray(f * NOISE_BYTES, (f + 1) * NOISE_BYTES);
      let sum = 0;
      for (let i = TAG_BYTES; i < FRAME_BYTES; i++) sum += x[i] * x[i];
      let gain = Math.sqrt(noiseSumSq / sum);
      // Mu-law's steps move a quiet frame's level by up to half a dB: rescale once on what was encoded.
      for (let pass = 0; pass < 2; pass++) {
        let encoded = 0;
        for (let i = TAG_BYTES; i < FRAME_BYTES; i++) {
          out[i - TAG_BYTES] = mulawEncodeSample(Math.max(-32768, Math.min(32767, Math.round(x[i] * gain))));
          encoded += mulawDecodeSample(out[i - TAG_BYTES]) ** 2;
        }
        gain *= Math.sqrt(noiseSumSq / Math.max(encoded, 1));
      }
    }
  }

  /**
   * Fills a tagged caller frame's samples after its tag with the noise of the call's frame `seq` (from 1).
   * Each call starts at a different frame of the bank, so calls are not in step.
   */
  fill(frame: Buffer, call: number, seq: number): void {
    const f = (call * 97 + seq - 1) % BANK_FRAMES;
    this.bank.copy(frame, TAG_BYTES, f * NOISE_BYTES, (f + 1) * NOISE_BYTES);
  }

  describe(): string {
    return `band-limited noise (300-3,000 Hz) at ${this.levelDbfs} dBFS RMS per frame around the timestamp tag`;
  }
}
