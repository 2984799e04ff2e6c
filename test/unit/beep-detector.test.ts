import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BeepDetector, analyseFrame, type BeepEvent } from '../../src/media/beep-detector.js';
import { mulawDecode, mulawEncode } from '../../src/media/mulaw.js';
import { dtmfAudio } from '../../src/media/dtmf.js';
import { speechPcm } from '../sim/twilio/callee-audio.js';
import { prng } from '../sim/shared/prng.js';
import { concatPcm as concat } from '../sim/pcm.js';

const RATE = 8000;

function tone(hz: number, ms: number, amplitude = 0.3, phase = 0): Int16Array {
  const n = (ms * RATE) / 1000;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amplitude * 32767 * Math.sin(phase + (2 * Math.PI * hz * i) / RATE));
  return out;
}

function silence(ms: number): Int16Array {
  return new Int16Array((ms * RATE) / 1000);
}

function noise(ms: number, rms: number, seed = 7): Int16Array {
  const rnd = prng(seed);
  const n = (ms * RATE) / 1000;
  const out = new Int16Array(n);
  // Uniform noise in [-a, a] has RMS a / sqrt(3).
  for (let i = 0; i < n; i++) out[i] = Math.round((rnd() * 2 - 1) * rms * Math.sqrt(3));
  return out;
}

/** As the bridge hears it: through G.711 mu-law, in 20 ms frames. Returns each beep with the frame it was reported on. */
function run(pcm: Int16Array, d = new BeepDetector()): Array<BeepEvent & { atMs: number }> {
  const line = mulawDecode(mulawEncode(pcm));
  const out: Array<BeepEvent & { atMs: number }> = [];
  for (let i = 0; i + 160 <= line.length; i += 160) {
    const e = d.push(line.subarray(i, i + 160));
    if (e) out.push({ ...e, atMs: (i / 160) * 20 });
  }
  return out;
}

test('a steady tone anywhere from 400 to 2,000 Hz is a beep, reported when it ends', () => {
  for (const hz of [400, 440, 850, 1000, 1012, 1400, 1950, 2000]) {
    const beeps = run(concat(silence(200), tone(hz, 400), silence(300)));
    assert.equal(beeps.length, 1, `${hz} Hz`);
    assert.ok(Math.abs(beeps[0].hz - hz) <= 25, `${hz} Hz detected as ${beeps[0].hz}`);
    assert.ok(beeps[0].durationMs >= 380 && beeps[0].durationMs <= 420, `${hz} Hz lasted ${beeps[0].durationMs} ms`);
    // The tone ends at 600 ms; one quiet frame is forgiven (a dropout), so it is reported on the second.
    assert.equal(beeps[0].atMs, 620, `${hz} Hz reported at ${beeps[0].atMs} ms`);
  }
});

test('quiet and loud beeps are found; a faint tone under the floor is not', () => {
  assert.equal(run(concat(tone(1000, 300, 0.02), silence(100))).length, 1, '-34 dBFS');
  assert.equal(run(concat(tone(1000, 300, 0.9), silence(100))).length, 1, 'near full scale');
  assert.equal(run(concat(tone(1000, 300, 0.003), silence(100))).length, 0, 'below the floor');
});

test('tones outside 400-2,000 Hz, and blips shorter than the minimum, are not beeps', () => {
  assert.equal(run(concat(tone(300, 400), silence(100))).length, 0, '300 Hz');
  assert.equal(run(concat(tone(2600, 400), silence(100))).length, 0, '2,600 Hz');
  assert.equal(run(concat(tone(1000, 100), silence(100))).length, 0, '100 ms');
  assert.equal(run(concat(tone(1000, 200), silence(100))).length, 1, '200 ms');
});

test('a one-frame dropout inside the beep does not split or lose it', () => {
  const beeps = run(concat(tone(1000, 200), silence(20), tone(1000, 200, 0.3, Math.PI / 3), silence(100)));
  assert.equal(beeps.length, 1);
  assert.ok(beeps[0].durationMs >= 400, `${beeps[0].durationMs} ms`);
});

test('DTMF key pairs are not beeps (two frequencies share the energy)', () => {
  const keys = dtmfAudio('1590#*', { toneMs: 300, gapMs: 100 });
  assert.equal(run(mulawDecode(keys.audio)).length, 0);
});

test('speech-like audio and line noise are not beeps', () => {
  const talk = concat(
    speechPcm("Hi, you've reached Sam. I can't take your call right now, please leave a message after the tone.", 4000),
    speechPcm('Hello? Who is this?', 1500),
  );
  assert.equal(run(talk).length, 0, 'speech');
  assert.equal(run(noise(3000, 2000)).length, 0, 'white noise');
  for (const f of [0.5, 1, 2, 4]) {
    // A voice with a high, steady pitch: harmonics at 440, 880, 1320 Hz share the energy.
    const voiced = new Int16Array(8000);
    for (let i = 0; i < voiced.length; i++) {
      const t = i / RATE;
      voiced[i] = Math.round(6000 * (Math.sin(2 * Math.PI * 440 * t) + 0.8 * Math.sin(2 * Math.PI * 880 * t + f) + 0.6 * Math.sin(2 * Math.PI * 1320 * t)));
    }
    assert.equal(run(voiced).length, 0, `harmonic voice ${f}`);
  }
});

test('a beep right after the greeting is found, and one in noise too', () => {
  const greeting = speechPcm('Please leave a message after the tone.', 2500);
  assert.equal(run(concat(greeting, tone(1000, 500), silence(200))).length, 1);
  const noisy = tone(850, 500);
  const hiss = noise(500, 300, 3);
  for (let i = 0; i < noisy.length; i++) noisy[i] += hiss[i];
  assert.equal(run(concat(noise(300, 300), noisy, noise(300, 300, 9))).length, 1, 'tone 30 dB over hiss');
});

test('analyseFrame: a pure tone holds nearly all the energy, a DTMF pair about half', () => {
  const pure = analyseFrame(tone(1000, 20));
  assert.ok(pure.purity > 0.95, `pure ${pure.purity}`);
  assert.equal(pure.hz, 1000);
  const pair = analyseFrame(mulawDecode(dtmfAudio('5', { toneMs: 20, gapMs: 0 }).audio).subarray(0, 160));
  assert.ok(pair.purity < 0.7, `pair ${pair.purity}`);
});
