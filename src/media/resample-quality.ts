/**
 * Measures a streaming resampler the way the quality bars are stated: by pushing generated tones through it
 * in 20 ms frames and reading levels off the output with single-bin DFTs. Shared by the unit tests (which
 * assert the bars) and the benchmark (which prints the same numbers for our filters and the naive ones).
 *
 * Every tone is a multiple of 10 Hz and every analysis window is 100 ms long, so tones, images and aliases
 * all sit exactly on DFT bins and a rectangular window leaks nothing: what is measured is the converter,
 * not the analysis.
 */

/** A converter under test: one stream's state, fed chunk by chunk. */
export type Convert = (input: Int16Array) => Int16Array;

export const TEST_AMPLITUDE = 16000;

/** Tones whose images the 8k->16k bar covers. */
export const UPSAMPLE_TONES_HZ: readonly number[] = range(100, 3400, 100);
/** Tones the +-0.5 dB passband bar covers, both directions. */
export const PASSBAND_TONES_HZ: readonly number[] = range(300, 3400, 100);
/** Input tones at 24 kHz that the 24k->8k bar says must come out 60 dB down. */
export const ALIAS_TONES_HZ: readonly number[] = [4750, ...range(4800, 12000, 100)];

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let f = from; f <= to; f += step) out.push(f);
  return out;
}

/** A rounded int16 cosine (cosine, so a tone at exactly half the sample rate is not all zeros). */
export function cosineInt16(freqHz: number, rateHz: number, length: number, amplitude = TEST_AMPLITUDE, phase = 0): Int16Array {
  const out = new Int16Array(length);
  const w = (2 * Math.PI * freqHz) / rateHz;
  for (let n = 0; n < length; n++) out[n] = Math.round(amplitude * Math.cos(w * n + phase));
  return out;
}

