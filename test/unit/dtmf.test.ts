/**
 * The in-band DTMF generator (src/media/dtmf.ts) against the carrier-side Goertzel receiver of the
 * Twilio simulator: every key, pauses, tones right after speech, chunk edges, noise, and the checks a
 * receiver makes (duration, twist, stray frequencies, levels).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dtmfAudio, dtmfFrequencies, DBM0_PEAK_16BIT } from '../../src/media/dtmf.js';
import { mulawDecode, mulawEncode } from '../../src/media/mulaw.js';
import { DtmfDecoder, decodeDtmf } from '../sim/twilio/dtmf-decoder.js';
import { speech } from '../sim/twilio/callee-audio.js';
import { prng } from '../sim/shared/prng.js';

const KEYS = '0123456789*#ABCD';

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}
const silence = (ms: number) => new Uint8Array(ms * 8).fill(0xff);

/** Two sines at given levels (dBm0), `ms` long, as mu-law; for receiver checks. */
function pair(lowHz: number, highHz: number, ms: number, lowDbm0 = -11, highDbm0 = -9): Uint8Array {
  const n = ms * 8;
  const pcm = new Int16Array(n);
  const a = DBM0_PEAK_16BIT * 10 ** (lowDbm0 / 20);
  const b = DBM0_PEAK_16BIT * 10 ** (highDbm0 / 20);
  for (let i = 0; i < n; i++) pcm[i] = Math.round(a * Math.sin((2 * Math.PI * lowHz * i) / 8000) + b * Math.sin((2 * Math.PI * highHz * i) / 8000));
  return mulawEncode(pcm);
}

test('every key decodes to itself, once, where the generator put it', () => {
  for (const k of KEYS) {
    const { audio, segments } = dtmfAudio(k);
    const got = decodeDtmf(concat(silence(30), audio));
    assert.deepEqual(got.map((d) => d.digit), [k], `key ${k}`);
    assert.ok(Math.abs(got[0].startMs - (30 + segments[0].startMs)) <= 15 && Math.abs(got[0].endMs - (30 + segments[0].endMs)) <= 15, `key ${k} timing ${JSON.stringify(got[0])}`);
  }
  assert.equal(decodeDtmf(dtmfAudio(KEYS).audio).map((d) => d.digit).join(''), KEYS);
});

test('timing and level: 100 ms tone, 100 ms gap, 500 ms per w; -11/-9 dBm0 tones', () => {
  const { audio, segments, durationMs } = dtmfAudio('1w2');
  assert.deepEqual(segments, [
    { key: '1', startMs: 0, endMs: 100 },
    { key: 'w', startMs: 200, endMs: 700 },
    { key: '2', startMs: 700, endMs: 800 },
  ]);
  assert.equal(durationMs, 900);
  assert.equal(audio.length, 900 * 8);
  // RMS of the steady part of one tone: two sines at -11 and -9 dBm0 sum to about -6.9 dBm0.
  const pcm = mulawDecode(audio.subarray(80, 720));
  const rms = Math.sqrt(pcm.reduce((a, s) => a + s * s, 0) / pcm.length);
  const dbm0 = 20 * Math.log10(rms / (DBM0_PEAK_16BIT / Math.SQRT2));
  assert.ok(Math.abs(dbm0 - -6.88) < 0.3, `level ${dbm0.toFixed(2)} dBm0`);
  assert.ok(pcm.every((s) => Math.abs(s) < 32000), 'no clipping');
  assert.ok(audio.subarray(800, 1600).every((b) => b === 0xff), 'gaps are exact mu-law silence');
  assert.throws(() => dtmfAudio('1x'), /invalid DTMF sequence/);
});

test('a sequence with w: both keys, about half a second more apart than two plain keys', () => {
  const got = decodeDtmf(dtmfAudio('1w2').audio);
  assert.deepEqual(got.map((d) => d.digit), ['1', '2']);
  const gap = got[1].startMs - got[0].endMs;
  assert.ok(gap >= 570 && gap <= 630, `gap ${gap} ms (100 ms gap + 500 ms pause)`);
  // Repeated keys stay separate presses.
  assert.deepEqual(decodeDtmf(dtmfAudio('55').audio).map((d) => d.digit), ['5', '5']);
});

test("tones right after the agent's own speech decode, and the speech decodes as nothing", () => {
  const talk = speech("I'll press one for billing now, thank you for waiting.");
  assert.deepEqual(decodeDtmf(talk), [], 'speech is not a key');
  const got = decodeDtmf(concat(talk, dtmfAudio('1#').audio, talk));
  assert.deepEqual(got.map((d) => d.digit), ['1', '#']);
  assert.ok(Math.abs(got[0].startMs - talk.length / 8) <= 15);
});

