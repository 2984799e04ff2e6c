/**
 * ask_owner: the agent asks the person it calls for mid-call and relays the answer. The question goes out
 * by SMS through the Twilio simulator (Messages.json) and the owner's reply comes back as a signed
 * incoming-message webhook; it reaches the model as the tool result. With no answer the agent defers
 * after ASK_OWNER_TIMEOUT_S and the call goes on. The UI round trip is in test/ui/ask-owner.test.ts.
 */
import { test } from 'node:test';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { withStack, ENGINES, timelineOf } from './helpers.js';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { SIM_API_TOKEN, SIM_AUTH_TOKEN, type Engine, type Stack } from '../sim/stack.js';

const OWNER_PHONE = '+14155550199';
const QUESTION = 'No medium spice today. Mild or extra hot?';

/**
 * Follows the call's live event stream until an event matches (the stream of a live call stays open, so
 * `timelineOf` would wait for the end), then lets go of it. A wait for something to happen, not a latency bar:
 * 15 s ran out once for the cascade beside two other test files.
 */
async function waitForEvent(stack: Stack, id: string, match: (e: { type: string; data: any }) => boolean, timeoutMs = 30_000): Promise<{ type: string; data: any }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    const res = await fetch(`${stack.baseUrl}/api/calls/${id}/events`, { headers: { Authorization: `Bearer ${SIM_API_TOKEN}` }, signal: ac.signal });
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!line.startsWith('data: ')) continue;
        const e = JSON.parse(line.slice(6));
        if (e?.type && match(e)) return e;
      }
    }
    throw new Error('the event stream ended first');
  } catch (err) {
    if (ac.signal.aborted) throw new Error(`timed out waiting for an event (${timeoutMs} ms)`);
    throw err;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}

/** Callee: asks the question, then waits quietly on the line (speech would withdraw a Gemini tool call). */
const script = () => ({
  // The verdict comes after the callee's hello, so the greeting answers it (one reply per callee turn).
  amdDelayMs: 4000,
  idleHangupMs: 30_000,
  steps: [{ say: 'Hello, Spice Garden.' }, { waitForAgent: true as const, quietMs: 300 }, { say: QUESTION }, { waitForAgent: true as const, quietMs: 300 }, { pauseMs: 30_000 }],
});

/**
 * The agent's side. On OpenAI the tool call stays open and the answer is its result (`{{toolOutput}}`); on
 * Gemini the call is answered at once ("asked; wait"), the model continues with a short line, and the
 * answer comes as a text turn (`{{clientText}}`). `then` is what the agent says on the answer.
 */
const askTurns = (engine: Engine, then: string) => [
  { say: "Hi, I'm an AI assistant calling on behalf of Raju Kumar about a pickup order." },
  { say: 'One moment, let me check with Raju.', call: { name: 'ask_owner', args: { question: 'No medium spice: mild or extra hot?' } } },
  ...(engine !== 'openai' ? [{ say: 'I have asked Raju, it will only take a moment.' }] : []),
  { say: then.replace('{{answer}}', engine !== 'openai' ? '{{clientText}}' : '{{toolOutput}}'), call: { name: 'end_call', args: {} } },
];

const HOLDING = [{ match: 'still waiting for an answer', say: 'Still checking, thanks for waiting.' }];

const conversation = (engine: Engine = 'openai') => ({
  turns: askTurns(engine, 'Thanks for waiting. {{answer}} Goodbye!'),
  userTranscripts: ['Hello, Spice Garden.', QUESTION],
  onInstructions: HOLDING,
});

/** What the model was told of the owner: tool results, and on Gemini the text turns after them. */
function toModel(stack: Stack, engine: Engine): string[] {
  if (engine === 'openai') return stack.openai.sessions[0].functionOutputs.map((f) => f.output);
  // The cascade: tool results in the chat requests, and each reply's own instructions.
  if (engine === 'cascade') return [...new Set(stack.cascade.llm.flatMap((r) => [...r.body.messages.filter((m) => m.role === 'tool').map((m) => String(m.content)), r.instructions ?? '']))];
  const g = stack.gemini.sessions[0] as any;
  return [...g.toolResponses.map((r: any) => String(r.response?.output)), ...g.clientContents.map((c: any) => String(c.text))];
}

