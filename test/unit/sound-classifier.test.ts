/**
 * The local speech/music/silence classifier (src/media/sound-classifier.ts) on the simulator's generated
 * hold music (a chord pad with a melody, and a noise-like ambient bed) and its speech, after the mu-law
 * round trip the carrier audio takes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SoundClassifier, type SoundClass } from '../../src/media/sound-classifier.js';
import { mulawDecode, mulawEncode } from '../../src/media/mulaw.js';
import { holdMusic } from '../sim/twilio/hold-audio.js';
import { harmonicPcm, silence, speech as calleeVoice, speechDurationMs } from '../sim/twilio/callee-audio.js';

/**
 * The simulator's harmonic voice, which this classifier was tuned on. The simulated callee's own voice
 * (`calleeVoice`) mixes recorded speech into it (for Silero); its onset has a test of its own below.
 */
const speech = (text: string, durationMs = speechDurationMs(text)): Uint8Array => mulawEncode(harmonicPcm(text, durationMs));

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

/** The class after every 20 ms frame. */
function classify(mulaw: Uint8Array, c = new SoundClassifier()): SoundClass[] {
  const out: SoundClass[] = [];
  for (let i = 0; i + 160 <= mulaw.length; i += 160) out.push(c.push(mulawDecode(mulaw.subarray(i, i + 160))));
  return out;
}

const frames = (ms: number) => ms / 20;
const ANNOUNCEMENT = 'Your call is important to us. Please continue to hold and the next available agent will be with you shortly.';

for (const kind of ['chords', 'noise'] as const) {
  test(`${kind} hold music is music once a second of it has been heard, and stays music`, () => {
    for (const seed of [1, 2, 3]) {
      const got = classify(holdMusic(20_000, kind, seed));
      const settled = got.slice(frames(1200));
      assert.ok(settled.every((k) => k === 'music'), `seed ${seed}: ${settled.filter((k) => k !== 'music').length} frames not music`);
    }
  });

  test(`${kind}: an announcement between stretches of music is speech, and music comes back after it`, () => {
    const got = classify(concat(holdMusic(6000, kind), speech(ANNOUNCEMENT), holdMusic(6000, kind, 2)));
    const annStart = frames(6000);
    const annEnd = annStart + speech(ANNOUNCEMENT).length / 160;
    // Speech is recognised within 600 ms of its start (a pre-roll covers that) and holds to its end.
    const firstSpeech = got.findIndex((k, i) => i >= annStart && k === 'speech');
    assert.ok(firstSpeech >= annStart && firstSpeech - annStart <= frames(600), `speech after ${(firstSpeech - annStart) * 20} ms`);
    assert.ok(got.slice(firstSpeech, annEnd).every((k) => k === 'speech'), 'speech throughout the announcement');
    // Music again within 1.5 s of the announcement's end.
    const backToMusic = got.findIndex((k, i) => i >= annEnd && k === 'music');
    assert.ok(backToMusic > 0 && backToMusic - annEnd <= frames(1500), `music after ${(backToMusic - annEnd) * 20} ms`);
    assert.ok(got.slice(backToMusic).every((k) => k === 'music'));
  });
}

test('a person after music: speech within 600 ms, then silence within 240 ms of them stopping', () => {
  const line = 'Thanks for holding, this is Sam, how can I help?';
  const got = classify(concat(holdMusic(5000), silence(400), speech(line), silence(3000)));
  const start = frames(5400);
  const end = start + speech(line).length / 160;
  const firstSpeech = got.findIndex((k, i) => i >= start && k === 'speech');
  assert.ok(firstSpeech - start <= frames(100), `speech after ${(firstSpeech - start) * 20} ms`);
  assert.ok(got.slice(firstSpeech, end).every((k) => k === 'speech'));
  const quiet = got.findIndex((k, i) => i >= end && k === 'silence');
  assert.ok(quiet - end <= frames(240), `silence after ${(quiet - end) * 20} ms`);
  assert.ok(got.slice(quiet).every((k) => k === 'silence'));
});

test('short words with pauses between them are speech, never music', () => {
  const words = ['Hello?', 'Yes,', 'one', 'moment', 'please.', 'Okay.'];
  const got = classify(concat(...words.flatMap((w) => [speech(w, 300), silence(120)]), silence(1000)));
  assert.ok(!got.includes('music'));
  assert.ok(got.includes('speech'));
});

