import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { GreetingGate, classifyVerdict } from '../../src/bridge/greeting-gate.js';

function gate(o: { silenceMs?: number; personOpeningMaxMs?: number } = {}) {
  const log: string[] = [];
  const g = new GreetingGate({
    silenceMs: o.silenceMs ?? 2000,
    personOpeningMaxMs: o.personOpeningMaxMs ?? 2500,
    record: (type, data) => log.push(`${type} ${JSON.stringify(data)}`),
    open: (reason) => log.push(`open ${reason}`),
    voicemail: (answeredBy) => log.push(`voicemail ${answeredBy}`),
    menu: (answeredBy) => log.push(`menu ${answeredBy}`),
    longOpening: () => log.push('long opening'),
  });
  return { g, log };
}

test('verdicts: beep, silence, start and fax are voicemail; machine_end_other is a menu; human and unknown a person', () => {
  for (const v of ['machine_start', 'machine_end_beep', 'machine_end_silence', 'fax']) assert.equal(classifyVerdict(v), 'voicemail', v);
  assert.equal(classifyVerdict('machine_end_other'), 'menu');
  for (const v of ['human', 'unknown']) assert.equal(classifyVerdict(v), 'person', v);
});

test('a short opening opens the gate at its end, without a verdict; a later person verdict changes nothing', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const { g, log } = gate();
    g.listening();
    g.speakable();
    g.calleeSpeech(true);
    mock.timers.tick(600);
    g.calleeSpeech(false);
    assert.deepEqual(log, ['open end-of-turn']);
    g.verdict('human');
    mock.timers.tick(5000);
    assert.deepEqual(log, ['open end-of-turn']);
  } finally {
    mock.timers.reset();
  }
});

test('a long opening holds the gate, even through silence after it, until a verdict', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const { g, log } = gate();
    g.listening();
    g.speakable();
    g.calleeSpeech(true);
    mock.timers.tick(3000);
    g.calleeSpeech(false);
    mock.timers.tick(10_000);
    assert.deepEqual(log, ['long opening', 'greeting.held {"openingMs":3000}']);
    g.verdict('machine_end_beep');
    assert.deepEqual(log.slice(2), ['voicemail machine_end_beep']);
    g.verdict('human');
    assert.equal(log.length, 3, 'a closed gate never opens');
  } finally {
    mock.timers.reset();
  }
});

test('silence opens the gate after silenceMs; the decision waits for the engine to be ready', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const { g, log } = gate({ silenceMs: 2000 });
    g.listening();
    mock.timers.tick(1999);
    assert.deepEqual(log, []);
    mock.timers.tick(1);
    assert.deepEqual(log, [], 'not before the session can speak');
    g.speakable();
    assert.deepEqual(log, ['open silence']);
  } finally {
    mock.timers.reset();
  }
});

test('a machine_end_other verdict records a suspected menu and hands the call to the menu handling, which the gate never greets over', () => {
  const { g, log } = gate();
  g.listening();
  g.speakable();
  g.verdict('machine_end_other');
  assert.equal(log.length, 2);
  assert.match(log[0], /^amd\.menuSuspected \{"answeredBy":"machine_end_other"/);
  assert.equal(log[1], 'menu machine_end_other');
  g.handOver();
  assert.ok(g.isOpen, 'handed over: the conversation path hears the callee from now on');
  g.verdict('human');
  g.calleeSpeech(true);
  g.calleeSpeech(false);
  assert.equal(log.length, 2, 'no greeting after the hand-over');
  g.close();
});

test('an inbound call: the gate opens as soon as the caller can hear us, without waiting to hear them', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const { g, log } = gate();
    g.listening('inbound');
    assert.deepEqual(log, [], 'not before the engine can speak');
    g.speakable();
    assert.deepEqual(log, ['open inbound']);
    g.calleeSpeech(true);
    mock.timers.tick(5000);
    g.calleeSpeech(false);
    assert.deepEqual(log, ['open inbound']);
  } finally {
    mock.timers.reset();
  }
});

test('a machine verdict vetoes the gate: it stays shut until a screener heard after the verdict opens it; a call that ends stays shut', () => {
  const { g, log } = gate();
  g.listening();
  g.speakable();
  g.calleeSpeech(true);
  g.verdict('machine_start');
  g.calleeSpeech(false);
  g.verdict('human');
  assert.deepEqual(log, ['voicemail machine_start']);
  assert.ok(!g.isOpen);
  g.screening();
  assert.deepEqual(log, ['voicemail machine_start', 'open screening']);
  assert.ok(g.isOpen);
  const ended = gate();
  ended.g.listening();
  ended.g.speakable();
  ended.g.verdict('machine_start');
  ended.g.close();
  ended.g.screening();
  assert.deepEqual(ended.log, ['voicemail machine_start']);
});

test('an opening is called long as soon as it passes a "Hello?" while still being spoken, and once', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const { g, log } = gate();
    g.listening();
    g.speakable();
    g.calleeSpeech(true);
    mock.timers.tick(2400);
    assert.deepEqual(log, []);
    mock.timers.tick(200);
    assert.deepEqual(log, ['long opening'], 'told mid-utterance, at 2.5 s of speech');
    mock.timers.tick(2000);
    g.calleeSpeech(false);
    g.calleeSpeech(true);
    mock.timers.tick(3000);
    g.calleeSpeech(false);
    assert.deepEqual(log, ['long opening', 'greeting.held {"openingMs":4600}', 'greeting.held {"openingMs":7600}']);
    const short = gate();
    short.g.listening();
    short.g.speakable();
    short.g.calleeSpeech(true);
    mock.timers.tick(2000);
    short.g.calleeSpeech(false);
    mock.timers.tick(5000);
    assert.deepEqual(short.log, ['open end-of-turn'], 'a 2 s "Hello?" is a person: never long');
  } finally {
    mock.timers.reset();
  }
});

test('an utterance is measured in the caller audio when the detector says where: events late or in a burst do not change it', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    // A 4 s mailbox greeting whose events arrive 1.9 s apart (the first came late, on a loaded machine).
    const mailbox = gate();
    mailbox.g.listening();
    mailbox.g.speakable();
    mailbox.g.calleeSpeech(true, 400);
    mock.timers.tick(1900);
    mailbox.g.calleeSpeech(false, 4400);
    assert.deepEqual(mailbox.log.slice(-1), ['greeting.held {"openingMs":4000}']);
    assert.ok(!mailbox.log.some((l) => l.startsWith('open')), 'a mailbox is not greeted');

    // A person's "Hello?" (1.2 s with the silence that ends it) whose end was told 3 s later.
    const person = gate();
    person.g.listening();
    person.g.speakable();
    person.g.calleeSpeech(true, 600);
    mock.timers.tick(3000);
    person.g.calleeSpeech(false, 1800);
    assert.deepEqual(person.log.filter((l) => !l.startsWith('long')).slice(-1), ['open end-of-turn']);

    // Without positions, the clock.
    const clock = gate();
    clock.g.listening();
    clock.g.speakable();
    clock.g.calleeSpeech(true);
    mock.timers.tick(1000);
    clock.g.calleeSpeech(false);
    assert.deepEqual(clock.log, ['open end-of-turn']);
  } finally {
    mock.timers.reset();
  }
});