for (const engine of ENGINES) {
  test(`[${engine}] ask_owner answered by SMS reply: the question goes out by SMS, holding lines meanwhile, the reply reaches the model (tool result or text turn), the agent relays it`, async () => {
    await withStack({ engine, script, conversation: () => conversation(engine), env: { OWNER_PHONE, ASK_OWNER_HOLDING_LINE_S: '1', ASK_OWNER_TIMEOUT_S: '30' } }, async (stack) => {
      const id = await stack.placeCall();
      // Two turns in (the cascade's take several seconds each on a loaded 2-core machine: 15 s ran out once).
      const sms = await stack.twilio.waitForMessage((m) => m.to === OWNER_PHONE, 30_000);
      assert.equal(sms.from, '+14155550100', 'sent from TWILIO_FROM_NUMBER');
      assert.match(sms.body, /No medium spice: mild or extra hot\?/);
      assert.match(sms.body, /\+14155550123/, 'names the call');
      // The callee is not left in silence: OpenAI speaks while the tool call is open; on Gemini the call was
      // answered at once and the holding line is a text turn.
      await waitForEvent(stack, id, (e) => e.type === 'owner.holdingLine');

      // Someone else texting the number answers nothing.
      const stranger = await stack.twilio.sendSms({ from: '+14155550177', to: '+14155550100', body: 'extra hot' });
      assert.equal(stranger.result.status, 200);
      assert.doesNotMatch(stranger.result.body, /<Message>/);
      assert.equal((await stack.api('GET', `/api/calls/${id}/questions`)).body.open.length, 1, 'still open');

      const reply = await stack.twilio.sendSms({ from: OWNER_PHONE, to: '+14155550100', body: 'Extra hot is fine' });
      assert.equal(reply.result.status, 200);
      assert.match(reply.result.body, /<Message>Thanks, passed on/);

      const call = await stack.waitForEnd(id, 30_000);
      assert.equal(call.endReason, 'agent-hangup');
      const outputs = toModel(stack, engine);
      assert.ok(outputs.some((o) => /Raju Kumar answered: "Extra hot is fine"/.test(o)), JSON.stringify(outputs));
      assert.ok(call.transcript.some((t: any) => t.speaker === 'agent' && /Extra hot is fine/.test(t.text)), 'the agent relayed the answer');
      assert.ok(call.transcript.some((t: any) => t.speaker === 'agent' && /Still checking, thanks for waiting/.test(t.text)), 'the holding line was spoken');
      if (engine === 'gemini') {
        const g = stack.gemini.sessions[0] as any;
        assert.match(String(g.toolResponses[0]?.response?.output), /The question has gone to Raju Kumar/, 'the tool call was answered at once');
        assert.deepEqual(g.interruptions, [], 'no text turn cut the model off');
        assert.deepEqual(g.warnings, []);
      }
      if (engine === 'cascade') {
        // The tool call was answered at once, so every chat request showed a real result for it.
        const results = stack.cascade.llm.flatMap((r) => r.body.messages.filter((m) => m.role === 'tool').map((m) => String(m.content)));
        assert.ok(results.length > 0 && results.every((r) => /The question has gone to Raju Kumar/.test(r)), JSON.stringify(results));
      }

      const ev = await timelineOf(stack, id);
      const asked = ev.find((e) => e.type === 'owner.asked')!;
      assert.equal(asked.data.question, 'No medium spice: mild or extra hot?');
      assert.deepEqual(asked.data.channels, ['ui', 'sms']);
      const answered = ev.find((e) => e.type === 'owner.answered')!;
      assert.equal(answered.data.channel, 'sms');
      assert.equal(answered.data.answer, 'Extra hot is fine');
      assert.ok(answered.data.afterMs > 0);
      assert.ok(ev.some((e) => e.type === 'owner.delivery' && e.data.channel === 'sms' && e.data.ok));
      const types = ev.map((e) => e.type).filter((t) => /^owner\.(asked|holdingLine|answered|timeout)$/.test(t));
      assert.equal(types[0], 'owner.asked');
      assert.equal(types.at(-1), 'owner.answered');
      assert.ok(types.includes('owner.holdingLine'), types.join());

      // The late answer is refused: the question is closed.
      const late = await stack.twilio.sendSms({ from: OWNER_PHONE, to: '+14155550100', body: 'Actually mild' });
      assert.match(late.result.body, /no open question/);
      const again = await stack.api('POST', `/api/calls/${id}/questions/${asked.data.questionId}/answer`, { answer: 'mild' });
      assert.equal(again.status, 409);
      assert.match(again.body.error.message, /already answered/);

      const txt = (await stack.api('GET', `/api/calls/${id}/transcript.txt`)).body as string;
      assert.match(txt, /\(asked Raju Kumar: "No medium spice: mild or extra hot\?"\)/);
      assert.match(txt, /\(Raju Kumar answered by sms after \d+\.\d s: "Extra hot is fine"\)/);
    });
  });

  test(`[${engine}] ask_owner with no answer: after ASK_OWNER_TIMEOUT_S the agent defers and the call goes on`, async () => {
    await withStack(
      {
        engine,
        script,
        conversation: () => ({ ...conversation(engine), turns: askTurns(engine, "I'll check with Raju and get back to you. Thanks, goodbye!") }),
        env: { ASK_OWNER_TIMEOUT_S: '2', ASK_OWNER_HOLDING_LINE_S: '30' },
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 30_000);
        assert.equal(call.endReason, 'agent-hangup', 'the call went on to its goodbye');
        const outputs = toModel(stack, engine);
        assert.ok(outputs.some((o) => /Raju Kumar has not answered yet\. Say "I'll check with Raju Kumar and get back to you"/.test(o)), JSON.stringify(outputs));
        const ev = await timelineOf(stack, id);
        const asked = ev.find((e) => e.type === 'owner.asked')!;
        assert.deepEqual(asked.data.channels, ['ui'], 'no OWNER_PHONE: the live page only');
        const timeout = ev.find((e) => e.type === 'owner.timeout')!;
        assert.ok(timeout.data.afterMs >= 2000 && timeout.data.afterMs < 4000, `timed out after ${timeout.data.afterMs} ms`);
        assert.equal(stack.twilio.messages.length, 0, 'no SMS without OWNER_PHONE');
        const late = await stack.api('POST', `/api/calls/${id}/questions/${asked.data.questionId}/answer`, { answer: 'mild' });
        assert.equal(late.status, 409);
        assert.match(late.body.error.message, /timed out/);
        const txt = (await stack.api('GET', `/api/calls/${id}/transcript.txt`)).body as string;
        assert.match(txt, /\(no answer from Raju Kumar after 2\.\d s; the agent deferred\)/);
      },
    );
  });
}

