/**
 * HoldMode (src/bridge/hold-mode.ts) with a recording fake engine, fed the simulator's hold music and
 * speech frame by frame: what reaches the engine on hold, how each line is judged, and the hold limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HoldMode, HOLD_TIMEOUT_INSTRUCTIONS, RESUME_INSTRUCTIONS } from '../../src/bridge/hold-mode.js';
import { CallModes } from '../../src/bridge/call-mode.js';
import { AudioChunk } from '../../src/media/audio-chunk.js';
import { mulawDecode } from '../../src/media/mulaw.js';
import type { EngineCapabilities, VoiceEngine } from '../../src/voice/engine.js';
import { holdMusic } from '../sim/twilio/hold-audio.js';
import { silence, speech } from '../sim/twilio/callee-audio.js';

function setup(hearsOnHold: boolean, maxMs = 60_000) {
  const pushed: Uint8Array[] = [];
  const replies: Array<string | undefined> = [];
  const events: Array<[string, Record<string, unknown>]> = [];
  const wrapUps: string[] = [];
  const engine = {
    capabilities: { hearsBeforeAutoRespond: hearsOnHold } as EngineCapabilities,
    pushAudio: (c: AudioChunk) => pushed.push(c.bytes),
    generateReply: (o?: { instructions?: string }) => replies.push(o?.instructions),
    setAutoRespond: () => undefined,
  } as unknown as VoiceEngine;
  let hold!: HoldMode;
  const modes = new CallModes({ record: (t, d) => events.push([t, d]), entered: (m, f, r) => hold.modeChanged(m, f, r) });
  hold = new HoldMode(
    { modes, engine, record: (t, d) => events.push([t, d]), toEngine: (c) => c, cutAgent: () => undefined, wrapUp: (r, i) => (wrapUps.push(`${r}: ${i}`), true), requestEnd: () => undefined },
    { maxMs, tailMs: 500 },
  );
  modes.set('talking', 'test');
  /** Plays mu-law audio as the call would: the hearer first, then the gate, frame by frame. */
  const play = (mulaw: Uint8Array) => {
    for (let i = 0; i + 160 <= mulaw.length; i += 160) {
      const frame = mulaw.subarray(i, i + 160);
      hold.hear(mulawDecode(frame));
      if (modes.policy.engineHears === 'speech') hold.pass(AudioChunk.fromBytes(frame));
    }
  };
  const pushedMs = () => pushed.reduce((a, b) => a + b.length / 8, 0);
  const heard = () => events.filter(([t]) => t === 'hold.heard').map(([, d]) => `${d.verdict}/${d.by}`);
  return { hold, modes, play, pushed, pushedMs, replies, events, heard, wrapUps };
}

const PERSON = 'Thanks for holding, this is Sam, how can I help?';
const ANNOUNCEMENT = 'Please continue to hold.';

test('an engine that hears on hold gets each line (pre-roll, speech, silent tail) and never the music', () => {
  const h = setup(true);
  h.hold.heard('Please hold.');
  assert.equal(h.modes.current, 'on-hold');
  assert.equal(h.pushedMs(), 500, 'a tail closes whatever turn was open');
  h.play(holdMusic(8000));
  const afterMusic = h.pushedMs();
  assert.ok(afterMusic < 500 + 3000, `only the music's first second or so went: ${afterMusic} ms`);
  h.play(speech(ANNOUNCEMENT));
  h.play(holdMusic(6000, 'chords', 2));
  const annMs = speech(ANNOUNCEMENT).length / 8;
  const sent = h.pushedMs() - afterMusic;
  // Pre-roll 700, the classifier's return to music 1200 plus its 240 ms confirmation of music, tail 500.
  assert.ok(sent >= annMs && sent <= annMs + 700 + 1200 + 240 + 500, `announcement sent with pre-roll and tail: ${sent} ms for ${annMs} ms`);
  assert.deepEqual(h.heard(), ['announcement/music-resumed', 'announcement/music-resumed']);
  assert.equal(h.modes.current, 'on-hold');
  assert.deepEqual(h.replies, []);
});

