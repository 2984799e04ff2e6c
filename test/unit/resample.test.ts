import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DOWNSAMPLE_TAPS,
  Downsampler24kTo8k,
  GeminiToTwilio,
  TwilioToGemini,
  UPSAMPLE_TAPS,
  Upsampler8kTo16k,
  decimate3,
  linearUpsample2x,
  pcm16FromBytesLE,
  pcm16ToBytesLE,
} from '../../src/media/resample.js';
import {
  ALIAS_TONES_HZ,
  PASSBAND_TONES_HZ,
  UPSAMPLE_TONES_HZ,
  binPower,
  cosineInt16,
  measureDownsampler,
  measureUpsampler,
  runFramed,
  toneAt,
  type Convert,
} from '../../src/media/resample-quality.js';
import { mulawDecode, mulawEncode } from '../../src/media/mulaw.js';
import { prng as rng } from '../sim/shared/prng.js';

const ours = {
  up: (): Convert => {
    const u = new Upsampler8kTo16k();
    return (x) => u.process(x);
  },
  down: (): Convert => {
    const d = new Downsampler24kTo8k();
    return (x) => d.process(x);
  },
};
const naive = {
  up: (): Convert => {
    const state = { last: 0 };
    return (x) => linearUpsample2x(x, state);
  },
  down: (): Convert => {
    const state = { phase: 0, first: 0 };
    return (x) => decimate3(x, state);
  },
};

const upQuality = measureUpsampler(ours.up);
const downQuality = measureDownsampler(ours.down);

/** Speech-like test signal: a few tones, a sweep and noise, peaking near full scale. */
function testSignal(length: number, rateHz: number, seed: number): Int16Array {
  const r = rng(seed);
  const out = new Int16Array(length);
  for (let n = 0; n < length; n++) {
    const t = n / rateHz;
    const v = 9000 * Math.sin(2 * Math.PI * 440 * t) + 7000 * Math.sin(2 * Math.PI * (200 + 3000 * t) * t) + 6000 * Math.sin(2 * Math.PI * 3300 * t) + 8000 * (r() - 0.5);
    out[n] = Math.max(-32768, Math.min(32767, Math.round(v)));
  }
  return out;
}

/** Feeds `input` in random chunk sizes (from 0 to maxChunk samples) and concatenates the output. */
function runRandomChunks<T extends Int16Array | Uint8Array, U extends Int16Array | Uint8Array>(
  convert: (x: T) => U,
  input: T,
  maxChunk: number,
  seed: number,
  make: (n: number) => U,
): U {
  const r = rng(seed);
  const parts: U[] = [];
  let i = 0;
  while (i < input.length) {
    const n = Math.floor(r() * (maxChunk + 1)); // 0 included: an empty chunk must be harmless
    parts.push(convert(input.subarray(i, Math.min(input.length, i + n)) as T));
    i += n;
  }
  const out = make(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p as never, at);
    at += p.length;
  }
  return out;
}

function sameSamples(a: Int16Array | Uint8Array, b: Int16Array | Uint8Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) assert.fail(`${what}: sample ${i} is ${a[i]}, expected ${b[i]}`);
}

const clampRound = (v: number): number => Math.max(-32768, Math.min(32767, Math.round(v)));

/** Reference 8k->16k: zero-stuff, then the full 16 kHz FIR, no polyphase tricks. */
function directUpsample(x: Int16Array): Float64Array {
  const y = new Float64Array(2 * x.length);
  for (let j = 0; j < y.length; j++) {
    let acc = 0;
    for (let k = 0; k < UPSAMPLE_TAPS.length; k++) {
      const i = j - k;
      if (i >= 0 && i % 2 === 0) acc += UPSAMPLE_TAPS[k] * x[i / 2];
    }
    y[j] = acc;
  }
  return y;
}

/** Reference 24k->8k: the full 24 kHz FIR at every sample, then keep the last of each triple. */
function directDownsample(x: Int16Array): Float64Array {
  const y = new Float64Array(Math.floor(x.length / 3));
  for (let m = 0; m < y.length; m++) {
    const n = 3 * m + 2;
    let acc = 0;
    for (let k = 0; k < DOWNSAMPLE_TAPS.length; k++) if (n - k >= 0) acc += DOWNSAMPLE_TAPS[k] * x[n - k];
    y[m] = acc;
  }
  return y;
}