test('chunking of any size gives the same digits at the same times', () => {
  const audio = concat(silence(7), dtmfAudio('3w*9D').audio);
  const whole = decodeDtmf(audio);
  assert.equal(whole.map((d) => d.digit).join(''), '3*9D');
  const rnd = prng(12345);
  for (const sizes of [[1], [160], [17, 101, 3], [999]]) {
    for (let trial = 0; trial < 3; trial++) {
      const dec = new DtmfDecoder();
      let o = 0;
      let i = 0;
      while (o < audio.length) {
        const n = trial === 0 ? sizes[i++ % sizes.length] : 1 + Math.floor(rnd() * 400);
        dec.pushMulaw(audio.subarray(o, o + n));
        o += n;
      }
      dec.flush();
      assert.deepEqual(dec.digits, whole, `chunks ${sizes} trial ${trial}`);
    }
  }
});

/** The tones of `digits` with white noise at `noiseDbm0` added, and the noise alone. */
function withNoise(digits: string, noiseDbm0: number): { noisy: Uint8Array; noise: Uint8Array } {
  const pcm = mulawDecode(dtmfAudio(digits).audio);
  const rnd = prng(7);
  const noiseRms = (DBM0_PEAK_16BIT / Math.SQRT2) * 10 ** (noiseDbm0 / 20);
  const noisy = new Int16Array(pcm.length);
  const noise = new Int16Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) {
    // Sum of uniforms: close to Gaussian, RMS = noiseRms.
    const g = (rnd() + rnd() + rnd() + rnd() - 2) * Math.sqrt(3) * noiseRms;
    noisy[i] = Math.max(-32768, Math.min(32767, Math.round(pcm[i] + g)));
    noise[i] = Math.round(g);
  }
  return { noisy: mulawEncode(noisy), noise: mulawEncode(noise) };
}

test('line noise 20 dB below the tones still decodes; noise alone, or drowning the tones, decodes as nothing', () => {
  const quiet = withNoise('2580', -27);
  assert.deepEqual(decodeDtmf(quiet.noisy).map((d) => d.digit), ['2', '5', '8', '0']);
  assert.deepEqual(decodeDtmf(quiet.noise), []);
  // Noise about as loud as the tones: the two frequencies no longer hold most of the energy.
  assert.deepEqual(decodeDtmf(withNoise('2580', -8).noisy), []);
});

test('receiver checks: too short, bad twist, a stray third tone, too quiet, a single tone are rejected', () => {
  const f = dtmfFrequencies('5')!;
  assert.deepEqual(decodeDtmf(concat(silence(20), dtmfAudio('5', { toneMs: 20 }).audio)), [], '20 ms tone');
  assert.deepEqual(decodeDtmf(concat(silence(20), dtmfAudio('5', { toneMs: 23 }).audio)), [], '23 ms tone');
  for (const lead of [0, 3, 7, 11]) assert.deepEqual(decodeDtmf(concat(silence(lead), dtmfAudio('5', { toneMs: 40 }).audio)).map((d) => d.digit), ['5'], `40 ms tone at +${lead} ms`);
  assert.deepEqual(decodeDtmf(dtmfAudio('5', { toneMs: 65, gapMs: 65 }).audio).map((d) => d.digit), ['5'], '65 ms tone');
  assert.deepEqual(decodeDtmf(pair(f.low, f.high, 100, -20, -9)), [], '11 dB normal twist');
  assert.deepEqual(decodeDtmf(pair(f.low, f.high, 100, -9, -15)), [], '6 dB reverse twist');
  assert.deepEqual(decodeDtmf(pair(f.low, f.high, 100, -9, -9)).map((d) => d.digit), ['5'], 'no twist');
  assert.deepEqual(decodeDtmf(pair(f.low, f.high, 100, -45, -43)), [], 'below the receiver threshold');
  assert.deepEqual(decodeDtmf(pair(f.low, f.low, 100, -11, -200)), [], 'a single tone');
  // A third key frequency (another row) as loud as the key's own: not a valid key.
  const third = pair(852, 852, 100, -11, -200);
  const two = mulawDecode(pair(f.low, f.high, 100));
  const mixed = mulawDecode(third).map((s, i) => s + two[i]);
  assert.deepEqual(decodeDtmf(mulawEncode(Int16Array.from(mixed))), [], 'stray 852 Hz');
});
