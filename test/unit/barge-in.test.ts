import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BargeInPolicy, isBackchannel, type BargeInVerdict } from '../../src/bridge/barge-in.js';

const OPTS = { minSpeechMs: 300, backchannelMaxMs: 800, wordsWaitMs: 1000 };

/** Drives the policy: `speechMs` of speech then `silenceMs` of silence, agent talking throughout. */
function drive(p: BargeInPolicy, speechMs: number, silenceMs: number, onsetMs = 0): { verdicts: BargeInVerdict[]; atMs: number[] } {
  const verdicts: BargeInVerdict[] = [];
  const atMs: number[] = [];
  // The VAD says 'started' onsetMs into the speech, and 'stopped' right at its end.
  const heard = Math.max(0, speechMs - onsetMs);
  for (let t = 0; t < heard + silenceMs; t += 20) {
    const v = p.frame(t < heard, true, onsetMs);
    if (v) {
      verdicts.push(v);
      atMs.push(t + 20 + onsetMs);
    }
  }
  return { verdicts, atMs };
}

test('isBackchannel: acknowledgements yes, requests and longer sentences no', () => {
  for (const t of ['Mhm.', 'Mm-hm', 'uh-huh', 'Uh huh.', 'Okay.', 'OK, okay', 'Yeah.', 'Right.', 'Yep', 'Got it.', 'I see.', 'Sure.', 'Oh, okay.']) assert.ok(isBackchannel(t), t);
  for (const t of ['Stop.', 'Wait.', 'No.', 'Hold on.', 'Okay, but wait', 'Yeah, no, I want to cancel it.', 'Sorry?', 'I', 'it', 'See', '', '  ', 'Okay yeah right sure']) assert.ok(!isBackchannel(t), t);
});

test('speech shorter than minSpeechMs never cuts, whatever its words', () => {
  const p = new BargeInPolicy(OPTS);
  const { verdicts } = drive(p, 200, 400);
  assert.deepEqual(verdicts, [{ action: 'carry-on', reason: 'too-short', speechMs: 200 }]);
  assert.equal(p.transcript('Stop!'), undefined, 'not awaiting words');
});

test('speech reaching backchannelMaxMs cuts at once, counting the VAD onset', () => {
  const p = new BargeInPolicy(OPTS);
  const { verdicts, atMs } = drive(p, 2000, 200, 100);
  assert.deepEqual(verdicts, [{ action: 'cut', reason: 'speech', speechMs: 800 }]);
  assert.deepEqual(atMs, [800]);
});

test('pauses between words do not end a run; the speech in it adds up', () => {
  const p = new BargeInPolicy(OPTS);
  const verdicts: Array<BargeInVerdict | undefined> = [];
  // 400 ms, a 200 ms pause, 400 ms: 800 ms of speech in one run.
  for (let t = 0; t < 1000; t += 20) verdicts.push(p.frame(t < 400 || t >= 600, true));
  assert.deepEqual(verdicts.filter(Boolean), [{ action: 'cut', reason: 'speech', speechMs: 800 }]);
  // A longer pause ends the run: two short runs, judged by their words.
  const q = new BargeInPolicy(OPTS);
  for (let t = 0; t < 1100; t += 20) assert.equal(q.frame(t < 400 || t >= 700, true), undefined);
  assert.ok(q.pending);
});

test('one long utterance cuts once; the rest of it is the callee\'s turn', () => {
  const p = new BargeInPolicy(OPTS);
  let cuts = 0;
  for (let t = 0; t < 3000; t += 20) if (p.frame(true, true)?.action === 'cut') cuts++;
  assert.equal(cuts, 1);
  assert.equal(p.frame(false, true), undefined);
  for (let t = 0; t < 1000; t += 20) if (p.frame(true, true)?.action === 'cut') cuts++;
  assert.equal(cuts, 2, 'the next utterance over the agent cuts again');
});

