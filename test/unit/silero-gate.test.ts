import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SileroVad, VAD_FLOOR_DBFS_DEFAULT, idleSileroVads } from '../../src/media/silero-vad.js';
import { SileroPreGate } from '../../src/media/silero-pre-gate.js';
import { mulawDecode } from '../../src/media/mulaw.js';
import { BACKCHANNELS, SHORT_SPEECH_CLIPS, SPEECH_CLIPS, clip } from '../sim/twilio/clips.js';
import { concatPcm as concat } from '../sim/pcm.js';

const FRAME = 160; // 20 ms at 8 kHz

/** Feeds 20 ms frames; returns the frame indices of each change and the samples handed to the network. */
function run(vad: SileroVad, pcm: Int16Array): { started: number[]; stopped: number[]; fed: number } {
  const started: number[] = [];
  const stopped: number[] = [];
  for (let i = 0, f = 0; i + FRAME <= pcm.length; i += FRAME, f++) {
    const c = vad.pushPcm(pcm.subarray(i, i + FRAME));
    if (c === 'started') started.push(f);
    if (c === 'stopped') stopped.push(f);
  }
  const fed = vad.samplesFed;
  vad.close();
  return { started, stopped, fed };
}

const gated = () => new SileroVad({ floorDbfs: VAD_FLOOR_DBFS_DEFAULT });
const silence = (ms: number) => new Int16Array(ms * 8);

/** Seeded white noise (sum of uniforms, near Gaussian) at the given RMS level in dBFS. */
function hiss(ms: number, dbfs: number, seed = 7): Int16Array {
  const out = new Int16Array(ms * 8);
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
  const rms = 32768 * 10 ** (dbfs / 20);
  for (let i = 0; i < out.length; i++) out[i] = Math.round((rnd() + rnd() + rnd()) * 2 * rms);
  return out;
}

test('Silero gate: 10 s of silence and of -60 dBFS hiss never run the network', () => {
  assert.equal(run(gated(), silence(10_000)).fed, 0);
  assert.equal(run(gated(), hiss(10_000, -60)).fed, 0);
  // Without the gate the same audio is all fed: the counter counts.
  assert.equal(run(new SileroVad(), silence(1000)).fed, 16_000);
});

// Silero judges whole 32 ms windows. Ungated, the windows are laid from the start of the call; gated, from
// the first frame above the floor (the detector is reset in the gap), so the window that confirms speech
// may end up to one window (32 ms) earlier or later, which 20 ms frames report as at most 2 frames apart.
const ONE_WINDOW_IN_FRAMES = 2;

test('Silero gate: recorded speech starts at the same frame as ungated, or within one 32 ms window', () => {
  const names = [...SPEECH_CLIPS, ...SHORT_SPEECH_CLIPS].map((n) => `speech-${n}` as const);
  for (const name of [...names, ...BACKCHANNELS.map((b) => `backchannel-${b}` as const)]) {
    const words = mulawDecode(clip(name));
    // Speech from the first frame: both lay the same windows, so the same frame.
    assert.equal(run(gated(), words).started[0], run(new SileroVad(), words).started[0], `${name} from the start`);
    const pcm = concat(silence(1000), words, silence(1000));
    const plain = run(new SileroVad(), pcm);
    const g = run(gated(), pcm);
    assert.ok(plain.started.length > 0, `${name}: heard ungated`);
    const apart = Math.abs(g.started[0] - plain.started[0]);
    assert.ok(apart <= ONE_WINDOW_IN_FRAMES, `${name}: started at frame ${g.started[0]}, ungated ${plain.started[0]}`);
    assert.equal(g.stopped.length, g.started.length, `${name}: every start has its stop`);
    assert.ok(g.fed < plain.fed, `${name}: the silences were gated (${g.fed} of ${plain.fed} samples fed)`);
  }
});

test('Silero gate: speech after a gated gap is detected again', () => {
  const words = mulawDecode(clip('speech-wait'));
  const once = run(gated(), concat(words, silence(500)));
  const g = run(gated(), concat(words, hiss(3000, -60), words, silence(500)));
  const second = (words.length / 8 + 3000) / 20;
  // The same starts in the second utterance as in the first, shifted by its offset: Silero starts clean.
  assert.deepEqual(g.started.filter((f) => f >= second), once.started.map((f) => f + second), JSON.stringify(g));
  assert.equal(g.stopped.length, g.started.length);
  assert.ok(g.fed <= 2 * once.fed, 'the gap was not fed (beyond the hangover)');
});