test('answering: unknown question 404, bad ids 404, empty answer 400 naming the field; the SMS webhook refuses unsigned or incomplete requests', async () => {
  await withStack({ engine: 'openai', script, conversation: () => conversation(), env: { ASK_OWNER_TIMEOUT_S: '20' } }, async (stack) => {
    const id = await stack.placeCall();
    const asked = await waitForEvent(stack, id, (e) => e.type === 'owner.asked');
    const qid = asked.data.questionId as string;
    const open = await stack.api('GET', `/api/calls/${id}/questions`);
    assert.deepEqual(open.body.open.map((q: any) => q.id), [qid]);
    for (const body of [{}, { answer: '' }, { answer: '   ' }, { answer: 7 }]) {
      const r = await stack.api('POST', `/api/calls/${id}/questions/${qid}/answer`, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error.field, 'answer');
      assert.match(r.body.error.message, /^answer: /);
    }
    const unknown = await stack.api('POST', `/api/calls/${id}/questions/00000000-0000-4000-8000-000000000000/answer`, { answer: 'mild' });
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error.message, /no question/);
    assert.equal((await stack.api('POST', `/api/calls/${id}/questions/nope/answer`, { answer: 'mild' })).status, 404);
    assert.equal((await stack.api('POST', `/api/calls/00000000-0000-4000-8000-000000000000/questions/${qid}/answer`, { answer: 'mild' })).status, 404);
    assert.equal((await stack.api('POST', `/api/calls/${id}/questions/${qid}/answer`, { answer: 'mild' }, 'wrong-token-0123456789')).status, 401);
    // The SMS webhook takes only Twilio's signed requests, with the fields it needs.
    const sms = (params: Record<string, string>, signature: string) =>
      fetch(`${stack.baseUrl}/twilio/sms`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature }, body: new URLSearchParams(params).toString() });
    const forged = { MessageSid: 'SM' + 'ab'.repeat(16), From: '+14155550199', To: '+14155550100', Body: 'extra hot' };
    assert.equal((await sms(forged, 'bm90IGEgc2lnbmF0dXJl')).status, 403);
    const missing = { From: '+14155550199', To: '+14155550100', Body: 'extra hot' };
    const bad = await sms(missing, getExpectedTwilioSignature(SIM_AUTH_TOKEN, `${stack.baseUrl}/twilio/sms`, missing));
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /MessageSid/);
    assert.equal((await stack.api('GET', `/api/calls/${id}/questions`)).body.open.length, 1, 'still open');

    const ok = await stack.api('POST', `/api/calls/${id}/questions/${qid}/answer`, { answer: 'Mild, please' });
    assert.equal(ok.status, 200);
    const call = await stack.waitForEnd(id, 30_000);
    assert.ok(call.transcript.some((t: any) => t.speaker === 'agent' && /Mild, please/.test(t.text)));
    const answered = (await timelineOf(stack, id)).find((e) => e.type === 'owner.answered')!;
    assert.equal(answered.data.channel, 'api');
  });
});