test('measurement helpers read a known tone correctly', () => {
  const x = cosineInt16(1000, 16000, 1600, 10000, 0.5);
  const t = toneAt(x, 0, 1600, 1000, 16000);
  assert.ok(Math.abs(t.amplitude - 10000) < 1, `amplitude ${t.amplitude}`);
  assert.ok(Math.abs(t.phase - 0.5) < 1e-3, `phase ${t.phase}`);
  assert.ok(Math.abs(binPower(x, 0, 1600, 100) - 10000 ** 2 / 2) < 1e4);
  assert.ok(binPower(x, 0, 1600, 600) < 1, 'no leakage to a distant bin');
});

test('filter designs: linear phase, half-band structure, delay within 5 ms', () => {
  for (const h of [UPSAMPLE_TAPS, DOWNSAMPLE_TAPS]) {
    assert.equal(h.length % 2, 1);
    for (let i = 0; i < h.length; i++) assert.equal(h[i], h[h.length - 1 - i], `tap ${i} symmetric`);
  }
  const c = (UPSAMPLE_TAPS.length - 1) / 2;
  assert.equal(UPSAMPLE_TAPS[c], 1);
  let odd = 0;
  for (let k = 0; k < UPSAMPLE_TAPS.length; k++) {
    if (k !== c && (k - c) % 2 === 0) assert.equal(UPSAMPLE_TAPS[k], 0, `half-band zero at ${k}`);
    if ((k - c) % 2 !== 0) odd += UPSAMPLE_TAPS[k];
  }
  assert.ok(Math.abs(odd - 1) < 1e-12, 'both polyphase branches have unity DC gain');
  assert.ok(Math.abs(DOWNSAMPLE_TAPS.reduce((s, v) => s + v, 0) - 1) < 1e-12);
  assert.ok(((UPSAMPLE_TAPS.length - 1) / 2 / 16000) * 1000 <= 5);
  assert.ok(((DOWNSAMPLE_TAPS.length - 1) / 2 / 24000) * 1000 <= 5);
});

test('8k->16k: 300-3400 Hz passband flat within +-0.5 dB', () => {
  assert.equal(upQuality.passband.length, PASSBAND_TONES_HZ.length);
  for (const p of upQuality.passband) assert.ok(Math.abs(p.db) <= 0.5, `${p.freqHz} Hz: ${p.db.toFixed(3)} dB`);
});

test('8k->16k: power above 4 kHz at most -60 dB relative to any tone from 100 to 3400 Hz', () => {
  assert.deepEqual(
    upQuality.stopband.map((s) => s.freqHz),
    UPSAMPLE_TONES_HZ,
  );
  assert.ok(UPSAMPLE_TONES_HZ.includes(3400) && UPSAMPLE_TONES_HZ.includes(300));
  for (const s of upQuality.stopband) assert.ok(s.db <= -60, `${s.freqHz} Hz: ${s.db.toFixed(1)} dB above 4 kHz`);
});

test('24k->8k: 300-3400 Hz passband flat within +-0.5 dB', () => {
  for (const p of downQuality.passband) assert.ok(Math.abs(p.db) <= 0.5, `${p.freqHz} Hz: ${p.db.toFixed(3)} dB`);
});

test('24k->8k: tones from 4.75 to 12 kHz come out at most -60 dB relative to a 1 kHz tone', () => {
  assert.deepEqual(
    downQuality.stopband.map((s) => s.freqHz),
    ALIAS_TONES_HZ,
  );
  assert.ok(ALIAS_TONES_HZ[0] === 4750 && ALIAS_TONES_HZ.at(-1) === 12000);
  for (const s of downQuality.stopband) assert.ok(s.db <= -60, `${s.freqHz} Hz: ${s.db.toFixed(1)} dB`);
});

test('the naive (seed-style) baselines fail the same bars', () => {
  const up = measureUpsampler(naive.up);
  assert.ok(up.minGainDb < -0.5, `linear interpolation droop ${up.minGainDb.toFixed(2)} dB`);
  assert.ok(up.worstStopband.db > -60, `linear interpolation images ${up.worstStopband.db.toFixed(1)} dB`);
  assert.ok(Math.abs(up.passband.find((p) => p.freqHz === 3400)!.db + 4.2) < 0.1, 'the issue says -4.2 dB at 3.4 kHz');
  const down = measureDownsampler(naive.down);
  assert.ok(down.worstStopband.db > -1, `plain decimation aliases at ${down.worstStopband.db.toFixed(1)} dB`);
  assert.ok(down.stopband.filter((s) => s.db > -60).length === ALIAS_TONES_HZ.length, 'every tone folds back');
});

