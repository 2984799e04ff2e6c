import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OwnerQuestions, type AskRequest } from '../../src/owner/questions.js';
import type { OwnerChannel, OwnerQuestion } from '../../src/owner/owner-channel.js';
import { OwnerWait, HOLDING_LINE_INSTRUCTIONS, lateAnswerInstructions, relayInstructions } from '../../src/bridge/owner-wait.js';
import type { VoiceEngine } from '../../src/voice/engine.js';
import { ownerWebhookFromSettings } from '../../src/owner/channels.js';
import { parseSettings, SettingsError } from '../../src/config/settings.js';

function recorder() {
  const events: Array<{ type: string; data: Record<string, unknown> }> = [];
  return { events, record: (type: string, data: Record<string, unknown>) => events.push({ type, data }) };
}

function request(callId: string, question: string, o: Partial<AskRequest> = {}) {
  const r = recorder();
  const ac = new AbortController();
  const req: AskRequest = { callId, callee: '+14155550123', ownerName: 'Raju', question, timeoutMs: 60_000, signal: ac.signal, record: r.record as AskRequest['record'], ...o };
  return { req, ac, events: r.events };
}

const asked = (events: Array<{ type: string; data: Record<string, unknown> }>) => events.find((e) => e.type === 'owner.asked')!.data as { questionId: string; code: string };

test('the first answer wins; a second is refused with 409, another call or an unknown id with 404', async () => {
  const delivered: OwnerQuestion[] = [];
  const channel: OwnerChannel = { name: 'test', deliver: async (q) => void delivered.push(q) };
  const owner = new OwnerQuestions([channel]);
  const a = request('call-a', 'Mild or hot?');
  const reply = owner.ask(a.req);
  const { questionId } = asked(a.events);
  assert.equal(delivered[0].question, 'Mild or hot?');
  assert.deepEqual(owner.answer('call-b', questionId, 'hot', 'ui'), { status: 404, error: `no question ${questionId} on this call` });
  assert.deepEqual(owner.answer('call-a', questionId, 'hot', 'ui'), { ok: true });
  const second = owner.answer('call-a', questionId, 'mild', 'api');
  assert.equal('status' in second && second.status, 409);
  const r = await reply;
  assert.equal(r.status, 'answered');
  assert.equal(r.status === 'answered' && r.answer, 'hot');
  const answered = a.events.find((e) => e.type === 'owner.answered')!.data;
  assert.equal(answered.channel, 'ui');
  assert.deepEqual(owner.answer('call-a', 'nope', 'x', 'ui'), { status: 404, error: 'no question nope on this call' });
});

test('an SMS reply answers the latest open question, or the one its code names', async () => {
  const owner = new OwnerQuestions([]);
  const one = request('call-a', 'First?');
  const two = request('call-b', 'Second?');
  const p1 = owner.ask(one.req);
  const p2 = owner.ask(two.req);
  const code1 = asked(one.events).code;
  assert.match(code1, /^\d{4}$/);
  assert.notEqual(code1, asked(two.events).code);
  assert.equal(owner.answerReply(`${code1}: yes please`, 'sms')?.question, 'First?');
  assert.equal(owner.answerReply('no thanks', 'sms')?.question, 'Second?');
  assert.equal(owner.answerReply('anything', 'sms'), undefined, 'nothing open');
  const [r1, r2] = await Promise.all([p1, p2]);
  assert.deepEqual([r1.status === 'answered' && r1.answer, r2.status === 'answered' && r2.answer], ['yes please', 'no thanks']);
});

test('no answer: timeout; withdrawn: cancelled; a channel failing leaves the question open on the others', async () => {
  const owner = new OwnerQuestions([{ name: 'broken', deliver: async () => Promise.reject(new Error('unreachable')) }]);
  const t = request('call-a', 'Slow?', { timeoutMs: 30 });
  const r = await owner.ask(t.req);
  assert.equal(r.status, 'timeout');
  assert.ok(r.status === 'timeout' && r.afterMs >= 25);
  assert.deepEqual(t.events.find((e) => e.type === 'owner.delivery')?.data, { questionId: asked(t.events).questionId, channel: 'broken', ok: false, error: 'unreachable' });
  assert.match(JSON.stringify(owner.answer('call-a', asked(t.events).questionId, 'late', 'ui')), /"status":409.*timed out/);
  const c = request('call-a', 'Withdrawn?');
  const pending = owner.ask(c.req);
  c.ac.abort();
  assert.deepEqual(await pending, { status: 'cancelled' });
  assert.equal(owner.openQuestions().length, 0);
});

