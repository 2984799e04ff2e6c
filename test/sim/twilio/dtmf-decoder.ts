/**
 * A carrier-side DTMF receiver: Goertzel filters at the eight Q.23 frequencies over blocks of 102
 * samples (12.75 ms, as in spandsp's receiver), fed with the mu-law audio the line plays to the callee.
 * Each block is a hit when, as Q.24 receivers check:
 * - the strongest low-group and high-group tones are each above MIN_DBM0,
 * - the twist is within limits (high may be up to 8 dB above low, low up to 4 dB above high),
 * - every other key frequency is at least OTHER_MARGIN_DB below the strongest of its group,
 * - the two tones carry most of the block's energy (speech and noise spread theirs).
 * A key is reported when its run of hits ends, if the run is long enough (MIN_BLOCKS), so a 20 ms blip is
 * rejected while a 40 ms tone is accepted; times are to the block (±13 ms).
 * Blocks are counted from the stream's first sample, so how the audio was chunked makes no difference.
 */
import { mulawDecodeSample } from '../../../src/media/mulaw.js';
import { DBM0_PEAK_16BIT, DTMF_HIGH_HZ, DTMF_LOW_HZ, dtmfKey } from '../../../src/media/dtmf.js';

export interface DecodedDigit {
  digit: string;
  /** From the first audio fed to the decoder, in ms. */
  startMs: number;
  endMs: number;
}

const RATE = 8000;
const N = 102;
const BLOCK_MS = (N * 1000) / RATE;
/**
 * Receivers are specified for tones of at least 45-50 ms (H3C/3Com guides citing Q.24: 45 ms; MultiTech,
 * Bellcore-style: 50 ms); shorter blips (speech, clicks) are theirs to reject. This one accepts a 40 ms
 * tone, which (320 samples) always holds two whole blocks whatever its alignment, and rejects a 23 ms one
 * (184 samples), which never does. So: at least two whole blocks.
 */
const MIN_BLOCKS = 1.9;
const MIN_DBM0 = -36;
const MAX_NORMAL_TWIST_DB = 8;
const MAX_REVERSE_TWIST_DB = 4;
const OTHER_MARGIN_DB = 10;
/** Share of the block's energy the two tones must hold. */
const MIN_TONE_SHARE = 0.7;
/** One bad block inside a tone (a noise burst) does not end it; two do (that is a 25 ms gap). */
const MAX_DROPOUT_BLOCKS = 1;

const FREQS = [...DTMF_LOW_HZ, ...DTMF_HIGH_HZ];
const COEF = FREQS.map((f) => 2 * Math.cos((2 * Math.PI * f) / RATE));
const MIN_AMP = DBM0_PEAK_16BIT * 10 ** (MIN_DBM0 / 20);

interface Run {
  digit: string;
  startBlock: number;
  lastHitBlock: number;
  peakAmp: number;
  amps: number[];
}

export class DtmfDecoder {
  readonly digits: DecodedDigit[] = [];
  private readonly block = new Float64Array(N);
  private filled = 0;
  private blockIndex = 0;
  private run: Run | null = null;

  constructor(private readonly onDigit?: (d: DecodedDigit) => void) {}

  pushMulaw(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) this.pushSample(mulawDecodeSample(bytes[i]));
  }

  pushPcm(samples: ArrayLike<number>): void {
    for (let i = 0; i < samples.length; i++) this.pushSample(samples[i]);
  }

  /** Ends the input: a tone still running is judged on what was heard. */
  flush(): void {
    this.endRun();
  }

  private pushSample(s: number): void {
    this.block[this.filled++] = s;
    if (this.filled < N) return;
    this.filled = 0;
    this.analyse();
    this.blockIndex++;
  }

  private analyse(): void {
    const hit = this.classify();
    const run = this.run;
    if (run && hit && hit.digit === run.digit) {
      run.lastHitBlock = this.blockIndex;
      run.amps.push(hit.amp);
      run.peakAmp = Math.max(run.peakAmp, hit.amp);
    } else if (run && (hit || this.blockIndex - run.lastHitBlock > MAX_DROPOUT_BLOCKS)) {
      this.endRun();
    }
    if (hit && !this.run) this.run = { digit: hit.digit, startBlock: this.blockIndex, lastHitBlock: this.blockIndex, peakAmp: hit.amp, amps: [hit.amp] };
  }

  private endRun(): void {
    const run = this.run;
    this.run = null;
    if (!run) return;
    // Only blocks wholly inside a tone pass the checks (a partly covered block is weak and smeared), and
    // a block whose level is well below the run's peak covered only part of it.
    const blocks = run.amps.reduce((a, amp) => a + Math.min(1, amp / run.peakAmp), 0);
    if (blocks < MIN_BLOCKS) return;
    const d = { digit: run.digit, startMs: Math.round(run.startBlock * BLOCK_MS), endMs: Math.round((run.lastHitBlock + 1) * BLOCK_MS) };
    this.digits.push(d);
    this.onDigit?.(d);
  }

  /** The key this block holds, with the mean amplitude of its two tones; null for no valid key. */
  private classify(): { digit: string; amp: number } | null {
    const amps = COEF.map((c) => goertzelAmp(this.block, c));
    const low = argmax(amps, 0, 4);
    const high = argmax(amps, 4, 8);
    const aLow = amps[low];
    const aHigh = amps[high];
    if (aLow < MIN_AMP || aHigh < MIN_AMP) return null;
    const twist = 20 * Math.log10(aHigh / aLow);
    if (twist > MAX_NORMAL_TWIST_DB || -twist > MAX_REVERSE_TWIST_DB) return null;
    const margin = 10 ** (-OTHER_MARGIN_DB / 20);
    for (let i = 0; i < 8; i++) {
      if (i === low || i === high) continue;
      if (amps[i] > (i < 4 ? aLow : aHigh) * margin) return null;
    }
    let energy = 0;
    for (let i = 0; i < N; i++) energy += this.block[i] * this.block[i];
    const toneEnergy = ((aLow * aLow + aHigh * aHigh) / 2) * N;
    if (toneEnergy < MIN_TONE_SHARE * energy) return null;
    return { digit: dtmfKey(low, high - 4), amp: (aLow + aHigh) / 2 };
  }
}

/** Amplitude of the component at the filter's frequency (2|X|/N). */
function goertzelAmp(x: Float64Array, coef: number): number {
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < x.length; i++) {
    const s0 = x[i] + coef * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coef * s1 * s2;
  return (2 * Math.sqrt(Math.max(0, power))) / x.length;
}

function argmax(a: number[], from: number, to: number): number {
  let best = from;
  for (let i = from + 1; i < to; i++) if (a[i] > a[best]) best = i;
  return best;
}

/** Decodes a whole buffer of mu-law audio. */
export function decodeDtmf(mulaw: Uint8Array): DecodedDigit[] {
  const d = new DtmfDecoder();
  d.pushMulaw(mulaw);
  d.flush();
  return d.digits;
}