test('a person back: their words decide once their line ends, and the engine gets one reminder', () => {
  const h = setup(true);
  h.hold.heard('Please hold.');
  h.play(holdMusic(4000));
  h.play(silence(300));
  h.play(speech(PERSON));
  h.hold.heard(PERSON); // the engine's transcript (its turn ended on our silent tail)
  assert.equal(h.modes.current, 'on-hold', 'not before the line has ended');
  h.play(silence(700)); // the line ends 200 ms (silence) + 300 ms (hang) after the last word
  assert.equal(h.modes.current, 'talking');
  assert.deepEqual(h.heard().at(-1), 'person/words');
  assert.deepEqual(h.replies, [RESUME_INSTRUCTIONS]);
});

test('an engine deaf on hold (it would answer): nothing is sent; a line then quiet is a person, a line then music is not', () => {
  const h = setup(false);
  h.hold.heard('Please hold.');
  h.play(holdMusic(4000, 'noise'));
  h.play(speech(ANNOUNCEMENT));
  h.play(holdMusic(4000, 'noise', 3));
  assert.equal(h.modes.current, 'on-hold');
  h.play(silence(300));
  h.play(speech(PERSON));
  h.play(silence(1500));
  assert.equal(h.modes.current, 'on-hold', 'the quiet after a line must last 1.5 s');
  h.play(silence(600));
  assert.equal(h.modes.current, 'talking');
  assert.equal(h.pushedMs(), 0, 'not one frame reached the engine');
  assert.deepEqual(h.heard().slice(-2), ['announcement/music-resumed', 'person/quiet-after']);
  assert.deepEqual(h.replies, [RESUME_INSTRUCTIONS]);
});

test('repeated words make a recording even when quiet follows; music for 3 s while talking means hold', () => {
  const h = setup(true);
  h.play(speech('Hello?'));
  h.play(holdMusic(2500));
  assert.equal(h.modes.current, 'talking');
  h.play(holdMusic(2000, 'chords', 2));
  assert.equal(h.modes.current, 'on-hold');
  for (let i = 0; i < 2; i++) {
    h.play(silence(300));
    h.play(speech(ANNOUNCEMENT));
    h.hold.heard(ANNOUNCEMENT);
    h.play(silence(4000));
  }
  assert.equal(h.modes.current, 'on-hold');
  assert.deepEqual(h.heard(), ['announcement/words', 'announcement/words']);
});

test('the hold limit: the agent is asked for a goodbye (hold-timeout); leaving hold first stops the clock', async () => {
  const h = setup(true, 50);
  h.hold.heard('Please hold.');
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(h.wrapUps, [`hold-timeout: ${HOLD_TIMEOUT_INSTRUCTIONS}`]);
  assert.equal(h.events.find(([t]) => t === 'wrapup.requested')?.[1].reason, 'hold-timeout');

  const back = setup(true, 50);
  back.hold.heard('Please hold.');
  back.modes.set('talking', 'test');
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(back.wrapUps, []);
});

test('a recording, a moment of music, then quiet (the music stops for a transfer) is not a person; the person after it is', () => {
  // Both kinds of engine: the words (none here, or unclear) do not decide; the sound before the quiet does.
  for (const hears of [true, false]) {
    const h = setup(hears);
    h.hold.heard('Please hold.');
    h.play(holdMusic(3000, 'noise'));
    h.play(speech(ANNOUNCEMENT));
    // The last stretch of music is too short for the classifier to confirm music before it stops.
    h.play(holdMusic(1000, 'noise', 2));
    h.play(silence(4000 + (hears ? 2000 : 0)));
    assert.equal(h.modes.current, 'on-hold', `engine hears on hold: ${hears}`);
    assert.deepEqual(h.heard().at(-1), 'announcement/music-stopped');
    h.play(speech(PERSON));
    h.play(silence(2100 + (hears ? 2000 : 0)));
    assert.equal(h.modes.current, 'talking');
    assert.deepEqual(h.heard().at(-1), 'person/quiet-after');
    assert.deepEqual(h.replies, [RESUME_INSTRUCTIONS]);
  }
});

test('"please hold" from a phone menu: nothing the engine starts to say on hold is let through', () => {
  const h = setup(false);
  h.modes.set('menu', 'test');
  h.hold.heard('Please hold while I transfer you.');
  assert.equal(h.modes.current, 'on-hold');
  assert.equal(h.hold.replyStarted(), true, 'an acknowledgement to a recording is cut');
  const person = setup(false);
  person.hold.heard('Please hold.');
  assert.equal(person.hold.replyStarted(), false, "a person's request to hold may be acknowledged");
});