/** Feeds `input` through `convert` in frames of `frame` samples and concatenates the output. */
export function runFramed(convert: Convert, input: Int16Array, frame: number): Int16Array {
  const parts: Int16Array[] = [];
  let total = 0;
  for (let i = 0; i < input.length; i += frame) {
    const part = convert(input.subarray(i, Math.min(input.length, i + frame)));
    parts.push(part);
    total += part.length;
  }
  const out = new Int16Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Amplitude and phase (relative to a cosine starting at `start`) of `freqHz` over x[start, start+length). */
export function toneAt(x: ArrayLike<number>, start: number, length: number, freqHz: number, rateHz: number): { amplitude: number; phase: number } {
  const w = (2 * Math.PI * freqHz) / rateHz;
  let re = 0;
  let im = 0;
  for (let n = 0; n < length; n++) {
    const v = x[start + n];
    re += v * Math.cos(w * n);
    im -= v * Math.sin(w * n);
  }
  return { amplitude: (2 * Math.hypot(re, im)) / length, phase: Math.atan2(im, re) };
}

/**
 * Power of bin k (one-sided, so a tone of amplitude A reads A^2/2 wherever it lands) by the Goertzel
 * recursion: cheap enough to sweep every bin above 4 kHz for every tone.
 */
export function binPower(x: ArrayLike<number>, start: number, length: number, k: number): number {
  const coeff = 2 * Math.cos((2 * Math.PI * k) / length);
  let s1 = 0;
  let s2 = 0;
  for (let n = 0; n < length; n++) {
    const s0 = x[start + n] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const p = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  const edge = k === 0 || 2 * k === length;
  return ((edge ? 1 : 2) * p) / (length * length);
}

function meanSquare(x: ArrayLike<number>, start: number, length: number): number {
  let s = 0;
  for (let n = 0; n < length; n++) s += x[start + n] * x[start + n];
  return s / length;
}

const db = (ratio: number): number => 10 * Math.log10(ratio);

function wrapPi(a: number): number {
  while (a > Math.PI) a -= 2 * Math.PI;
  while (a <= -Math.PI) a += 2 * Math.PI;
  return a;
}

export interface LevelAt {
  freqHz: number;
  db: number;
}

export interface Quality {
  /** Output level of each passband tone relative to its input level. */
  passband: LevelAt[];
  minGainDb: number;
  maxGainDb: number;
  /** Upsampler: power above 4 kHz over tone power; downsampler: all output power over a 1 kHz tone's. */
  stopband: LevelAt[];
  worstStopband: LevelAt;
  /** From the phase slope between 1.0 and 1.1 kHz: the group delay, unambiguous within +-5 ms. */
  delayMs: number;
}

interface Setup {
  inRate: number;
  outRate: number;
  /** Output samples to skip while the filter fills. */
  skip: number;
  /** Output samples analysed: 100 ms, for 10 Hz bins. */
  window: number;
  frame: number;
}

function outputOf(make: () => Convert, s: Setup, freqHz: number): Int16Array {
  const inLength = Math.ceil(((s.skip + s.window) * s.inRate) / s.outRate);
  return runFramed(make(), cosineInt16(freqHz, s.inRate, inLength), s.frame);
}

function passbandOf(make: () => Convert, s: Setup): { passband: LevelAt[]; minGainDb: number; maxGainDb: number } {
  const passband = PASSBAND_TONES_HZ.map((f) => {
    const y = outputOf(make, s, f);
    return { freqHz: f, db: 20 * Math.log10(toneAt(y, s.skip, s.window, f, s.outRate).amplitude / TEST_AMPLITUDE) };
  });
  return { passband, minGainDb: Math.min(...passband.map((p) => p.db)), maxGainDb: Math.max(...passband.map((p) => p.db)) };
}

function delayOf(make: () => Convert, s: Setup): number {
  const [f1, f2] = [1000, 1100];
  const p1 = toneAt(outputOf(make, s, f1), s.skip, s.window, f1, s.outRate).phase;
  const p2 = toneAt(outputOf(make, s, f2), s.skip, s.window, f2, s.outRate).phase;
  // The window starts at output sample `skip`; a tone delayed by d has phase -2*pi*f*(skip/outRate - d)
  // relative to the window, and the cosine's own advance over `skip` samples is taken out here.
  const adv = (f: number): number => (2 * Math.PI * f * s.skip) / s.outRate;
  const dphi = wrapPi(p2 - adv(f2) - (p1 - adv(f1)));
  return (-dphi / (2 * Math.PI * (f2 - f1))) * 1000;
}

function worst(levels: LevelAt[]): LevelAt {
  return levels.reduce((a, b) => (b.db > a.db ? b : a));
}

/** 8 kHz -> 16 kHz: passband gain, and for each tone up to 3.4 kHz the output power above 4 kHz. */
export function measureUpsampler(make: () => Convert): Quality {
  const s: Setup = { inRate: 8000, outRate: 16000, skip: 320, window: 1600, frame: 160 };
  const firstHigh = Math.floor((4000 * s.window) / s.outRate) + 1;
  const stopband = UPSAMPLE_TONES_HZ.map((f) => {
    const y = outputOf(make, s, f);
    const tone = binPower(y, s.skip, s.window, Math.round((f * s.window) / s.outRate));
    let high = 0;
    for (let k = firstHigh; k <= s.window / 2; k++) high += binPower(y, s.skip, s.window, k);
    return { freqHz: f, db: db(high / tone) };
  });
  return { ...passbandOf(make, s), stopband, worstStopband: worst(stopband), delayMs: delayOf(make, s) };
}

/** 24 kHz -> 8 kHz: passband gain, and for each tone from 4.75 to 12 kHz its whole output power. */
export function measureDownsampler(make: () => Convert): Quality {
  const s: Setup = { inRate: 24000, outRate: 8000, skip: 160, window: 800, frame: 480 };
  const ref = meanSquare(outputOf(make, s, 1000), s.skip, s.window);
  const stopband = ALIAS_TONES_HZ.map((f) => ({ freqHz: f, db: db(meanSquare(outputOf(make, s, f), s.skip, s.window) / ref) }));
  return { ...passbandOf(make, s), stopband, worstStopband: worst(stopband), delayMs: delayOf(make, s) };
}
