/**
 * Streaming sample-rate conversion between the telephone network (G.711 mu-law, 8 kHz) and Gemini Live
 * (PCM16 LE, 16 kHz in, 24 kHz out). One instance per call per direction: each keeps the filter history,
 * so a call's audio can arrive in chunks of any size and the output is bit-identical to converting it in
 * one piece (every output sample is summed over the same samples in the same order).
 *
 * Both filters are linear-phase Kaiser-windowed sincs, designed at module load (measured through the
 * int16 streaming path by the tests: images -78 dB, aliases -72 dB, passband within -0.08..+0.002 dB):
 * - 8k -> 16k: 67-tap half-band at 16 kHz, beta 7.8. Passband 0-3.4 kHz, stopband 4.6-8 kHz (the images of
 *   tones up to 3.4 kHz land at 8000 - f >= 4.6 kHz). Polyphase: one branch is a plain copy, the other has
 *   34 symmetric taps, so 17 multiplies per input sample. Group delay 33 samples at 16 kHz = 2.06 ms.
 * - 24k -> 8k: 73-tap low-pass at 24 kHz, beta 7.0, cutoff 4.0 kHz. Passband 0-3.4 kHz, stopband from
 *   4.75 kHz (a tone at 4.75-12 kHz folds onto 0-3.25 kHz at 8 kHz). Only every third output is computed,
 *   37 multiplies each. The cutoff sits below the 4.075 kHz midpoint of the transition band because the
 *   stopband bar (-60 dB) is much tighter than the passband bar (+-0.5 dB): -0.08 dB at 3.4 kHz buys
 *   ~10 dB of stopband. Output sample m is taken at input sample 3m+2, so the added delay is 34 samples at
 *   24 kHz = 1.42 ms.
 */
import { kaiserHalfBand, kaiserLowpass } from './fir.js';
import { mulawDecode, mulawEncode } from './mulaw.js';

/** 16 kHz-rate half-band interpolator, DC gain 2 (zero-stuffing halves the level): centre tap 1. */
export const UPSAMPLE_TAPS: Float64Array = kaiserHalfBand(67, 7.8);
/** 24 kHz-rate anti-alias filter, DC gain 1. */
export const DOWNSAMPLE_TAPS: Float64Array = kaiserLowpass(73, 4000, 24000, 7.0);

const UP_HALF = (UPSAMPLE_TAPS.length - 1) / 2; // 33: 16 kHz samples of delay, and input samples of history
// Taps of the filtering branch, folded: UP_FOLD[i] multiplies x[m-i] + x[m-33+i].
const UP_FOLD = new Float64Array((UP_HALF + 1) / 2);
for (let i = 0; i < UP_FOLD.length; i++) UP_FOLD[i] = UPSAMPLE_TAPS[2 * i];
// The copy branch: output 2m+1 is x[m-16], 33 output samples late, exactly as late as the filtering branch.
const UP_COPY_LAG = (UP_HALF - 1) / 2;

const DOWN_LEN = DOWNSAMPLE_TAPS.length; // 73
const DOWN_CENTRE = (DOWN_LEN - 1) / 2; // 36
const DOWN_FOLD = DOWNSAMPLE_TAPS.slice(0, DOWN_CENTRE);
const DOWN_MID = DOWNSAMPLE_TAPS[DOWN_CENTRE];
// Output m ends at input 3m+2, so the window reaches 70 samples before the current triple.
const DOWN_HISTORY = DOWN_LEN - 3;

/** Rounds to the nearest integer and clamps to int16, so filter overshoot saturates instead of wrapping. */
function toInt16(v: number): number {
  return v >= 32767 ? 32767 : v <= -32768 ? -32768 : Math.round(v);
}

// A small typed array gets its own ArrayBuffer in V8 at ~0.6 us apiece; at 100+ results per call-second
// that is a tenth of the CPU budget. So, as Node does for Buffers, results are disjoint views of a shared
// slab: never reused or overwritten, but their .buffer is the slab, so honour byteOffset and byteLength.
const SLAB_SAMPLES = 16384;
let slab = new Int16Array(SLAB_SAMPLES);
let slabUsed = 0;