test('exact sample counts; the downsampler carries the remainder', () => {
  const up = new Upsampler8kTo16k();
  for (const n of [0, 1, 2, 3, 5, 160, 161, 999, 4096]) assert.equal(up.process(new Int16Array(n)).length, 2 * n);
  const down = new Downsampler24kTo8k();
  const r = rng(7);
  let fed = 0;
  let produced = 0;
  for (let i = 0; i < 500; i++) {
    const n = Math.floor(r() * 1001);
    const before = down.pending;
    const out = down.process(new Int16Array(n));
    assert.equal(out.length, Math.floor((before + n) / 3));
    fed += n;
    produced += out.length;
    assert.equal(produced, Math.floor(fed / 3));
    assert.equal(down.pending, fed % 3);
  }
  const g = new GeminiToTwilio();
  assert.equal(g.push(new Int16Array(2)).length, 0);
  assert.equal(g.push(new Int16Array(2)).length, 1);
  assert.equal(g.push(new Int16Array(480)).length, 160);
  assert.equal(new TwilioToGemini().push(new Uint8Array(160)).length, 320);
});

test('output is bit-identical for 20 ms frames, random chunks of 0-1000 samples and one piece', () => {
  const x8 = testSignal(8000 * 2, 8000, 1);
  const whole16 = new Upsampler8kTo16k().process(x8);
  sameSamples(runFramed(ours.up(), x8, 160), whole16, 'up, 20 ms frames');
  for (const seed of [2, 3, 4]) sameSamples(runRandomChunks(ours.up(), x8, 1000, seed, (n) => new Int16Array(n)), whole16, `up, random ${seed}`);
  sameSamples(runRandomChunks(ours.up(), x8, 3, 5, (n) => new Int16Array(n)), whole16, 'up, tiny chunks');

  const x24 = testSignal(24000 * 2, 24000, 6);
  const whole8 = new Downsampler24kTo8k().process(x24);
  sameSamples(runFramed(ours.down(), x24, 480), whole8, 'down, 20 ms frames');
  for (const seed of [7, 8, 9]) sameSamples(runRandomChunks(ours.down(), x24, 1000, seed, (n) => new Int16Array(n)), whole8, `down, random ${seed}`);
  sameSamples(runRandomChunks(ours.down(), x24, 5, 10, (n) => new Int16Array(n)), whole8, 'down, tiny chunks');

  const mu = mulawEncode(x8);
  const t2g = new TwilioToGemini();
  sameSamples(runRandomChunks((c: Uint8Array) => t2g.push(c), mu, 1000, 11, (n) => new Int16Array(n)), new Upsampler8kTo16k().process(mulawDecode(mu)), 'TwilioToGemini');
  const g2t = new GeminiToTwilio();
  sameSamples(runRandomChunks((c: Int16Array) => g2t.push(c), x24, 1000, 12, (n) => new Uint8Array(n)), mulawEncode(whole8), 'GeminiToTwilio');
});

test('the polyphase code matches plain convolution with the published taps', () => {
  const x8 = testSignal(4000, 8000, 13);
  const ref16 = directUpsample(x8);
  const got16 = runFramed(ours.up(), x8, 160);
  for (let j = 0; j < ref16.length; j++) assert.ok(Math.abs(got16[j] - clampRound(ref16[j])) <= 1, `up sample ${j}`);
  const x24 = testSignal(12000, 24000, 14);
  const ref8 = directDownsample(x24);
  const got8 = runFramed(ours.down(), x24, 480);
  assert.equal(got8.length, ref8.length);
  for (let m = 0; m < ref8.length; m++) assert.ok(Math.abs(got8[m] - clampRound(ref8[m])) <= 1, `down sample ${m}`);
});

test('added delay: at most 5 ms, and the measured delay matches delayMs', () => {
  const up = new Upsampler8kTo16k();
  const down = new Downsampler24kTo8k();
  assert.equal(up.delayMs, 2.0625);
  assert.ok(Math.abs(down.delayMs - 34 / 24) < 1e-12);
  assert.ok(up.delayMs <= 5 && down.delayMs <= 5);
  assert.equal(new TwilioToGemini().delayMs, up.delayMs);
  assert.equal(new GeminiToTwilio().delayMs, down.delayMs);
  // Tone phase slope (fractional).
  assert.ok(Math.abs(upQuality.delayMs - up.delayMs) < 0.005, `up measured ${upQuality.delayMs} ms`);
  assert.ok(Math.abs(downQuality.delayMs - down.delayMs) < 0.005, `down measured ${downQuality.delayMs} ms`);
  // Impulse response peak (whole output samples).
  const peak = (y: Int16Array): number => y.reduce((best, v, i) => (v > y[best] ? i : best), 0);
  const imp8 = new Int16Array(400);
  imp8[100] = 16384;
  assert.equal((peak(up.process(imp8)) / 16000 - 100 / 8000) * 1000, up.delayMs);
  const imp24 = new Int16Array(1200);
  imp24[302] = 16384; // 302 = 2 mod 3, so a filter centre lands on an output sample
  assert.ok(Math.abs((peak(down.process(imp24)) / 8000 - 302 / 24000) * 1000 - down.delayMs) < 1e-9);
});