test('a short utterance is judged by its words: a backchannel carries on, anything else cuts', () => {
  const p = new BargeInPolicy(OPTS);
  assert.deepEqual(drive(p, 500, 300).verdicts, []);
  assert.ok(p.pending);
  assert.deepEqual(p.transcript('Mm-hm.'), { action: 'carry-on', reason: 'backchannel', speechMs: 500, text: 'Mm-hm.' });
  assert.ok(!p.pending);

  drive(p, 400, 300);
  assert.deepEqual(p.transcript('Stop.'), { action: 'cut', reason: 'words', speechMs: 400, text: 'Stop.', turnOver: true });
});

test('no words within wordsWaitMs: it was noise, carry on; a later transcript changes nothing', () => {
  const p = new BargeInPolicy(OPTS);
  const { verdicts } = drive(p, 500, 1400);
  assert.deepEqual(verdicts, [{ action: 'carry-on', reason: 'no-words', speechMs: 500 }]);
  assert.equal(p.transcript('Wait.'), undefined);
});

test('speech while the agent is silent is a turn, not a barge-in; the agent going quiet ends the wait', () => {
  const p = new BargeInPolicy(OPTS);
  for (let t = 0; t < 2000; t += 20) assert.equal(p.frame(true, false), undefined);
  drive(p, 500, 300);
  assert.ok(p.pending);
  p.frame(false, false);
  assert.ok(!p.pending);
});

test('backchannelMaxMs 0: every speech of minSpeechMs cuts at once', () => {
  const p = new BargeInPolicy({ ...OPTS, backchannelMaxMs: 0 });
  const { verdicts, atMs } = drive(p, 500, 100);
  assert.deepEqual(verdicts, [{ action: 'cut', reason: 'speech', speechMs: 300 }]);
  assert.deepEqual(atMs, [300]);
});

test('interim words: an acknowledgement waits for more, anything else cuts at once; words said during the run count', () => {
  const p = new BargeInPolicy(OPTS);
  drive(p, 500, 300);
  assert.equal(p.interimWords('Okay'), undefined);
  assert.deepEqual(p.interimWords(', but wait'), { action: 'cut', reason: 'words', speechMs: 500, text: 'Okay, but wait' });

  // Only an acknowledgement came, and no final transcript: a backchannel at the end of the wait.
  const q = new BargeInPolicy(OPTS);
  drive(q, 500, 300);
  q.interimWords('Mhm.');
  const { verdicts } = drive(q, 0, 1000);
  assert.deepEqual(verdicts, [{ action: 'carry-on', reason: 'backchannel', speechMs: 500, text: 'Mhm.' }]);

  // Words streamed while the callee was still talking are judged the moment the run ends.
  const r = new BargeInPolicy(OPTS);
  for (let t = 0; t < 400; t += 20) r.frame(true, true);
  assert.equal(r.interimWords('Stop'), undefined, 'not judged mid-run');
  let v;
  for (let t = 0; t < 300 && !v; t += 20) v = r.frame(false, true);
  assert.deepEqual(v, { action: 'cut', reason: 'words', speechMs: 400, text: 'Stop' });

  // Fragments outside any run over the agent are not kept for a later one.
  const u = new BargeInPolicy(OPTS);
  assert.equal(u.interimWords('Hello there'), undefined);
  drive(u, 500, 300);
  assert.deepEqual(u.transcript('Mhm.'), { action: 'carry-on', reason: 'backchannel', speechMs: 500, text: 'Mhm.' });
});

test('a final transcript that comes before the run is over is judged when it ends', () => {
  const p = new BargeInPolicy(OPTS);
  for (let t = 0; t < 400; t += 20) p.frame(true, true);
  for (let t = 0; t < 100; t += 20) p.frame(false, true);
  assert.equal(p.transcript('Stop.'), undefined, 'mid-run: kept');
  let v;
  for (let t = 0; t < 300 && !v; t += 20) v = p.frame(false, true);
  assert.deepEqual(v, { action: 'cut', reason: 'words', speechMs: 400, text: 'Stop.', turnOver: true });

  const q = new BargeInPolicy(OPTS);
  for (let t = 0; t < 400; t += 20) q.frame(true, true);
  q.transcript('Uh-huh.');
  let w;
  for (let t = 0; t < 300 && !w; t += 20) w = q.frame(false, true);
  assert.deepEqual(w, { action: 'carry-on', reason: 'backchannel', speechMs: 400, text: 'Uh-huh.' });
});
