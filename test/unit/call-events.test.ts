import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCallView, describeEvent } from '../../web/src/lib/call-events.js';
import type { TimelineEvent } from '../../web/src/lib/types.js';

let seq = 0;
const ev = (type: string, data: Record<string, unknown> = {}, sec = seq): TimelineEvent => ({ seq: ++seq, at: new Date(Date.UTC(2026, 10, 24, 7, 0, sec)).toISOString(), type, data });

test('the call view: status steps, answered-by, transcript with the heard part, tool calls paired with results', () => {
  seq = 0;
  const events = [
    ev('status', { status: 'queued' }),
    ev('status', { status: 'dialing' }),
    ev('status', { status: 'ringing' }),
    ev('status', { status: 'answered' }),
    ev('status', { status: 'screening' }),
    ev('amd', { answeredBy: 'human', machine: false }),
    ev('status', { status: 'talking' }),
    ev('transcript', { speaker: 'callee', text: 'Hello?' }),
    ev('transcript', { speaker: 'agent', text: 'One biryani for pickup at seven please', interrupted: { heardText: 'One biryani', heardMs: 900, totalMs: 3000 } }),
    ev('tool.call', { callId: 'c1', name: 'end_call', arguments: { reason: 'done' } }),
    ev('tool.result', { callId: 'c1', name: 'end_call', ok: true, output: 'hanging up' }),
  ];
  const live = buildCallView(events);
  assert.equal(live.status, 'talking');
  assert.deepEqual(live.steps.map((s) => [s.key, s.state]), [['dialing', 'done'], ['ringing', 'done'], ['answered', 'done'], ['talking', 'current'], ['ended', 'pending']]);
  assert.equal(live.steps[2].label, 'Answered by a person');
  const turns = live.items.filter((i) => i.kind === 'turn');
  assert.deepEqual(turns.map((t) => t.kind === 'turn' && [t.speaker, t.interrupted?.heardText ?? t.text]), [['callee', 'Hello?'], ['agent', 'One biryani']]);
  const tool = live.items.find((i) => i.kind === 'tool');
  assert.deepEqual(tool?.kind === 'tool' && tool.result, { ok: true, output: 'hanging up' });

  const ended = buildCallView([...events, ev('status', { status: 'ended', reason: 'agent-hangup' }), ev('records.complete')]);
  assert.equal(ended.status, 'ended');
  assert.equal(ended.endReason, 'agent-hangup');
  assert.equal(ended.complete, true);
  assert.deepEqual(ended.steps.map((s) => s.state), ['done', 'done', 'done', 'done', 'done']);
  assert.equal(ended.steps[4].detail, 'The agent ended the call');
  assert.equal(ended.items.filter((i) => i.kind === 'note' && /never arrived/.test(i.text)).length, 0);

  // Records that never came are said, once the server stops waiting for them.
  const gaveUp = buildCallView([...events, ev('status', { status: 'ended', reason: 'agent-hangup' }), ev('records.complete', { missing: ['recording', 'price'] })]);
  assert.equal(gaveUp.complete, true);
  const note = gaveUp.items.find((i) => i.kind === 'note' && /never arrived/.test(i.text));
  assert.equal(note?.kind === 'note' && note.tone, 'warn');
  assert.equal(note?.kind === 'note' && note.text, 'Stopped waiting for the recording and carrier price: never arrived');
});

test('a call that never connects skips the steps it never reached; status never moves backwards', () => {
  seq = 0;
  const v = buildCallView([ev('status', { status: 'dialing' }), ev('status', { status: 'ringing' }), ev('status', { status: 'ended', reason: 'no-answer' }), ev('status', { status: 'ringing' })]);
  assert.equal(v.status, 'ended');
  assert.deepEqual(v.steps.map((s) => s.state), ['done', 'done', 'skipped', 'skipped', 'done']);
  assert.equal(v.steps[4].detail, 'No answer');
});

