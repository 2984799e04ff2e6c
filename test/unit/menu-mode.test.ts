import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { MenuMode, MENU_CHOICE_INSTRUCTIONS, PERSON_ANSWERED_INSTRUCTIONS, SAY_REPRESENTATIVE_INSTRUCTIONS } from '../../src/bridge/menu-mode.js';
import type { CallMode } from '../../src/bridge/call-mode.js';
import type { VoiceEngine } from '../../src/voice/engine.js';

const MENU = 'For billing, press 1. For orders, press 2.';

/** A MenuMode with a recording host; `mode` follows setMode as CallModes would. */
function menuMode(o: { repliesByItself?: boolean; keysGiven?: string; responding?: () => boolean } = {}) {
  const log: string[] = [];
  let mode: CallMode = 'greeting';
  const engine = {
    generateReply: (opts?: { instructions?: string }) => log.push(`reply ${opts?.instructions === MENU_CHOICE_INSTRUCTIONS ? 'choose' : opts?.instructions === PERSON_ANSWERED_INSTRUCTIONS ? 'person' : opts?.instructions === SAY_REPRESENTATIVE_INSTRUCTIONS ? 'representative' : opts?.instructions}`),
    deleteItem: (id: string) => log.push(`delete ${id}`),
    interrupt: () => log.push('interrupt'),
  } as unknown as VoiceEngine;
  const m: MenuMode = new MenuMode({
    engine,
    hooks: {
      record: (type, data) => log.push(`${type} ${JSON.stringify(data)}`),
      conversationStarted: () => log.push('conversation'),
      requestEnd: (reason) => log.push(`end ${reason}`),
    },
    modes: {
      get current() {
        return mode;
      },
      set: (to, reason) => {
        if (mode === to) return false;
        const from = mode;
        mode = to;
        log.push(`mode ${to} ${reason}`);
        if (to === 'menu') m.entered();
        else if (from === 'menu') m.left();
        return true;
      },
    },
    press: async (digits, source) => {
      log.push(`press ${digits} ${source}`);
      return { status: 'played', pressed: digits };
    },
    keysGiven: o.keysGiven,
    promptEndMs: 1500,
    engineRepliesByItself: o.repliesByItself ?? false,
    responding: o.responding,
  });
  return { m, log, mode: () => mode };
}

/** The menu speaks `text` for `ms`, then is silent. */
function prompt(m: MenuMode, text: string, ms = 2000): void {
  m.calleeSpeech(true);
  mock.timers.tick(ms);
  m.calleeSpeech(false);
  m.heard(text, false);
}

test('a prompt ends only after 1.5 s of silence: a pause between options does not end it; then the engine is asked to choose', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const { m, log } = menuMode();
    m.enter('menu-verdict');
    prompt(m, 'Welcome to Acme.');
    mock.timers.tick(700); // the menu pauses between sentences
    prompt(m, MENU);
    mock.timers.tick(1499);
    assert.ok(!log.some((l) => l.startsWith('reply')), 'not before the silence has lasted');
    mock.timers.tick(1);
    assert.deepEqual(log.slice(-2), [`menu.prompt {"text":"Welcome to Acme. ${MENU}"}`, 'reply choose']);
  } finally {
    mock.timers.reset();
  }
});

test('the words of a prompt that come after its silence are waited for (briefly), then decided on', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const { m, log } = menuMode();
    m.enter('menu-verdict');
    m.calleeSpeech(true);
    mock.timers.tick(2000);
    m.calleeSpeech(false);
    mock.timers.tick(1600);
    assert.ok(!log.some((l) => l.startsWith('menu.prompt')));
    m.heard(MENU, false);
    assert.deepEqual(log.slice(-2), [`menu.prompt {"text":"${MENU}"}`, 'reply choose']);
    // No words at all: decided without them after the wait.
    m.calleeSpeech(true);
    m.calleeSpeech(false);
    mock.timers.tick(1500);
    mock.timers.tick(1500);
    assert.deepEqual(log.slice(-2), ['menu.prompt {"text":""}', 'reply choose']);
  } finally {
    mock.timers.reset();
  }
});

test('the same prompt three times: stuck; the operator route is 0, then "representative" (spoken), then the call ends as menu-stuck', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const { m, log } = menuMode();
    m.enter('menu-verdict');
    const round = () => {
      prompt(m, MENU);
      mock.timers.tick(1500);
    };
    round();
    round();
    log.length = 0;
    round();
    assert.deepEqual(log, [`menu.prompt {"text":"${MENU}"}`, `menu.stuck {"why":"repeated","times":3,"prompt":"${MENU}"}`, 'menu.operator {"route":"0"}', 'press 0 menu']);
    log.length = 0;
    prompt(m, "That was an invalid entry. " + MENU);
    mock.timers.tick(1500);
    assert.deepEqual(log.slice(-2), ['menu.operator {"route":"representative"}', 'reply representative']);
    // The spoken word is the one response at the menu that is played; the next is silenced again.
    m.replyStarted('r1');
    assert.equal(m.silences('r1'), false);
    m.replyStarted('r2');
    assert.equal(m.silences('r2'), true);
    m.droppedItem('i2', 'r2', 'Hello?');
    assert.deepEqual(log.slice(-2), ['delete i2', 'menu.speechDropped {"itemId":"i2","text":"Hello?"}']);
    round();
    round();
    round();
    assert.deepEqual(log.slice(-2), ['menu.gaveUp {"operatorTries":2}', 'end menu-stuck']);
  } finally {
    mock.timers.reset();
  }
});

