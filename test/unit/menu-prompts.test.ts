import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MenuStuckTracker, isInvalidOptionPrompt, looksLikeMenu, promptSimilarity, soundsLikePerson } from '../../src/bridge/menu-prompts.js';

const MAIN = 'Thank you for calling Acme. For billing, press 1. For support, press 2. To hear these options again, press star.';

test('menu wording is recognised; a person answering or a household greeting is not a menu', () => {
  for (const t of [
    MAIN,
    'For billing press one.',
    'Please say or press the number of your department.',
    'If you know your party\'s extension, dial it now.',
    'Please enter your account number followed by the pound key.',
    'Para español, oprima el dos.',
    'Thank you for calling Acme Insurance.',
    'Sorry, that is not a valid option.',
  ])
    assert.ok(looksLikeMenu(t), t);
  for (const t of ['Hello?', 'Hi, this is Sam, how can I help?', 'Good afternoon, you have reached the front desk of the Raju household.', 'Yes, speaking.', 'Thank you for calling Acme, this is Sam, how can I help?'])
    assert.ok(!looksLikeMenu(t), t);
});

test('"not a valid option" and "I didn\'t get that" prompts are recognised, in their usual wordings', () => {
  for (const t of [
    "I'm sorry, that is not a valid option.",
    'That was an invalid entry.',
    "Sorry, I didn't get that.",
    "I'm sorry, I didn't understand.",
    'Invalid selection. Please try again.',
    'We did not receive a selection.',
  ])
    assert.ok(isInvalidOptionPrompt(t), t);
  for (const t of [MAIN, 'Hi, this is Sam, how can I help?', 'Please hold while we connect you.']) assert.ok(!isInvalidOptionPrompt(t), t);
});

test('a person picking up is told from the menu: person wording, and nothing a menu says', () => {
  for (const t of ['Hi, this is Sam, how can I help?', 'Billing, Maria speaking.', 'Hello, how may I help you today?', 'Thank you for calling Acme, this is Sam, how can I help?', 'Hello? Are you still there?', 'Hi, sorry for the wait.'])
    assert.ok(soundsLikePerson(t), t);
  for (const t of [MAIN, 'For billing, press 1.', 'Thank you.', 'Please hold.', '', 'Hi! For sales press one.']) assert.ok(!soundsLikePerson(t), t);
});

test('similarity: one prompt transcribed twice with small differences is alike; two menus are not', () => {
  const again = 'Thank you for calling Acme. For billing press one. For support press 2. To hear these options again press star.';
  assert.ok(promptSimilarity(MAIN, MAIN) === 1);
  assert.ok(promptSimilarity(MAIN, again) >= 0.8, String(promptSimilarity(MAIN, again)));
  const sub = 'Billing. For a copy of your bill, press 1. To make a payment, press 2. For anything else, press 0.';
  assert.ok(promptSimilarity(MAIN, sub) < 0.4, String(promptSimilarity(MAIN, sub)));
  assert.equal(promptSimilarity('', ''), 1);
  assert.equal(promptSimilarity('Hello', ''), 0);
});

test('stuck: the same prompt a third time, not before; another prompt in between still counts the repeats', () => {
  const t = new MenuStuckTracker();
  assert.deepEqual(t.prompt(MAIN), { stuck: false });
  assert.deepEqual(t.prompt('Billing. For a copy of your bill, press 1.'), { stuck: false });
  assert.deepEqual(t.prompt(MAIN.toUpperCase()), { stuck: false });
  assert.deepEqual(t.prompt(MAIN.replace('1', 'one')), { stuck: true, why: 'repeated', times: 3 });
});

test('stuck: an invalid-option prompt at once; reset starts counting afresh; empty prompts do not count', () => {
  const t = new MenuStuckTracker();
  assert.deepEqual(t.prompt("I'm sorry, that is not a valid option. " + MAIN), { stuck: true, why: 'invalid-option' });
  t.reset();
  assert.deepEqual(t.prompt(MAIN), { stuck: false });
  assert.deepEqual(t.prompt(''), { stuck: false });
  assert.deepEqual(t.prompt(MAIN), { stuck: false });
  assert.deepEqual(new MenuStuckTracker({ repeats: 2 }).prompt(MAIN), { stuck: false });
});
