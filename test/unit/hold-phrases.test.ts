/** The text rules of hold (src/bridge/hold-phrases.ts): asked to hold, and announcement vs person. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asksToHold, classifyHoldLine } from '../../src/bridge/hold-phrases.js';

test('asked to hold: the usual ways of saying it, and not other uses of the words', () => {
  for (const t of ['Please hold.', 'Hold on a second.', 'Can you hold, please?', "I'll put you on hold.", 'One moment please', 'Just a sec.', 'Bear with me.', 'Could you please hold?', 'Hold the line.'])
    assert.ok(asksToHold(t), t);
  for (const t of ['Hello?', 'We hold the order until seven.', 'Is this a good moment?', 'Can I help you?']) assert.ok(!asksToHold(t), t);
});

test('a line repeated on the same hold is a recording, whatever it says', () => {
  const earlier = ['Thanks for holding, a representative will be with you shortly.'];
  assert.equal(classifyHoldLine('Thanks for holding. A representative will be with you shortly.', earlier), 'announcement');
  assert.equal(classifyHoldLine('Thanks for holding, a representative will be with you shortly.', []), 'announcement', 'stock phrase');
});

test('stock phrases are announcements; a person naming themselves or offering help is a person', () => {
  for (const t of ['Your call is important to us. Please continue to hold.', 'All of our agents are currently busy assisting other customers.', 'Calls may be recorded for quality purposes.', 'Your estimated wait time is five minutes.', 'To leave a message, press 1.', 'Thank you for your patience.'])
    assert.equal(classifyHoldLine(t, []), 'announcement', t);
  for (const t of ['Thanks for holding, this is Sam, how can I help?', 'Hi, sorry about the wait.', 'Are you still there?', 'Thank you for calling Acme, this is Dana speaking, how may I help you?', 'Hello?', 'Thanks for waiting.'])
    assert.equal(classifyHoldLine(t, []), 'person', t);
  assert.equal(classifyHoldLine('This is a recorded message.', []), 'unclear');
  assert.equal(classifyHoldLine('(music)', []), 'unclear');
  assert.equal(classifyHoldLine('Billing department.', []), 'unclear', 'left to what follows the line');
});