function takeInt16(n: number): Int16Array {
  if (n > SLAB_SAMPLES / 8) return new Int16Array(n);
  if (slabUsed + n > SLAB_SAMPLES) {
    slab = new Int16Array(SLAB_SAMPLES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + n);
  slabUsed += n;
  return out;
}

function grow(buf: Float64Array, needed: number, keep: number): Float64Array {
  if (buf.length >= needed) return buf;
  const next = new Float64Array(Math.max(needed, buf.length * 2));
  next.set(buf.subarray(0, keep));
  return next;
}

/** x2 interpolation, 8 kHz -> 16 kHz, for PCM16. */
export class Upsampler8kTo16k {
  /** Added delay (linear phase, so the same at every frequency). */
  readonly delayMs = (UP_HALF / 16000) * 1000;
  // [33 samples of history | current input], as doubles so the inner loop does no int->float conversion.
  private buf: Float64Array = new Float64Array(UP_HALF + 320);

  /** Returns exactly 2 * input.length samples; pass `out` to reuse a buffer. */
  process(input: Int16Array, out: Int16Array = takeInt16(input.length * 2)): Int16Array {
    const n = input.length;
    if (out.length < 2 * n) throw new RangeError(`out holds ${out.length} samples, needs ${2 * n}`);
    const buf = (this.buf = grow(this.buf, UP_HALF + n, UP_HALF));
    buf.set(input, UP_HALF);
    const c = UP_FOLD;
    const taps = c.length;
    // buf[m] is x[m-33], buf[m+33] is x[m]. Four outputs at a time: a single running sum is bound by the
    // latency of floating-point addition, four independent ones overlap (about 2x faster in V8). Each
    // output's sum is still taken in the same order as in the tail loop, so chunking can't change a bit.
    let m = 0;
    for (; m + 4 <= n; m += 4) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let i = 0; i < taps; i++) {
        const ci = c[i];
        const l = m + i;
        const r = m + UP_HALF - i;
        a0 += ci * (buf[r] + buf[l]);
        a1 += ci * (buf[r + 1] + buf[l + 1]);
        a2 += ci * (buf[r + 2] + buf[l + 2]);
        a3 += ci * (buf[r + 3] + buf[l + 3]);
      }
      const j = 2 * m;
      const copy = m + UP_HALF - UP_COPY_LAG;
      out[j] = toInt16(a0);
      out[j + 1] = buf[copy];
      out[j + 2] = toInt16(a1);
      out[j + 3] = buf[copy + 1];
      out[j + 4] = toInt16(a2);
      out[j + 5] = buf[copy + 2];
      out[j + 6] = toInt16(a3);
      out[j + 7] = buf[copy + 3];
    }
    for (; m < n; m++) {
      let acc = 0;
      for (let i = 0; i < taps; i++) acc += c[i] * (buf[m + UP_HALF - i] + buf[m + i]);
      out[2 * m] = toInt16(acc);
      out[2 * m + 1] = buf[m + UP_HALF - UP_COPY_LAG];
    }
    buf.copyWithin(0, n, n + UP_HALF);
    return out.length === 2 * n ? out : out.subarray(0, 2 * n);
  }

  /** Forgets the history, e.g. when the stream restarts after a gap. */
  reset(): void {
    this.buf.fill(0, 0, UP_HALF);
  }
}

/** /3 decimation, 24 kHz -> 8 kHz, for PCM16. Up to two input samples wait for the rest of their triple. */
export class Downsampler24kTo8k {
  /** Added delay (linear phase, so the same at every frequency). */
  readonly delayMs = ((DOWN_CENTRE - 2) / 24000) * 1000;
  // [70 samples of history | carried samples of an unfinished triple | current input]
  private buf: Float64Array = new Float64Array(DOWN_HISTORY + 960);
  private filled = DOWN_HISTORY;

  /** Samples waiting for the rest of their triple (0, 1 or 2). */
  get pending(): number {
    return this.filled - DOWN_HISTORY;
  }

  /** Returns floor((pending + input.length) / 3) samples; pass `out` to reuse a buffer. */
  process(input: Int16Array, out?: Int16Array): Int16Array {
    const total = this.filled + input.length;
    const buf = (this.buf = grow(this.buf, total, this.filled));
    buf.set(input, this.filled);
    const count = ((total - DOWN_HISTORY) / 3) | 0;
    if (out === undefined) out = takeInt16(count);
    else if (out.length < count) throw new RangeError(`out holds ${out.length} samples, needs ${count}`);
    const c = DOWN_FOLD;
    const taps = c.length;
    const mid = DOWN_MID;
    const last = DOWN_LEN - 1;
    // Four outputs at a time for the same reason as in Upsampler8kTo16k, with the same per-output order.
    let k = 0;
    for (; k + 4 <= count; k += 4) {
      const s = 3 * k;
      let a0 = mid * buf[s + DOWN_CENTRE];
      let a1 = mid * buf[s + 3 + DOWN_CENTRE];
      let a2 = mid * buf[s + 6 + DOWN_CENTRE];
      let a3 = mid * buf[s + 9 + DOWN_CENTRE];
      for (let i = 0; i < taps; i++) {
        const ci = c[i];
        const l = s + i;
        const r = s + last - i;
        a0 += ci * (buf[l] + buf[r]);
        a1 += ci * (buf[l + 3] + buf[r + 3]);
        a2 += ci * (buf[l + 6] + buf[r + 6]);
        a3 += ci * (buf[l + 9] + buf[r + 9]);
      }
      out[k] = toInt16(a0);
      out[k + 1] = toInt16(a1);
      out[k + 2] = toInt16(a2);
      out[k + 3] = toInt16(a3);
    }
    for (; k < count; k++) {
      const s = 3 * k;
      let acc = mid * buf[s + DOWN_CENTRE];
      for (let i = 0; i < taps; i++) acc += c[i] * (buf[s + i] + buf[s + last - i]);
      out[k] = toInt16(acc);
    }
    const consumed = 3 * count;
    buf.copyWithin(0, consumed, total);
    this.filled = total - consumed;
    return out.length === count ? out : out.subarray(0, count);
  }