test('full-scale square waves saturate at the rails instead of wrapping around', () => {
  const square = (n: number, period: number): Int16Array => {
    const x = new Int16Array(n);
    for (let i = 0; i < n; i++) x[i] = i % period < period / 2 ? 32767 : -32768;
    return x;
  };
  const x8 = square(2000, 16); // 500 Hz
  const ref16 = directUpsample(x8);
  const got16 = runFramed(ours.up(), x8, 160);
  const x24 = square(6000, 48); // 500 Hz
  const ref8 = directDownsample(x24);
  const got8 = runFramed(ours.down(), x24, 480);
  for (const [ref, got, what] of [
    [ref16, got16, 'up'],
    [ref8, got8, 'down'],
  ] as const) {
    let over = 0;
    for (let i = 0; i < ref.length; i++) {
      if (ref[i] > 32767) {
        over++;
        assert.equal(got[i], 32767, `${what} ${i}`);
      } else if (ref[i] < -32768) {
        over++;
        assert.equal(got[i], -32768, `${what} ${i}`);
      } else assert.ok(Math.abs(got[i] - Math.round(ref[i])) <= 1, `${what} ${i}`);
    }
    assert.ok(over > 10, `${what}: the test must actually overshoot (${over})`);
  }
});

test('reset forgets history', () => {
  const x = testSignal(800, 8000, 15);
  const up = new Upsampler8kTo16k();
  up.process(testSignal(333, 8000, 16));
  up.reset();
  sameSamples(up.process(x), new Upsampler8kTo16k().process(x), 'up');
  const x24 = testSignal(2400, 24000, 17);
  const down = new Downsampler24kTo8k();
  down.process(testSignal(334, 24000, 18));
  down.reset();
  assert.equal(down.pending, 0);
  sameSamples(down.process(x24), new Downsampler24kTo8k().process(x24), 'down');
});

test('PCM16 little-endian byte helpers', () => {
  assert.deepEqual([...pcm16FromBytesLE(new Uint8Array([0x01, 0x80, 0xff, 0x7f, 0x34, 0x12, 0x99]))], [-32767, 32767, 0x1234]);
  assert.deepEqual([...pcm16ToBytesLE(new Int16Array([-32767, 32767, 0x1234, -1]))], [0x01, 0x80, 0xff, 0x7f, 0x34, 0x12, 0xff, 0xff]);
  // A Buffer decoded from base64 can start at an odd offset in Node's pool.
  const backing = new Uint8Array(9);
  const odd = backing.subarray(1);
  odd.set([0x02, 0x00, 0xfe, 0xff, 0x00, 0x80, 0x10, 0x00]);
  assert.deepEqual([...pcm16FromBytesLE(odd)], [2, -2, -32768, 16]);
  const pcm = testSignal(500, 16000, 19);
  const bytes = pcm16ToBytesLE(pcm.subarray(1, 400));
  bytes[0] ^= 0xff;
  assert.notEqual(pcm[1], pcm16FromBytesLE(bytes)[0], 'copies, not views');
  bytes[0] ^= 0xff;
  sameSamples(pcm16FromBytesLE(Buffer.from(Buffer.from(bytes).toString('base64'), 'base64')), pcm.subarray(1, 400), 'base64 round trip');
});

test('results are independent arrays: later calls never overwrite earlier results', () => {
  const up = new Upsampler8kTo16k();
  const x = testSignal(160, 8000, 20);
  const first = up.process(x);
  const copy = Int16Array.from(first);
  for (let i = 0; i < 300; i++) up.process(x); // enough to cycle through any internal pooling
  sameSamples(first, copy, 'up');
  const down = new GeminiToTwilio();
  const y = testSignal(480, 24000, 21);
  const mu = down.push(y);
  const muCopy = Uint8Array.from(mu);
  for (let i = 0; i < 300; i++) down.push(y);
  sameSamples(mu, muCopy, 'GeminiToTwilio');
});