test('knowledge lookups show inline with their sources; every event type has a description, unknown ones too', () => {
  seq = 0;
  const v = buildCallView([ev('knowledge.lookup', { query: 'vegetarian starters', results: [{ file: 'menu.pdf', page: 2, score: 0.8, text: 'Paneer tikka' }] })]);
  assert.deepEqual(v.items[0], { kind: 'lookup', seq: 1, at: v.items[0].at, query: 'vegetarian starters', results: [{ file: 'menu.pdf', page: 2, score: 0.8, text: 'Paneer tikka' }] });
  assert.equal(describeEvent(ev('error', { source: 'openai', fatal: true, code: 'disconnected', message: 'socket closed' })), 'Error from openai: socket closed (disconnected)');
  assert.equal(describeEvent(ev('usage', { provider: 'openai', meters: { audio_input_tokens: 10, text_output_tokens: 0 } })), 'Usage (openai): 10 audio input tokens');
  assert.equal(describeEvent(ev('something.new', { a: 1, nested: { x: 1 } })), 'something.new (a=1)');
  assert.equal(describeEvent(ev('agent.interrupted', { cause: 'callee', items: [{ itemId: 'i1', heardMs: 1200 }] })), 'Callee interrupted the agent after 1.2 s heard');
  assert.equal(describeEvent(ev('agent.interrupted', { cause: 'answering-machine', items: [{ itemId: 'i1', heardMs: 1750 }] })), 'Agent stopped: an answering machine answered after 1.8 s heard');
  assert.equal(
    describeEvent(ev('policy.override', { rule: 'calling-hours', window: '08:00-21:00', local: [{ zone: 'America/Chicago', time: '22:14' }] })),
    'Calling hours overridden for this call (allowed 08:00-21:00; it was 22:14 in America/Chicago)',
  );
  assert.equal(
    describeEvent(ev('policy.override', { rule: 'calling-hours', window: '08:00-21:00', local: [{ zone: 'America/Chicago', time: '22:14' }], reason: 'they close at 23:00' })),
    'Calling hours overridden for this call (allowed 08:00-21:00; it was 22:14 in America/Chicago): they close at 23:00',
  );
  assert.equal(describeEvent(ev('media.invalidFrames', { stream: 1, count: 300, total: 300, lastReason: 'bad base64' })), '300 malformed media frames dropped (last: bad base64)');
  assert.equal(describeEvent(ev('store.delayed', { events: 12, delayMs: 3001.4 })), '12 events written 3001 ms late: the database was busy');
});

test('a lookup_context call shows once, as its lookup card; a failed lookup still shows', () => {
  seq = 0;
  const ok = buildCallView([
    ev('knowledge.retrieved', { clientId: 'raju', mode: 'hybrid', results: [{ file: 'menu.md', page: null, chunkId: 'c', score: 0.5 }] }),
    ev('tool.call', { callId: 't1', name: 'lookup_context', arguments: { query: 'starters' } }),
    ev('knowledge.lookup', { query: 'starters', mode: 'hybrid', results: [{ file: 'menu.md', page: null, score: 0.5, excerpt: 'Paneer tikka' }] }),
    ev('tool.result', { callId: 't1', name: 'lookup_context', ok: true, output: 'Excerpts…' }),
  ]);
  assert.deepEqual(ok.items.map((i) => i.kind), ['sources', 'lookup']);
  const lookup = ok.items[1];
  assert.equal(lookup.kind === 'lookup' && lookup.results[0].text, 'Paneer tikka');

  const failed = buildCallView([ev('tool.call', { callId: 't2', name: 'lookup_context', arguments: { query: 'x' } }), ev('tool.result', { callId: 't2', name: 'lookup_context', ok: false, output: 'index unavailable' })]);
  assert.deepEqual(failed.items.map((i) => i.kind === 'tool' && i.result), [{ ok: false, output: 'index unavailable' }]);
  const noDocs = buildCallView([ev('knowledge.retrieved', { clientId: 'raju', error: 'index locked', results: [] })]);
  assert.deepEqual(noDocs.items.map((i) => i.kind === 'note' && i.tone), ['warn']);
});