  /** Forgets the history and any unfinished triple, e.g. after the AI is interrupted. */
  reset(): void {
    this.buf.fill(0, 0, DOWN_HISTORY);
    this.filled = DOWN_HISTORY;
  }
}

/** Caller side to Gemini: mu-law 8 kHz -> PCM16 16 kHz. One per call. */
export class TwilioToGemini {
  private readonly up = new Upsampler8kTo16k();
  private pcm8k = new Int16Array(160);
  readonly delayMs = this.up.delayMs;

  /** Returns 2 * mulaw.length samples at 16 kHz. */
  push(mulaw: Uint8Array): Int16Array {
    if (this.pcm8k.length < mulaw.length) this.pcm8k = new Int16Array(mulaw.length);
    const pcm = this.pcm8k.subarray(0, mulaw.length);
    return this.up.process(mulawDecode(mulaw, pcm));
  }

  reset(): void {
    this.up.reset();
  }
}

/** Gemini to caller side: PCM16 24 kHz -> mu-law 8 kHz. One per call. */
export class GeminiToTwilio {
  private readonly down = new Downsampler24kTo8k();
  private pcm8k = new Int16Array(320);
  readonly delayMs = this.down.delayMs;

  /** Returns floor((pending + pcm24k.length) / 3) mu-law bytes. */
  push(pcm24k: Int16Array): Uint8Array {
    const count = ((this.down.pending + pcm24k.length) / 3) | 0;
    if (this.pcm8k.length < count) this.pcm8k = new Int16Array(count);
    // allocUnsafe draws on Node's Buffer pool (see takeInt16); every byte is written by mulawEncode.
    return mulawEncode(this.down.process(pcm24k, this.pcm8k.subarray(0, count)), Buffer.allocUnsafe(count));
  }

  /** Drops buffered audio, e.g. when Gemini reports the turn was interrupted. */
  reset(): void {
    this.down.reset();
  }
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * PCM16 little-endian bytes (Gemini's base64 payload) to samples. A trailing odd byte is ignored. Always
 * copies: a Buffer from base64 is often a slice of Node's pool at an odd offset, which Int16Array can't view.
 */
export function pcm16FromBytesLE(bytes: Uint8Array): Int16Array {
  const n = bytes.length >> 1;
  const out = takeInt16(n);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer, out.byteOffset, 2 * n).set(bytes.subarray(0, 2 * n));
  } else {
    for (let i = 0; i < n; i++) out[i] = (bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16 >> 16;
  }
  return out;
}

/** Samples to PCM16 little-endian bytes, as a copy (never aliases `pcm`) in a pooled Buffer. */
export function pcm16ToBytesLE(pcm: Int16Array): Uint8Array {
  const out = Buffer.allocUnsafe(pcm.length * 2);
  if (LITTLE_ENDIAN_HOST) {
    out.set(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  } else {
    for (let i = 0; i < pcm.length; i++) {
      out[2 * i] = pcm[i] & 0xff;
      out[2 * i + 1] = (pcm[i] >> 8) & 0xff;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Naive baselines: what the seed did with Python's audioop. Kept only so the tests can show that they fail
// the quality bars and the benchmark can compare against them; do not use them for calls.

export interface NaiveUpsampleState {
  last: number;
}

/**
 * NAIVE BASELINE, like audioop.ratecv 8k->16k: linear interpolation, out = [(x[m-1]+x[m])/2, x[m]].
 * -4.2 dB at 3.4 kHz and images above 4 kHz only a few dB down.
 */
export function linearUpsample2x(input: Int16Array, state: NaiveUpsampleState = { last: 0 }): Int16Array {
  const out = takeInt16(input.length * 2);
  let last = state.last;
  for (let m = 0; m < input.length; m++) {
    const x = input[m];
    out[2 * m] = Math.trunc((last + x) / 2);
    out[2 * m + 1] = x;
    last = x;
  }
  state.last = last;
  return out;
}

export interface NaiveDecimateState {
  /** Samples of the current, unfinished triple already seen (0, 1 or 2). */
  phase: number;
  /** First sample of the unfinished triple. */
  first: number;
}

/**
 * NAIVE BASELINE, plain decimation: keeps every third sample with no filter, so everything from 4 to 12 kHz
 * folds into the telephone band at full level. Same output count rule as Downsampler24kTo8k.
 */
export function decimate3(input: Int16Array, state: NaiveDecimateState = { phase: 0, first: 0 }): Int16Array {
  const out = takeInt16(((state.phase + input.length) / 3) | 0);
  let phase = state.phase;
  let first = state.first;
  let k = 0;
  for (let i = 0; i < input.length; i++) {
    if (phase === 0) first = input[i];
    if (++phase === 3) {
      out[k++] = first;
      phase = 0;
    }
  }
  state.phase = phase;
  state.first = first;
  return out;
}