function fakeEngine(speaksWhileToolRuns: boolean, holdsWithTextTurns = false) {
  const replies: Array<string | undefined> = [];
  const engine = { capabilities: { speaksWhileToolRuns, holdsWithTextTurns } } as unknown as VoiceEngine;
  return { engine, replies, speak: (instructions: string) => void replies.push(instructions) };
}

test('holding lines: while a question is open, only when quiet, only with an engine that can speak during a tool call', async () => {
  for (const can of [true, false]) {
    const { engine, replies, speak } = fakeEngine(can);
    let quiet = false;
    let answer!: (v: { status: 'answered'; answer: string; afterMs: number }) => void;
    const wait = new OwnerWait({ engine, speak, record: () => undefined, ownerName: 'Raju', holdingLineMs: 40, quiet: () => quiet, ask: () => new Promise((r) => (answer = r)) });
    const p = wait.ask('Mild?', new AbortController().signal);
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(replies.length, 0, 'nobody may be interrupted');
    quiet = true;
    await new Promise((r) => setTimeout(r, 1100));
    if (can) assert.ok(replies.length >= 1 && replies.every((i) => i === HOLDING_LINE_INSTRUCTIONS), `lines: ${replies.length}`);
    else assert.equal(replies.length, 0);
    answer({ status: 'answered', answer: 'yes', afterMs: 1 });
    assert.deepEqual(await p, { status: 'answered', answer: 'yes', afterMs: 1, ownerName: 'Raju' });
    const after = replies.length;
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(replies.length, after, 'no holding line once answered');
  }
});

test('the call ending withdraws open questions', async () => {
  const { engine, speak } = fakeEngine(true);
  const wait = new OwnerWait({
    engine,
    speak,
    record: () => undefined,
    ownerName: 'Raju',
    holdingLineMs: 1000,
    quiet: () => true,
    ask: (_q, signal) => new Promise((r) => signal.addEventListener('abort', () => r({ status: 'cancelled' }))),
  });
  const p = wait.ask('Mild?', new AbortController().signal);
  wait.close();
  assert.deepEqual(await p, { status: 'cancelled', ownerName: 'Raju' });
  assert.deepEqual(await wait.ask('Again?', new AbortController().signal), { status: 'cancelled', ownerName: 'Raju' });
});

test('the engine withdrawing the tool call leaves the question open; its answer is then given to the engine to relay', async () => {
  const { engine, replies, speak } = fakeEngine(false);
  const owner = new OwnerQuestions([]);
  const events: string[] = [];
  let quiet = false;
  const wait = new OwnerWait({
    engine,
    speak,
    record: (type) => void events.push(type),
    ownerName: 'Raju',
    holdingLineMs: 1000,
    quiet: () => quiet,
    ask: (question, signal) => owner.ask({ callId: 'c1', callee: '+14155550123', ownerName: 'Raju', question, timeoutMs: 60_000, signal, record: (type) => void events.push(type) }),
  });
  const toolCall = new AbortController();
  const p = wait.ask('Mild?', toolCall.signal);
  toolCall.abort();
  assert.deepEqual(await p, { status: 'cancelled', ownerName: 'Raju' }, 'no result for the withdrawn call');
  assert.deepEqual(events, ['owner.asked', 'owner.detached']);
  const [q] = owner.openQuestions('c1');
  assert.ok(q, 'still open for the owner');
  assert.deepEqual(owner.answer('c1', q.id, 'Hot', 'sms'), { ok: true });
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(replies, [], 'not over someone speaking');
  quiet = true;
  await new Promise((r) => setTimeout(r, 1100));
  assert.deepEqual(replies, [lateAnswerInstructions('Raju', 'Mild?', 'Hot')]);
  wait.close();
});