test('keys pressed show inline in the conversation, in place of the send_dtmf chip, cut-offs included', () => {
  seq = 0;
  const view = buildCallView([
    ev('transcript', { speaker: 'callee', text: 'For billing, press one.' }),
    ev('tool.call', { callId: 'k1', name: 'send_dtmf', arguments: { digits: '1w2' } }),
    ev('dtmf.sent', { digits: '1w2', source: 'tool', status: 'played', pressed: '1w2' }),
    ev('tool.result', { callId: 'k1', name: 'send_dtmf', ok: true, output: 'Pressed 1, pause, 2.' }),
    ev('dtmf.sent', { digits: '204#', source: 'call', status: 'interrupted', pressed: '20' }),
  ]);
  assert.deepEqual(
    view.items.map((i) => (i.kind === 'note' ? [i.kind, i.tone, i.text] : [i.kind])),
    [['turn'], ['note', 'info', 'Pressed 1, pause, 2'], ['note', 'warn', 'Pressed 2, 0; 4, # cut off (keys given with the call)']],
  );
  assert.equal(describeEvent(ev('dtmf.sent', { digits: '5', source: 'tool', status: 'played', pressed: '5' })), 'Agent pressed 5');
});

test('voicemail: the call plan from the queued event, the outcome label and the timeline lines', async () => {
  const { voicemailPlanText } = await import('../../web/src/lib/call-events.js');
  seq = 0;
  const plan = { action: 'leave-message', message: 'Please call Raju back.' };
  const view = buildCallView([ev('status', { status: 'queued', voicemail: plan }), ev('status', { status: 'ended', reason: 'voicemail-left' })]);
  assert.deepEqual(view.voicemail, plan);
  assert.equal(voicemailPlanText(view.voicemail), 'Leave this message after the beep: “Please call Raju back.”');
  assert.equal(voicemailPlanText({ action: 'hangup' }), 'Hang up');
  assert.equal(voicemailPlanText(undefined), undefined);
  assert.ok(view.items.some((i) => i.kind === 'note' && i.text === 'Call ended: Voicemail: message left'));
  assert.equal(describeEvent(ev('voicemail.message', { trigger: 'beep' })), 'Voicemail: leaving the message (beep heard)');
  assert.equal(describeEvent(ev('amd.ignored', { answeredBy: 'machine_end_silence', reason: 'call-screening' })), 'Answering-machine verdict (a machine) set aside: a call-screening assistant, not voicemail');
  assert.match(describeEvent(ev('screening.detected', {})), /call-screening assistant answered/);
});

test('hold: the view knows the mode and since when (the page shows "on hold m:ss"), the log names each line heard', () => {
  seq = 0;
  const events = [ev('status', { status: 'talking' }, 1), ev('mode.changed', { from: 'talking', to: 'on-hold', reason: 'asked', maxMinutes: 45 }, 10)];
  const onHold = buildCallView(events);
  assert.equal(onHold.mode, 'on-hold');
  assert.equal(onHold.modeSince, events[1].at);
  const back = buildCallView([...events, ev('mode.changed', { from: 'on-hold', to: 'talking', reason: 'person-returned' }, 40)]);
  assert.equal(back.mode, 'talking');
  assert.equal(describeEvent(ev('hold.heard', { verdict: 'announcement', by: 'music-resumed', speechMs: 2000 })), 'On hold: a recorded announcement (music resumed)');
  assert.equal(describeEvent(ev('hold.heard', { verdict: 'person', by: 'words', speechMs: 2000 })), 'On hold: a person is back');
  assert.match(describeEvent(ev('status', { status: 'ended', reason: 'hold-timeout' })), /On hold too long/);
});