/**
 * The receiver's check, independent of the server's code (WebCrypto's HMAC, not node:crypto): the scheme
 * docs/ask-owner.md and docs/outcome.md describe, with a five-minute tolerance.
 */
async function verifySignature(header: string | undefined, rawBody: string, secret: string, nowSec = Math.floor(Date.now() / 1000)): Promise<boolean> {
  if (!header) return false;
  const parts = new Map(header.split(',').map((kv) => kv.split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  if (!Number.isInteger(t) || Math.abs(nowSec - t) > 300) return false;
  const key = await globalThis.crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  const sig = new Uint8Array((parts.get('v1')?.match(/../g) ?? []).map((h) => parseInt(h, 16)));
  return globalThis.crypto.subtle.verify('HMAC', key, sig, new TextEncoder().encode(`${t}.${rawBody}`));
}

const OWNER_SECRET = 'owner-webhook-secret-0123456789';

test('OWNER_WEBHOOK_URL: the question is POSTed as signed JSON, the receiver answers through the API; an unreachable webhook costs only that channel', async () => {
  const received: any[] = [];
  let answerStatus = 0;
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const q = JSON.parse(body);
      received.push({ contentType: req.headers['content-type'], signature: req.headers['callwright-signature'], rawBody: body, ...q });
      res.writeHead(204).end();
      // The owner's system answers a moment later, as a person or a bot would.
      setTimeout(async () => {
        const r = await fetch(q.answerUrl, { method: 'POST', headers: { Authorization: `Bearer ${SIM_API_TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ answer: 'Extra hot is fine' }) });
        answerStatus = r.status;
      }, 200);
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/owner`;
  try {
    await withStack({ engine: 'openai', script, conversation: () => conversation(), env: { OWNER_WEBHOOK_URL: url, OWNER_WEBHOOK_SECRET: OWNER_SECRET, ASK_OWNER_TIMEOUT_S: '20' } }, async (stack) => {
      const id = await stack.placeCall();
      const call = await stack.waitForEnd(id, 30_000);
      assert.equal(answerStatus, 200);
      assert.equal(received.length, 1);
      const q = received[0];
      assert.equal(q.contentType, 'application/json');
      assert.equal(q.type, 'owner.question');
      assert.equal(q.callId, id);
      assert.equal(q.question, 'No medium spice: mild or extra hot?');
      assert.equal(q.answerUrl, `${stack.baseUrl}/api/calls/${id}/questions/${q.questionId}/answer`);
      // Signed as the outcome webhook is: the receiver can tell a real question from a forged one.
      assert.equal(await verifySignature(q.signature, q.rawBody, OWNER_SECRET), true, 'signature verifies');
      assert.equal(await verifySignature(q.signature, q.rawBody, 'another-secret-0123456789'), false, 'not with another secret');
      assert.equal(await verifySignature(q.signature, q.rawBody.replace('extra hot', 'extra mild'), OWNER_SECRET), false, 'not for another body');
      assert.equal(await verifySignature(q.signature, q.rawBody, OWNER_SECRET, Math.floor(Date.now() / 1000) + 3600), false, 'not an hour later');
      assert.ok(call.transcript.some((t: any) => t.speaker === 'agent' && /Extra hot is fine/.test(t.text)));
      const ev = await timelineOf(stack, id);
      assert.deepEqual(ev.find((e) => e.type === 'owner.asked')!.data.channels, ['ui', 'webhook']);
      assert.equal(ev.find((e) => e.type === 'owner.answered')!.data.channel, 'api');
    });
  } finally {
    await new Promise((r) => receiver.close(r));
  }

  // Nothing listens there: the delivery fails on the timeline, the question stays open on the page and is answered there.
  await withStack({ engine: 'openai', script, conversation: () => conversation(), env: { OWNER_WEBHOOK_URL: url, OWNER_WEBHOOK_SECRET: OWNER_SECRET, ASK_OWNER_TIMEOUT_S: '20' } }, async (stack) => {
    const id = await stack.placeCall();
    const failed = await waitForEvent(stack, id, (e) => e.type === 'owner.delivery' && e.data.channel === 'webhook');
    assert.equal(failed.data.ok, false);
    assert.ok(failed.data.error);
    const r = await stack.api('POST', `/api/calls/${id}/questions/${failed.data.questionId}/answer`, { answer: 'Mild', channel: 'ui' });
    assert.equal(r.status, 200);
    const call = await stack.waitForEnd(id, 30_000);
    assert.equal(call.endReason, 'agent-hangup');
    assert.ok(call.transcript.some((t: any) => t.speaker === 'agent' && /Mild/.test(t.text)));
  });
});

test('several questions in one call: one answered on the page during a holding line, the next by SMS naming its code; both relayed, both on the record', async () => {
  await withStack(
    {
      engine: 'openai',
      script,
      conversation: () => ({
        turns: [
          conversation().turns[0],
          conversation().turns[1],
          { say: 'Thanks for waiting. {{toolOutput}} One more thing, let me check.', call: { name: 'ask_owner', args: { question: 'Raita or salad on the side?' } } },
          { say: '{{toolOutput}} Thanks, goodbye!', call: { name: 'end_call', args: {} } },
        ],
        userTranscripts: conversation().userTranscripts,
        onInstructions: conversation().onInstructions,
      }),
      env: { OWNER_PHONE, ASK_OWNER_HOLDING_LINE_S: '1', ASK_OWNER_TIMEOUT_S: '30' },
    },
    async (stack) => {
      const id = await stack.placeCall();
      const first = await waitForEvent(stack, id, (e) => e.type === 'owner.asked');
      // Answered just as a holding line is asked for: the reply waits for that line instead of colliding with it.
      await waitForEvent(stack, id, (e) => e.type === 'owner.holdingLine');
      const r = await stack.api('POST', `/api/calls/${id}/questions/${first.data.questionId}/answer`, { answer: 'Extra hot is fine', channel: 'ui' });
      assert.equal(r.status, 200);
      const second = await waitForEvent(stack, id, (e) => e.type === 'owner.asked' && e.data.questionId !== first.data.questionId);
      assert.notEqual(second.data.code, first.data.code);
      const sms = await stack.twilio.waitForMessage((m) => m.body.includes('Raita or salad'));
      assert.match(sms.body, new RegExp(`"${second.data.code} your answer"`));
      const reply = await stack.twilio.sendSms({ from: OWNER_PHONE, to: '+14155550100', body: `${second.data.code} raita please` });
      assert.match(reply.result.body, /Thanks, passed on/);

      const call = await stack.waitForEnd(id, 30_000);
      assert.equal(call.endReason, 'agent-hangup');
      const agent = call.transcript.filter((t: any) => t.speaker === 'agent').map((t: any) => t.text).join(' | ');
      assert.match(agent, /Extra hot is fine/);
      assert.match(agent, /raita please/);
      assert.deepEqual(stack.openai.sessions[0].errorsSent, [], 'no response.create the engine had to refuse');
      const ev = await timelineOf(stack, id);
      assert.deepEqual(
        ev.filter((e) => e.type === 'owner.answered').map((e) => [e.data.channel, e.data.answer]),
        [
          ['ui', 'Extra hot is fine'],
          ['sms', 'raita please'],
        ],
      );
      const txt = (await stack.api('GET', `/api/calls/${id}/transcript.txt`)).body as string;
      assert.match(txt, /Raju Kumar answered by ui after [\d.]+ s: "Extra hot is fine"[\s\S]*asked Raju Kumar: "Raita or salad on the side\?"[\s\S]*Raju Kumar answered by sms after [\d.]+ s: "raita please"/);
    },
  );
});

// The engines that answer ask_owner at once and get the owner's answer as a text turn later; on OpenAI the
// tool call stays open until the answer, so there is no reply of the model's own to give meanwhile.
for (const engine of ['gemini', 'cascade'] as const) {
  test(`[${engine}] the callee speaks while the agent waits: the model answers them, the question stays open, and its answer comes as a text turn`, async () => {
    await withStack(
      {
        engine,
        script: () => ({
          amdDelayMs: 4000,
          idleHangupMs: 30_000,
          steps: [
            { say: 'Hello, Spice Garden.' },
            { waitForAgent: true as const, quietMs: 300 },
            { say: QUESTION },
            { waitForAgent: true as const, quietMs: 300 },
            { say: 'Sure, take your time.' },
            { waitForAgent: true as const, quietMs: 300 },
            { pauseMs: 30_000 },
          ],
        }),
        conversation: () => ({
          turns: [...askTurns(engine, '').slice(0, 3), { say: 'No problem.' }, { say: 'Thanks for waiting. {{clientText}} Goodbye!', call: { name: 'end_call', args: {} } }],
          userTranscripts: ['Hello, Spice Garden.', QUESTION, 'Sure, take your time.'],
        }),
        env: { ASK_OWNER_TIMEOUT_S: '30' },
      },
      async (stack) => {
        const id = await stack.placeCall();
        const asked = await waitForEvent(stack, id, (e) => e.type === 'owner.asked');
        // The tool call was answered at once, so the callee's words have nothing to cancel.
        let starts = 0;
        await waitForEvent(stack, id, (e) => e.type === 'callee.speechStarted' && ++starts === 3, 20_000);
        // Past the end of "Sure, take your time.".
        await new Promise((r) => setTimeout(r, 1500));
        assert.equal((await stack.api('GET', `/api/calls/${id}/questions`)).body.open.length, 1, 'the question is still open');
        const r = await stack.api('POST', `/api/calls/${id}/questions/${asked.data.questionId}/answer`, { answer: 'Extra hot is fine', channel: 'ui' });
        assert.equal(r.status, 200);
        const call = await stack.waitForEnd(id, 30_000);
        assert.equal(call.endReason, 'agent-hangup');
        if (engine === 'gemini') {
          const g = stack.gemini.sessions[0] as any;
          assert.equal(g.toolCalls.find((c: any) => c.name === 'ask_owner')?.status, 'answered', JSON.stringify(g.toolCalls));
        } else {
          // The cascade answered the tool call at once, and the callee's words got a reply of their own.
          const results = stack.cascade.llm.flatMap((r) => r.body.messages.filter((m) => m.role === 'tool').map((m) => String(m.content)));
          assert.ok(results.length > 0 && results.every((r) => /The question has gone to Raju Kumar/.test(r)), JSON.stringify(results));
        }
        assert.ok(call.transcript.some((t: any) => t.speaker === 'agent' && /No problem\./.test(t.text)), 'the callee was answered while the question was open');
        const ev = await timelineOf(stack, id);
        assert.ok(!ev.some((e) => e.type === 'owner.detached'), 'the call was never withdrawn');
        assert.ok(call.transcript.some((t: any) => t.speaker === 'agent' && /Extra hot is fine/.test(t.text)), 'the answer was relayed');
        assert.ok(toModel(stack, engine).some((o) => /Raju Kumar answered: "Extra hot is fine"/.test(o)), 'the answer reached the model');
      },
    );
  });
}