test('an engine that holds with text turns: the tool call is answered at once, holding lines while quiet, then the answer as a text turn', async () => {
  const { engine, replies, speak } = fakeEngine(false, true);
  const owner = new OwnerQuestions([]);
  const events: string[] = [];
  let quiet = false;
  const wait = new OwnerWait({
    engine,
    speak,
    record: (type) => void events.push(type),
    ownerName: 'Raju',
    holdingLineMs: 40,
    quiet: () => quiet,
    ask: (question, signal) => owner.ask({ callId: 'c1', callee: '+14155550123', ownerName: 'Raju', question, timeoutMs: 60_000, signal, record: (type) => void events.push(type) }),
  });
  assert.deepEqual(await wait.ask('Mild?', new AbortController().signal), { status: 'asked', ownerName: 'Raju' }, 'answered at once');
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(replies, [], 'nobody may be interrupted');
  quiet = true;
  await new Promise((r) => setTimeout(r, 1100));
  assert.ok(replies.length >= 1 && replies.every((i) => i === HOLDING_LINE_INSTRUCTIONS), `lines: ${replies.length}`);
  quiet = false;
  const [q] = owner.openQuestions('c1');
  assert.deepEqual(owner.answer('c1', q.id, 'Hot', 'sms'), { ok: true });
  await new Promise((r) => setTimeout(r, 10));
  const lines = replies.length;
  quiet = true;
  await new Promise((r) => setTimeout(r, 1100));
  assert.deepEqual(replies.slice(lines), [relayInstructions('Raju', 'Mild?', { status: 'answered', answer: 'Hot', afterMs: 1 })], 'the answer once it is quiet, and no holding line after it');
  assert.match(replies.at(-1)!, /^About your question to Raju \("Mild\?"\): Raju answered: "Hot"\. Tell the other person now/);
  assert.deepEqual(events.filter((e) => e !== 'owner.delivery'), ['owner.asked', ...Array(lines).fill('owner.holdingLine'), 'owner.answered']);
  wait.close();
});

test('holding with text turns: no answer in time is relayed as the deferral; the call ending says nothing more', async () => {
  const { engine, replies, speak } = fakeEngine(false, true);
  const wait = new OwnerWait({ engine, speak, record: () => undefined, ownerName: 'Raju', holdingLineMs: 60_000, quiet: () => true, ask: () => Promise.resolve({ status: 'timeout', afterMs: 5 }) });
  assert.equal((await wait.ask('Mild?', new AbortController().signal)).status, 'asked');
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(replies.length, 1);
  assert.match(replies[0]!, /Raju has not answered yet\. Say "I'll check with Raju and get back to you"/);
  assert.equal(relayInstructions('Raju', 'Mild?', { status: 'cancelled' }), undefined, 'a withdrawn question is not relayed');
  let answer!: (v: { status: 'answered'; answer: string; afterMs: number }) => void;
  const ended = new OwnerWait({ engine, speak, record: () => undefined, ownerName: 'Raju', holdingLineMs: 20, quiet: () => true, ask: () => new Promise((r) => (answer = r)) });
  await ended.ask('Mild?', new AbortController().signal);
  ended.close();
  answer({ status: 'answered', answer: 'late', afterMs: 1 });
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(replies.length, 1, 'nothing said after the call ended');
});

test('the owner webhook needs its signing secret: a URL without OWNER_WEBHOOK_SECRET fails start-up naming it', () => {
  const base = { OWNER_WEBHOOK_URL: 'https://owner.example.com/hook' };
  assert.throws(() => ownerWebhookFromSettings(parseSettings(base)), (e: Error) => e instanceof SettingsError && /OWNER_WEBHOOK_SECRET: is required/.test(e.message));
  assert.equal(ownerWebhookFromSettings(parseSettings({ ...base, OWNER_WEBHOOK_SECRET: 'owner-webhook-secret-0123456789' }))?.name, 'webhook');
  assert.equal(ownerWebhookFromSettings(parseSettings({})), undefined);
  assert.throws(() => parseSettings({ ...base, OWNER_WEBHOOK_SECRET: 'short' }), /OWNER_WEBHOOK_SECRET/);
});