test('an engine that answers by itself: its presses wait for the prompt to end, a withdrawn one presses nothing, and no choice is asked for', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const { m, log } = menuMode({ repliesByItself: true });
    m.enter('menu-verdict');
    m.calleeSpeech(true);
    mock.timers.tick(2000);
    m.calleeSpeech(false);
    m.heard(MENU, false);
    const withdrawn = new AbortController();
    const cancelled = m.enginePress('1', withdrawn.signal);
    const kept = m.enginePress('2');
    withdrawn.abort();
    assert.deepEqual(await cancelled, { status: 'cancelled', pressed: '' });
    assert.ok(!log.some((l) => l.startsWith('press')), 'nothing pressed while the prompt may go on');
    mock.timers.tick(1500);
    assert.deepEqual(await kept, { status: 'played', pressed: '2' });
    assert.deepEqual(log.filter((l) => l.startsWith('press') || l.startsWith('reply')), ['press 2 tool']);
    // Once the menu is silent, a press goes at once.
    await m.enginePress('3');
    assert.equal(log.at(-1), 'press 3 tool');
  } finally {
    mock.timers.reset();
  }
});

test('keys given with the call go at the first prompt end, instead of the engine choosing; a person picking up is greeted', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const { m, log, mode } = menuMode({ keysGiven: '204#' });
    assert.ok(m.expectsMenu);
    m.calleeSpeech(true);
    mock.timers.tick(1000);
    m.calleeSpeech(false);
    m.enter('keys-given');
    m.heard('Please enter the extension.', true);
    mock.timers.tick(1500);
    assert.equal(log.at(-1), 'press 204# call');
    assert.ok(!m.expectsMenu);
    m.calleeSpeech(true);
    m.calleeSpeech(false);
    m.heard('Hi, this is Sam, how can I help?', false);
    assert.equal(mode(), 'talking');
    assert.deepEqual(log.slice(-3), ['mode talking person-answered', 'conversation', 'reply person']);
    mock.timers.tick(5000);
    assert.equal(log.at(-1), 'reply person', 'nothing more happens once the person is on');
  } finally {
    mock.timers.reset();
  }
});

test('a menu-like opening enters the menu, a person-like one does not; later, only a menu\'s options do', () => {
  const a = menuMode();
  a.m.heard('Thank you for calling Acme. For billing press 1.', true);
  assert.equal(a.mode(), 'menu');
  const b = menuMode();
  b.m.heard('Hello?', true);
  assert.equal(b.mode(), 'greeting');
  b.m.heard('Thank you for calling, goodbye.', false);
  assert.equal(b.mode(), 'greeting', 'a welcome after the opening is not a menu');
  b.m.heard('For sales, press 1. For support, press 2.', false);
  assert.equal(b.mode(), 'menu', 'options are, whenever they come');
});

test('a response still running at a prompt end is not doubled; one begun at the menu gives way to the person, and its late press is refused', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    let busy = true;
    const { m, log, mode } = menuMode({ responding: () => busy });
    m.enter('menu-verdict');
    m.replyStarted('r1');
    prompt(m, MENU);
    mock.timers.tick(1500);
    assert.ok(!log.includes('reply choose'), 'the running response is choosing already');
    m.heard('Hi, this is Sam, how can I help?', false);
    assert.equal(mode(), 'talking');
    assert.deepEqual(log.slice(-2), ['interrupt', 'reply person']);
    busy = false;
    assert.deepEqual(await m.enginePress('2', undefined, 'r1'), { status: 'refused', pressed: '', why: 'Nothing was pressed: a person picked up. Talk to them.' });
    assert.equal(mode(), 'talking', 'a stale press does not take the call back to the menu');
    assert.ok(!log.some((l) => l.startsWith('press')));
  } finally {
    mock.timers.reset();
  }
});

test('a reply still running at a prompt end (a slow LLM or TTS) that presses nothing: the choice is asked for once it is done', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    let busy = true;
    const { m, log } = menuMode({ responding: () => busy });
    m.enter('menu-verdict');
    m.replyStarted('r1'); // the reply to the options, silenced at the menu
    prompt(m, MENU);
    mock.timers.tick(1500);
    assert.ok(!log.includes('reply choose'), 'not while the reply runs');
    busy = false;
    m.replyDone();
    mock.timers.tick(149);
    assert.ok(!log.includes('reply choose'), 'not before its tool call could have arrived');
    mock.timers.tick(1);
    assert.equal(log.filter((l) => l === 'reply choose').length, 1);
    m.replyDone();
    mock.timers.tick(1000);
    assert.equal(log.filter((l) => l === 'reply choose').length, 1, 'asked once');
  } finally {
    mock.timers.reset();
  }
});

test('a reply running at a prompt end that presses a key as it ends, or a menu that speaks again: no choice asked for after it', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    let busy = true;
    const { m, log } = menuMode({ responding: () => busy });
    m.enter('menu-verdict');
    m.replyStarted('r1');
    prompt(m, MENU);
    mock.timers.tick(1500);
    busy = false;
    m.replyDone();
    // Its send_dtmf reaches the menu just after the reply's end (as the cascade emits them).
    assert.deepEqual(await m.enginePress('2', undefined, 'r1'), { status: 'played', pressed: '2' });
    mock.timers.tick(1000);
    assert.ok(!log.includes('reply choose'), 'the reply had chosen');

    busy = true;
    m.replyStarted('r2');
    prompt(m, MENU);
    mock.timers.tick(1500);
    m.calleeSpeech(true); // the menu speaks again before the reply ends
    busy = false;
    m.replyDone();
    mock.timers.tick(1000);
    assert.ok(!log.includes('reply choose'), 'the next prompt end decides');
    mock.timers.tick(1000);
    m.calleeSpeech(false);
    m.heard('Please press 1 or 2.', false);
    mock.timers.tick(1500);
    assert.equal(log.filter((l) => l === 'reply choose').length, 1, 'asked at the next prompt end');
  } finally {
    mock.timers.reset();
  }
});