test('digital silence and line hiss below the floor are silence', () => {
  assert.ok(classify(silence(3000)).every((k) => k === 'silence'));
  const hiss = new Int16Array(8000 * 3).map((_, i) => Math.round(100 * Math.sin(i * 1.7) * Math.cos(i * 0.31)));
  const c = new SoundClassifier();
  for (let i = 0; i < hiss.length; i += 160) c.push(hiss.subarray(i, i + 160));
  assert.equal(c.current, 'silence');
});

test('the syllabic-band measure: sim speech far above the threshold, hold music far below', () => {
  const c = new SoundClassifier();
  classify(speech(ANNOUNCEMENT), c);
  assert.ok(c.syllabicModulationDb() > 1.8, `speech ${c.syllabicModulationDb()}`);
  const m = new SoundClassifier();
  classify(holdMusic(5000), m);
  assert.ok(m.syllabicModulationDb() < 0.7, `music ${m.syllabicModulationDb()}`);
});

test('the simulated callee\'s mixed recorded voice over music: once speech is heard it stays speech to the end', () => {
  // At the onset the window still holds mostly music and the syllabic measure dips back under the bar for
  // up to 140 ms after first crossing it; speech must not end on that dip, only on music heard for a while.
  const lines = [ANNOUNCEMENT, 'Thanks for holding, this is Sam, how can I help?', 'Hello, this is Sam from billing.', 'Thanks for your patience.'];
  for (const kind of ['chords', 'noise'] as const) {
    for (const line of lines) {
      for (const seed of [1, 2, 3]) {
        const voice = calleeVoice(line);
        const got = classify(concat(holdMusic(3000, kind, seed), voice, holdMusic(4000, kind, seed + 1)));
        const start = frames(3000);
        const end = start + voice.length / 160;
        const at = `${kind} seed ${seed} "${line}"`;
        const firstSpeech = got.findIndex((k, i) => i >= start && k === 'speech');
        assert.ok(firstSpeech >= start && firstSpeech - start <= frames(600), `${at}: speech after ${(firstSpeech - start) * 20} ms`);
        const notSpeech = got.slice(firstSpeech, end).filter((k) => k !== 'speech').length;
        assert.equal(notSpeech, 0, `${at}: ${notSpeech * 20} ms of the line not speech`);
        const backToMusic = got.findIndex((k, i) => i >= end && k === 'music');
        assert.ok(backToMusic > 0 && backToMusic - end <= frames(1500), `${at}: music after ${(backToMusic - end) * 20} ms`);
        assert.ok(got.slice(backToMusic).every((k) => k === 'music'), `${at}: music stays music`);
      }
    }
  }
});

test('music after a pause is music as soon as a whole window of it has been heard, even after speech', () => {
  // The confirmation applies to measured speech only: after "please hold" and a pause, music is not delayed.
  const got = classify(concat(calleeVoice('Please hold.'), silence(600), holdMusic(5000)));
  const musicStart = frames(speechDurationMs('Please hold.') + 600);
  const firstMusic = got.indexOf('music');
  assert.ok(firstMusic > musicStart && firstMusic - musicStart <= frames(1040), `music after ${(firstMusic - musicStart) * 20} ms`);
  assert.ok(got.slice(firstMusic).every((k) => k === 'music'));
});

test('whether the sound before a quiet ended as music: a voice going quiet did not; a second of music after a recording did', () => {
  for (const kind of ['chords', 'noise'] as const) {
    for (const line of [ANNOUNCEMENT, 'Thanks for holding, this is Sam, how can I help?', 'Hello?', 'Hi, Maria speaking.']) {
      const person = new SoundClassifier();
      classify(concat(holdMusic(3000, kind), silence(300), calleeVoice(line), silence(1000)), person);
      assert.equal(person.soundEndedAsMusic, false, `${kind}: "${line}" then quiet`);
      const recording = new SoundClassifier();
      classify(concat(holdMusic(3000, kind), calleeVoice(line), holdMusic(1000, kind, 2), silence(1000)), recording);
      assert.equal(recording.soundEndedAsMusic, true, `${kind}: "${line}", a second of music, then quiet`);
    }
  }
});
