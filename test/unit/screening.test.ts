import { test } from 'node:test';
import assert from 'node:assert/strict';
import { soundsLikeScreening, ScreeningMode } from '../../src/bridge/screening-mode.js';
import type { CallMode } from '../../src/bridge/call-mode.js';
import { SCREENING_PROMPTS } from '../sim/twilio/scripts.js';
import { GREETING_TEXT } from '../sim/twilio/callee-audio.js';

test('screening prompts are recognised in their published wordings', () => {
  for (const p of Object.values(SCREENING_PROMPTS)) assert.ok(soundsLikeScreening(p), p);
  for (const p of [
    "Hi, I'm Call Assist by Google recording this call for the person you're trying to reach. Before I try to connect you, can I ask what you're calling about?",
    'This call may be screened. Please say your name.',
    'Who is calling and why?',
    'Can I get your name and the reason you’re calling?',
  ])
    assert.ok(soundsLikeScreening(p), p);
});

test('people answering and mailbox greetings are not screening', () => {
  for (const p of [
    'Hello?',
    "Hello, who's calling?",
    'This is Sam speaking.',
    'Yes, what is this about?',
    GREETING_TEXT,
    'You have reached the Kumar residence. Please leave your name, number and the reason for your call after the beep.',
    "Sorry, I can't take your call right now. State your name and number and I'll call you back.",
    'The person you are calling is not available. Please leave a message.',
  ])
    assert.ok(!soundsLikeScreening(p), p);
});

function harness(start: CallMode = 'greeting', underVerdict = false) {
  let mode: CallMode = start;
  const log: string[] = [];
  const s = new ScreeningMode({
    record: (type) => log.push(type),
    mode: () => mode,
    setMode: (to, reason) => {
      mode = to;
      log.push(`${to}:${reason}`);
    },
    answerBeforeGreeting: () => log.push('answer'),
    waitingUnderVerdict: () => underVerdict,
    toVoicemail: (reason) => log.push(`voicemail:${reason}`),
    nobodyCame: (ms) => log.push(`nobody:${ms}`),
    waitMs: 50,
  });
  return { s, log, mode: () => mode };
}

test('before the greeting, a screening prompt opens the call with the answer; the person then takes over', () => {
  const h = harness('greeting');
  h.s.heard(SCREENING_PROMPTS.google);
  assert.deepEqual(h.log, ['screening.detected', 'screening:screening-assistant', 'answer']);
  assert.ok(h.s.detected);
  // Before the agent has answered, nothing the callee says is the person.
  h.s.heard("Hi, this is Sam.");
  assert.equal(h.mode(), 'screening');
  h.s.agentReplied();
  h.s.heard('Thanks, stay on the line while I see if this person is available.');
  assert.equal(h.mode(), 'screening', 'still the assistant');
  h.s.heard("Hi, this is Sam. What's this about?");
  assert.equal(h.mode(), 'talking');
  assert.equal(h.log.at(-1), 'talking:person-answered');
  h.s.close();
});

test('nobody picks up after the screener: the call ends after the wait, not at the call limit', async () => {
  const h = harness('greeting');
  h.s.heard(SCREENING_PROMPTS.google);
  h.s.agentReplied();
  h.s.heard('Thanks, stay on the line while I see if this person is available.');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(h.log.at(-1), 'nobody:50');
});

test('a prompt heard mid-conversation switches to screening without a second greeting; menus and voicemail are left alone', () => {
  const t = harness('talking');
  t.s.heard(SCREENING_PROMPTS.ios);
  assert.deepEqual(t.log, ['screening.detected', 'screening:screening-assistant']);
  t.s.close();
  for (const mode of ['menu', 'on-hold', 'voicemail'] as CallMode[]) {
    const h = harness(mode);
    h.s.heard(SCREENING_PROMPTS.google);
    assert.deepEqual(h.log, [], mode);
    assert.ok(!h.s.detected);
  }
});

test('under a machine verdict, while the call waits for a beep and the words are still transcribed, a screener is answered', () => {
  const h = harness('voicemail', true);
  h.s.heard(GREETING_TEXT);
  assert.deepEqual(h.log, [], 'a mailbox greeting leaves the call waiting for the beep');
  h.s.heard(SCREENING_PROMPTS.google);
  assert.deepEqual(h.log, ['screening.detected', 'screening:screening-assistant', 'answer']);
  assert.ok(h.s.detected);
  h.s.close();
});

test('a screener that turns into message-taking is handed to voicemail handling', () => {
  const h = harness('greeting');
  h.s.heard(SCREENING_PROMPTS.pixel);
  h.s.agentReplied();
  h.s.heard("Sorry, they can't take your call right now. Please leave a message after the tone.");
  assert.equal(h.log.at(-1), 'voicemail:screener-took-message');
  h.s.close();
});