test('a phone menu in the conversation: where it began, the stuck menu and the operator route, the person picking up', () => {
  seq = 0;
  const view = buildCallView([
    ev('mode.changed', { from: 'greeting', to: 'menu', reason: 'menu-verdict' }),
    ev('transcript', { speaker: 'callee', text: "I'm sorry, that is not a valid option." }),
    ev('menu.prompt', { text: "I'm sorry, that is not a valid option." }),
    ev('menu.stuck', { why: 'invalid-option', prompt: "I'm sorry, that is not a valid option." }),
    ev('menu.operator', { route: '0' }),
    ev('dtmf.sent', { digits: '0', source: 'menu', status: 'played', pressed: '0' }),
    ev('menu.speechDropped', { itemId: 'i1', text: 'Hello?' }),
    ev('mode.changed', { from: 'menu', to: 'talking', reason: 'person-answered' }),
    ev('mode.changed', { from: 'talking', to: 'ending', reason: 'call ending' }),
  ]);
  assert.deepEqual(
    view.items.map((i) => (i.kind === 'note' ? [i.tone, i.text] : [i.kind])),
    [
      ['info', 'A phone menu answered: the agent listens and presses keys, saying nothing to it'],
      ['turn'],
      ['warn', 'Phone menu: "not a valid option": stuck'],
      ['warn', 'Phone menu: trying the operator (pressing 0)'],
      ['info', 'Pressed 0 (operator route)'],
      ['info', 'A person picked up after the phone menu'],
    ],
  );
  assert.equal(describeEvent(ev('menu.speechDropped', { itemId: 'i1', text: 'Hello?' })), 'Words not played to the phone menu: "Hello?"');
  assert.equal(describeEvent(ev('agent.interrupted', { cause: 'mode', items: [{ heardMs: 1200 }] })), 'Agent stopped: a phone menu answered after 1.2 s heard');
});

test('questions to the owner: open while unanswered, in place of the ask_owner chip; answered, timed out, withdrawn with the call', () => {
  seq = 0;
  const asked = [
    ev('status', { status: 'talking' }),
    ev('tool.call', { callId: 'c1', name: 'ask_owner', arguments: { question: 'Mild or hot?' } }),
    ev('owner.asked', { questionId: 'q1', question: 'Mild or hot?', ownerName: 'Raju Kumar', code: '1234', channels: ['ui', 'sms'], timeoutMs: 90000 }),
    ev('owner.delivery', { questionId: 'q1', channel: 'sms', ok: true }),
  ];
  const open = buildCallView(asked);
  assert.deepEqual(open.questions, [{ id: 'q1', question: 'Mild or hot?', ownerName: 'Raju Kumar', askedAt: asked[2].at, timeoutMs: 90000, state: 'open' }]);
  assert.ok(!open.items.some((i) => i.kind === 'tool'), 'the question takes the chip\'s place');
  assert.ok(open.items.some((i) => i.kind === 'note' && i.text === 'Asked Raju Kumar: "Mild or hot?"'));

  const answered = buildCallView([...asked, ev('owner.answered', { questionId: 'q1', answer: 'Hot', channel: 'sms', afterMs: 8200 })]);
  assert.equal(answered.questions[0].state, 'answered');
  assert.equal(answered.questions[0].answer, 'Hot');
  assert.ok(answered.items.some((i) => i.kind === 'note' && i.text === 'Raju Kumar answered by SMS after 8 s: "Hot"'));

  const timedOut = buildCallView([...asked, ev('owner.timeout', { questionId: 'q1', afterMs: 90000 })]);
  assert.equal(timedOut.questions[0].state, 'timeout');
  assert.match(describeEvent(ev('owner.timeout', { questionId: 'q1', afterMs: 90000 })), /No answer after 90 s/);

  const ended = buildCallView([...asked, ev('status', { status: 'ended', reason: 'callee-hangup' })]);
  assert.equal(ended.questions[0].state, 'cancelled', 'open questions go with the call');
  for (const type of ['owner.holdingLine', 'owner.cancelled']) assert.doesNotMatch(describeEvent(ev(type, { afterMs: 1000 })), /^owner\./);
});