test('Silero gate: a frame just above the floor is fed, one just below is not', () => {
  const level = (dbfs: number) => new Int16Array(FRAME).fill(Math.round(32768 * 10 ** (dbfs / 20)));
  const above = gated();
  above.pushPcm(level(VAD_FLOOR_DBFS_DEFAULT + 0.2));
  assert.equal(above.samplesFed, 2 * FRAME);
  above.close();
  const below = gated();
  below.pushPcm(level(VAD_FLOOR_DBFS_DEFAULT - 0.2));
  assert.equal(below.samplesFed, 0);
  below.close();
});

const mix = (a: Int16Array, b: Int16Array): Int16Array => Int16Array.from(a, (x, i) => Math.max(-32768, Math.min(32767, x + (b[i] ?? 0))));

test('Silero gate on a noisy line: steady hiss above the fixed floor is gated once the line\'s noise is known, and speech over it is still heard', () => {
  // -43 dBFS hiss passes the fixed -45 dBFS floor: without the noise floor every frame would be fed.
  const noisy = run(gated(), hiss(10_000, -43));
  assert.ok(noisy.fed > 0, 'fed at first, while the noise floor rises to the line');
  assert.ok(noisy.fed < 0.3 * 10_000 * 16, `most of 10 s of hiss not fed: ${noisy.fed} samples`);
  const v = gated();
  for (let i = 0, pcm = hiss(5000, -43, 11); i + FRAME <= pcm.length; i += FRAME) v.pushPcm(pcm.subarray(i, i + FRAME));
  const before = v.samplesFed;
  for (let i = 0, pcm = hiss(5000, -43, 13); i + FRAME <= pcm.length; i += FRAME) v.pushPcm(pcm.subarray(i, i + FRAME));
  assert.equal(v.samplesFed, before, 'after 5 s of the line, its hiss is never fed');
  // Speech over the same hiss, after the floor has found it: heard, as on a clean line, within two windows.
  for (const name of ['speech-wait', 'speech-stop'] as const) {
    const words = mulawDecode(clip(name));
    const clean = run(new SileroVad(), concat(silence(5000), words, silence(1000)));
    const over = mix(concat(silence(5000), words, silence(1000)), hiss(6000 + words.length / 8, -43, 17));
    const g = run(gated(), over);
    assert.ok(clean.started.length > 0 && g.started.length > 0, `${name}: heard over the hiss`);
    assert.ok(Math.abs(g.started[0] - clean.started[0]) <= 2 * ONE_WINDOW_IN_FRAMES, `${name}: started at frame ${g.started[0]}, clean ${clean.started[0]}`);
  }
  v.close();
});

test('Silero gate: a quiet line keeps the fixed floor, whatever the talking', () => {
  const gate = new SileroPreGate(VAD_FLOOR_DBFS_DEFAULT);
  const words = mulawDecode(clip('speech-wait'));
  const line = concat(hiss(2000, -60), words, hiss(500, -60), words, hiss(2000, -60));
  for (let i = 0; i + FRAME <= line.length; i += FRAME) gate.frame(line.subarray(i, i + FRAME));
  assert.equal(Math.round(gate.floorDbfs), VAD_FLOOR_DBFS_DEFAULT);
});

test('Silero: a detector kept from an ended call hears exactly as a newly built one', () => {
  const words = mulawDecode(clip('speech-wait'));
  // Hold every idle detector, so the next two are newly built.
  const held = Array.from({ length: idleSileroVads() }, () => new SileroVad());
  assert.equal(idleSileroVads(), 0);
  const fresh = new SileroVad();
  // A call that ends mid-speech: state, buffered audio and a segment in it when it is closed.
  const dirty = new SileroVad();
  const expected = run(fresh, concat(words, silence(500)));
  assert.ok(expected.started.length > 0);
  let heard = false;
  for (let i = 0; i + FRAME <= words.length / 2; i += FRAME) heard = dirty.pushPcm(words.subarray(i, i + FRAME)) === 'started' || heard;
  assert.ok(heard && dirty.speaking, 'closed while speaking');
  dirty.close();
  dirty.close(); // twice: returned once
  assert.equal(idleSileroVads(), 2);
  const reused = new SileroVad();
  assert.equal(idleSileroVads(), 1, 'the next call takes an idle detector instead of building one');
  assert.deepEqual(run(reused, concat(words, silence(500))), expected);
  for (const v of held) v.close();
});
