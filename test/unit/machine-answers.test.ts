import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MachineAnswers } from '../../src/bridge/machine-answers.js';
import { CallModes } from '../../src/bridge/call-mode.js';
import { GreetingGate } from '../../src/bridge/greeting-gate.js';
import type { EndAfterPlayout } from '../../src/bridge/end-after-playout.js';
import { SCREENING_PROMPTS } from '../sim/twilio/scripts.js';

const FRAME = 160;
const ASKS_FOR_NAME = "You've reached Doctor Smith's office. Please state your name and the reason for your call.";

const tone = (hz: number, ms: number): Int16Array[] =>
  Array.from({ length: ms / 20 }, (_, f) => Int16Array.from({ length: FRAME }, (_, i) => Math.round(9000 * Math.sin((2 * Math.PI * hz * (f * FRAME + i)) / 8000))));
const quiet = (ms: number): Int16Array[] => Array.from({ length: ms / 20 }, () => new Int16Array(FRAME));

/** A call before its greeting, with a leave-message plan: what the machine handling asks of the session. */
function harness() {
  const log: string[] = [];
  const modes = new CallModes({ record: (type, d) => type === 'mode.changed' && log.push(`mode:${d.to}:${d.answeredBy ?? d.reason}`), entered: () => undefined });
  let machine: MachineAnswers | undefined;
  const gate = new GreetingGate({
    silenceMs: 60_000,
    personOpeningMaxMs: 2500,
    record: () => undefined,
    open: (reason) => {
      log.push(`gate:${reason}`);
      const first = machine!.gateOpened(reason)?.instructions ?? '';
      log.push(`reply:${/call-screening assistant/.test(first) ? 'screening answer' : 'greeting'}`);
      if (/What the assistant said/.test(first)) log.push('reply quotes the screener');
    },
    voicemail: (answeredBy) => machine!.veto(answeredBy),
    menu: () => undefined,
  });
  gate.speakable();
  const endAfterPlayout = { wrapUp: (reason: string) => log.push(`wrapUp:${reason}`) } as unknown as EndAfterPlayout;
  machine = new MachineAnswers(
    { action: 'leave-message', message: 'Please call Raju back.', silenceMs: 3000, beepTimeoutMs: 30_000 },
    {
      record: (type) => log.push(type),
      requestEnd: (reason) => log.push(`end:${reason}`),
      modes,
      gate,
      endAfterPlayout,
      agentSpeaking: () => false,
      cutAgent: () => log.push('cut'),
      beginEnd: () => log.push('beginEnd'),
      transcribeOnly: () => true,
      canTranscribe: true,
      listenAside: (on, forget) => (log.push(`aside:${on ? 'on' : 'off'}${forget ? ':forget' : ''}`), true),
    },
  );
  const feed = (frames: Int16Array[]) => frames.forEach((f) => machine!.hear(f));
  return { machine, log, feed, modes, gate };
}

test('a greeting that asks for a name, transcribed while the beep after it plays, is a mailbox: no screening answer, the message after the beep', () => {
  const h = harness();
  h.feed(tone(1000, 200));
  h.machine.heard(ASKS_FOR_NAME);
  assert.equal(h.modes.current, 'greeting', 'the words wait for the tone to end');
  assert.ok(!h.log.some((l) => l.startsWith('gate:')));
  h.feed(tone(1000, 200).concat(quiet(60)));
  assert.equal(h.modes.current, 'voicemail');
  assert.ok(h.log.includes('mode:voicemail:beep-after-screening'), h.log.join(' '));
  assert.ok(h.log.includes('wrapUp:voicemail-left'), h.log.join(' '));
  assert.ok(!h.log.some((l) => l.startsWith('gate:') || l.startsWith('mode:screening')), h.log.join(' '));
  h.machine.close();
});

test('a screener heard with no tone playing is answered at once', () => {
  const h = harness();
  h.feed(quiet(200));
  h.machine.heard(SCREENING_PROMPTS.google);
  assert.equal(h.modes.current, 'screening');
  assert.deepEqual(h.log.slice(0, 4), ['screening.detected', 'mode:screening:screening-assistant', 'gate:screening', 'reply:screening answer']);
  h.machine.close();
});

test('a steady tone that does not end holds a screener for at most 1.5 s', () => {
  const h = harness();
  h.feed(tone(1000, 200));
  h.machine.heard(SCREENING_PROMPTS.google);
  h.feed(tone(1000, 1400));
  assert.equal(h.modes.current, 'greeting');
  h.feed(tone(1000, 120));
  assert.equal(h.modes.current, 'screening', 'answered after the longest beep');
  assert.ok(h.log.includes('gate:screening'));
  h.machine.close();
});

test('a long opening on an engine that hears nothing before the greeting is transcribed aside: a screener in it is answered before its machine verdict, which is then set aside', () => {
  const h = harness();
  h.machine.openingLong();
  assert.deepEqual(h.log, ['aside:on']);
  h.feed(quiet(200));
  h.machine.heardAside(SCREENING_PROMPTS.google);
  assert.equal(h.modes.current, 'screening');
  // The conversation must not hear the kept prompt replayed and answer it too: it gets the words quoted.
  const forgot = h.log.indexOf('aside:off:forget');
  assert.ok(forgot >= 0 && forgot < h.log.indexOf('mode:screening:screening-assistant'), h.log.join(' '));
  assert.ok(h.log.includes('transcript'), "the screener's words are on the transcript");
  assert.ok(h.log.includes('reply quotes the screener'), h.log.join(' '));
  assert.equal(h.machine.verdictCounts('machine_end_silence'), false, 'the late machine verdict is set aside');
  h.machine.close();
});

test('words transcribed aside that are no screener\'s change nothing; a machine verdict stops the side transcription', () => {
  const h = harness();
  h.machine.openingLong();
  h.machine.heardAside("Hi, you've reached Sam. Leave a message after the tone.");
  h.machine.heardAside('Thanks for calling Acme Supplies, this is Dana speaking.');
  assert.equal(h.modes.current, 'greeting');
  assert.deepEqual(h.log, ['aside:on']);
  h.gate.verdict('machine_end_beep');
  assert.equal(h.log[1], 'aside:off', h.log.join(' '));
  assert.equal(h.modes.current, 'voicemail');
  h.machine.heardAside(SCREENING_PROMPTS.google);
  assert.equal(h.modes.current, 'voicemail', 'words from a stopped side transcription are ignored');
  h.machine.close();
});
