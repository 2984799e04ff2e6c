import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import { withStack, ENGINES } from './helpers.js';
import type { CalleeScript } from '../sim/twilio/index.js';
import type { RealtimeScenario } from '../sim/openai-realtime/index.js';
import { freePort, type Engine, type Stack } from '../sim/stack.js';

const ORDER_LINE = "Sure. That's $14.50 for one chicken biryani, ready at 7:15 pm. Your confirmation number is BX4821.";
const ORDER: { script: CalleeScript; scenario: RealtimeScenario } = {
  script: { steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { say: ORDER_LINE }, { waitForAgent: true, quietMs: 300, timeoutMs: 5000 }] },
  scenario: {
    turns: [
      { say: "Hi, I'm an AI assistant calling on behalf of Raju Kumar. One chicken biryani for pickup, please." },
      { say: 'Thank you, goodbye!', call: { name: 'end_call', arguments: { reason: 'order placed' } } },
    ],
    userTranscripts: ['Hello?', ORDER_LINE],
  },
};

const SCHEMA = {
  type: 'object',
  properties: {
    price: { type: 'number', description: 'the total price quoted' },
    pickupTime: { type: 'string' },
    confirmationNumber: { type: 'string' },
    pickupDate: { type: 'string' },
  },
};

const GOAL = 'Order one chicken biryani for pickup and get the price, pickup time and a confirmation number.';

async function orderCall(stack: Stack, extra: Record<string, unknown> = {}): Promise<any> {
  const id = await stack.placeCall({ goal: GOAL, outcomeSchema: SCHEMA, ...extra });
  return stack.waitForEnd(id, 30_000);
}

/** Every fact with a value cites a line whose text holds the quote, said by the speaker it names. */
function assertCitationsInTranscript(call: any): void {
  for (const f of call.outcome.fields) {
    if (f.value === null) {
      assert.equal(f.citation, null, `${f.name}: no citation without a value`);
      continue;
    }
    const line = call.transcript[f.citation.line];
    assert.ok(line, `${f.name}: cites line ${f.citation.line}, which exists`);
    assert.equal(line.seq, f.citation.seq);
    assert.equal(line.speaker, f.citation.speaker);
    assert.ok(line.text.includes(f.citation.quote), `${f.name}: "${f.citation.quote}" is in line ${f.citation.line}: "${line.text}"`);
  }
}

for (const provider of ['openai', 'openai-chat', 'gemini'] as const) {
  test(`the outcome of a call (${provider}): summary, goal met, facts each with the transcript line it came from`, async () => {
    await withStack({ script: () => ORDER.script, scenario: () => ORDER.scenario, outcome: provider }, async (stack) => {
      const call = await orderCall(stack);
      const o = call.outcome;
      assert.equal(o.status, 'computed', JSON.stringify(o));
      assert.equal(o.goal, GOAL);
      assert.equal(o.goalMet, 'partly', 'the date was never stated');
      assert.match(o.summary, /stated price, pickupTime, confirmationNumber/);
      const byName = Object.fromEntries(o.fields.map((f: any) => [f.name, f]));
      assert.equal(byName.price.value, 14.5);
      assert.equal(byName.pickupTime.value, '7:15 pm');
      assert.equal(byName.confirmationNumber.value, 'BX4821');
      assert.equal(byName.pickupDate.value, null);
      assert.equal(byName.confirmationNumber.citation.speaker, 'callee');
      assertCitationsInTranscript(call);
      assert.equal(o.provider, provider === 'gemini' ? 'gemini' : 'openai');
      assert.equal(o.webhook.status, 'not-configured');

      // The provider saw the numbered transcript and a strict schema, on the API the settings chose.
      const req = stack.text!.requests[0]!;
      assert.equal(req.api, provider === 'gemini' ? 'gemini' : provider === 'openai' ? 'responses' : 'chat-completions');
      if (provider !== 'gemini') assert.equal(req.strict, true);
      assert.match(req.prompt, /\[2\] Callee: Sure\. That's \$14\.50/);
      assert.match(req.prompt, /Goal of the call: Order one chicken biryani/);

      const events = (await stack.api('GET', `/api/calls/${call.id}/events`)).body as string;
      assert.match(events, /"type":"outcome","data":\{"status":"computed","goalMet":"partly"/);

      // What the extraction cost is in the call's cost, as the provider reported it.
      const model = provider === 'gemini' ? 'gemini-3.8-flash' : 'gpt-5.4-mini';
      const line = call.cost.lines.find((l: any) => l.item === `${o.provider} ${model} text input`);
      assert.ok(line && line.quantity > 100, JSON.stringify(call.cost.lines));
      if (provider === 'gemini') assert.ok(call.cost.unpriced.includes('gemini:gemini-3.8-flash:text_input'), 'no published price: unknown, not free');
      else assert.equal(line.unitPrice, 0.75 / 1e6, '$0.75 per million');
      assert.match(events, new RegExp(`"type":"usage","data":\\{"provider":"${o.provider}","model":"${model}","meters":\\{"text_input":\\d+,"text_cached_input":0,"text_output":\\d+\\},"source":"outcome"\\}`));
    });
  });
}

test('the outcome is in the calls list (filterable by goal met), the .txt and the JSON export', async () => {
  await withStack({ script: () => ORDER.script, scenario: () => ORDER.scenario, outcome: 'openai' }, async (stack) => {
    const call = await orderCall(stack);
    const list = await stack.api('GET', '/api/calls');
    assert.deepEqual(list.body.calls[0].outcome, { status: 'computed', goalMet: 'partly', summary: call.outcome.summary });
    assert.deepEqual((await stack.api('GET', '/api/calls?goalMet=partly')).body.calls.map((c: any) => c.id), [call.id]);
    assert.deepEqual((await stack.api('GET', '/api/calls?goalMet=achieved')).body.calls, []);
    assert.deepEqual((await stack.api('GET', '/api/calls?goalMet=none')).body.calls, []);
    const bad = await stack.api('GET', '/api/calls?goalMet=maybe');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'goalMet');

    const txt = (await stack.api('GET', `/api/calls/${call.id}/transcript.txt`)).body as string;
    const outcomeAt = txt.indexOf('Outcome\n');
    assert.ok(outcomeAt > 0 && outcomeAt < txt.indexOf('Callee: Hello?'), 'the outcome comes before the transcript');
    assert.match(txt, /Goal met: partly/);
    assert.match(txt, /confirmationNumber: BX4821 {2}\(Callee: "Your confirmation number is BX4821\."\)/);
    assert.match(txt, /pickupDate: \(not stated\)/);
    assert.equal(readFileSync(`${stack.dataDir}/transcripts/${call.id}.txt`, 'utf8'), txt, 'the file in DATA_DIR has the outcome too');

    const exp = await stack.api('GET', `/api/calls/${call.id}/export.json`);
    assert.equal(exp.status, 200);
    assert.match(exp.headers.get('content-disposition') ?? '', /call-.*\.json/);
    assert.deepEqual(exp.body.outcome, call.outcome);
    assert.deepEqual(exp.body.transcript, call.transcript);
    assert.equal(exp.body.call.id, call.id);
  });
});

test('a fact whose quote is not in the transcript is never shown as a fact; a wrong line number is corrected', async () => {
  await withStack({ script: () => ORDER.script, scenario: () => ORDER.scenario, outcome: 'openai' }, async (stack) => {
    stack.text!.setOverride((a) => {
      a.fields.pickupDate = { value: 'Friday', line: 2, quote: 'ready on Friday' };
      a.fields.price = { ...a.fields.price, line: 0 };
      return a;
    });
    const call = await orderCall(stack);
    const byName = Object.fromEntries(call.outcome.fields.map((f: any) => [f.name, f]));
    assert.equal(byName.pickupDate.value, null);
    assert.equal(byName.pickupDate.citation, null);
    assert.deepEqual(byName.pickupDate.rejected, { value: 'Friday', line: 2, quote: 'ready on Friday', reason: 'the quote is not in the transcript' });
    assert.equal(byName.price.value, 14.5);
    assert.equal(byName.price.citation.line, 2, 'the line that holds the quote');
    assertCitationsInTranscript(call);
    const events = (await stack.api('GET', `/api/calls/${call.id}/events`)).body as string;
    assert.match(events, /"rejected":\["pickupDate"\]/);
    assert.doesNotMatch((await stack.api('GET', `/api/calls/${call.id}/transcript.txt`)).body, /pickupDate: Friday/);
  });
});

test('no text model: the record says the outcome was not computed, and invents nothing', async () => {
  await withStack({ script: () => ORDER.script, scenario: () => ORDER.scenario }, async (stack) => {
    const call = await orderCall(stack);
    assert.equal(call.outcome.status, 'not-computed');
    assert.equal(call.outcome.reason, 'OUTCOME_PROVIDER is none');
    assert.equal(call.outcome.summary, null);
    assert.equal(call.outcome.goalMet, null);
    assert.deepEqual(call.outcome.fields, []);
    assert.equal(call.transcript.length, 4, 'the record is whole');
    assert.match((await stack.api('GET', `/api/calls/${call.id}/transcript.txt`)).body, /Not computed: OUTCOME_PROVIDER is none/);
    assert.deepEqual((await stack.api('GET', '/api/calls?goalMet=none')).body.calls.map((c: any) => c.id), [call.id]);
    const resend = await stack.api('POST', `/api/calls/${call.id}/outcome/webhook`);
    assert.equal(resend.status, 409);
    assert.match(resend.body.error.message, /no webhook is configured/);
  });
});

test('the provider failing: the outcome says so and why; the call and its transcript are untouched', async () => {
  await withStack({ script: () => ORDER.script, scenario: () => ORDER.scenario, outcome: 'openai' }, async (stack) => {
    stack.text!.setFailure({ status: 400, message: 'The model is overloaded in this test.' });
    const call = await orderCall(stack);
    assert.equal(call.outcome.status, 'failed');
    assert.match(call.outcome.reason, /^openai gpt-5\.4-mini: 400 The model is overloaded in this test\./);
    assert.equal(call.endReason, 'agent-hangup');
    assert.equal(call.transcript.length, 4);
  });
});

test('an outcome schema that is not JSON Schema is a 400 naming outcomeSchema, and no call is placed', async () => {
  await withStack({}, async (stack) => {
    const cases: Array<[unknown, RegExp]> = [
      ['price', /outcomeSchema: must be a JSON Schema object/],
      [{ type: 'object', properties: { price: { type: 'money' } } }, /outcomeSchema: is not a JSON Schema: .*type/],
      [{ type: 'object', properties: { code: { type: 'string', pattern: '([' } } }, /outcomeSchema: is not a JSON Schema/],
      [{ type: 'object', properties: { x: { $ref: '#/$defs/missing' } } }, /outcomeSchema: is not a JSON Schema: .*missing/],
      [{ type: 'string' }, /outcomeSchema: must describe an object/],
      [{ type: 'object', properties: { 'pickup time': { type: 'string' } } }, /outcomeSchema: property name "pickup time"/],
      [{ $schema: 'https://example.com/my-schema', type: 'object', properties: { a: {} } }, /outcomeSchema: \$schema must be draft-07 or 2020-12/],
    ];
    for (const [schema, message] of cases) {
      const r = await stack.api('POST', '/api/calls', { to: '+14155550123', instructions: 'Order food.', outcomeSchema: schema });
      assert.equal(r.status, 400, JSON.stringify(schema));
      assert.equal(r.body.error.field, 'outcomeSchema');
      assert.match(r.body.error.message, message);
    }
    const goal = await stack.api('POST', '/api/calls', { to: '+14155550123', instructions: 'Order food.', goal: '  ' });
    assert.equal(goal.status, 400);
    assert.equal(goal.body.error.field, 'goal');
    assert.deepEqual((await stack.api('GET', '/api/calls')).body.calls, []);
    assert.equal(stack.twilio.calls.length, 0);
    // A draft-07 schema is a JSON Schema too.
    const ok = await stack.api('POST', '/api/calls', { to: '+14155550123', instructions: 'Order food.', outcomeSchema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { price: { type: 'number' } } } });
    assert.equal(ok.status, 201);
    assert.equal((await stack.api('POST', `/api/calls/${ok.body.id}/hangup`)).status, 200);
    await stack.waitForEnd(ok.body.id);
  });
});

// ---- the webhook ------------------------------------------------------------------------------

const SECRET = 'whsec-test-0123456789abcdef';

/**
 * The receiver's check, written independently of the server's code: WebCrypto's HMAC (not node:crypto),
 * the header parsed as documented in docs/outcome.md, a five-minute tolerance and a constant-time compare.
 */
async function verifySignature(header: string | undefined, rawBody: string, secret: string, nowSec = Math.floor(Date.now() / 1000)): Promise<boolean> {
  if (!header) return false;
  const parts = new Map(header.split(',').map((kv) => kv.split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || Math.abs(nowSec - t) > 300) return false;
  const key = await globalThis.crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  const sig = new Uint8Array((v1.match(/../g) ?? []).map((h) => parseInt(h, 16)));
  return globalThis.crypto.subtle.verify('HMAC', key, sig, new TextEncoder().encode(`${t}.${rawBody}`));
}

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

async function receiver(statuses: number[], port = 0): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const srv = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(statuses[received.length - 1] ?? 200).end();
    });
  });
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}/hooks/callwright`;
  return { url, received, close: () => new Promise((r) => srv.close(() => r())) };
}

test('the outcome is pushed to CALL_WEBHOOK_URL, signed, retried after a 503, and verified by an independent check', async () => {
  const rx = await receiver([503, 200]);
  try {
    await withStack({ script: () => ORDER.script, scenario: () => ORDER.scenario, outcome: 'openai', env: { CALL_WEBHOOK_URL: rx.url, CALL_WEBHOOK_SECRET: SECRET } }, async (stack) => {
      const call = await orderCall(stack);
      assert.equal(rx.received.length, 2);
      const [first, second] = rx.received;
      for (const r of rx.received) {
        assert.equal(r.headers['content-type'], 'application/json');
        assert.equal(await verifySignature(r.headers['callwright-signature'] as string, r.body, SECRET), true, 'signature verifies');
        assert.equal(await verifySignature(r.headers['callwright-signature'] as string, r.body, 'another-secret-0123456789'), false, 'not with another secret');
        assert.equal(await verifySignature(r.headers['callwright-signature'] as string, r.body.replace('BX4821', 'BX4822'), SECRET), false, 'not for another body');
        assert.equal(await verifySignature(r.headers['callwright-signature'] as string, r.body, SECRET, Math.floor(Date.now() / 1000) + 3600), false, 'not an hour later');
      }
      assert.equal(first!.headers['callwright-delivery'], second!.headers['callwright-delivery'], 'one delivery id across its tries');
      const payload = JSON.parse(second!.body);
      assert.equal(payload.type, 'call.outcome');
      assert.equal(payload.call.id, call.id);
      assert.equal(payload.call.endReason, 'agent-hangup');
      assert.equal(payload.outcome.goalMet, 'partly');
      assert.equal(payload.outcome.fields.find((f: any) => f.name === 'confirmationNumber').value, 'BX4821');

      const after = (await stack.api('GET', `/api/calls/${call.id}`)).body;
      assert.equal(after.outcome.webhook.status, 'delivered');
      assert.equal(after.outcome.webhook.attempts, 2);
      const events = (await stack.api('GET', `/api/calls/${call.id}/events`)).body as string;
      assert.match(events, /"type":"webhook","data":\{"deliveryId":"[^"]+","attempt":1,"status":"retrying","error":"HTTP 503"\}/);
      assert.match(events, /"type":"webhook","data":\{"deliveryId":"[^"]+","attempt":2,"status":"delivered","httpStatus":200\}/);
    });
  } finally {
    await rx.close();
  }
});

test('an unreachable webhook: every try is on the timeline, the delivery is marked failed, the outcome is kept and can be sent again', async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/hooks/callwright`;
  await withStack({ script: () => ORDER.script, scenario: () => ORDER.scenario, outcome: 'openai', env: { CALL_WEBHOOK_URL: url, CALL_WEBHOOK_SECRET: SECRET, CALL_WEBHOOK_MAX_ATTEMPTS: '3' } }, async (stack) => {
    const call = await orderCall(stack);
    const after = (await stack.api('GET', `/api/calls/${call.id}`)).body;
    assert.deepEqual(after.outcome.webhook, { status: 'failed', attempts: 3, lastError: 'ECONNREFUSED' });
    assert.equal(after.outcome.status, 'computed', 'the outcome is kept');
    assert.equal(after.outcome.fields.find((f: any) => f.name === 'confirmationNumber').value, 'BX4821');
    const events = (await stack.api('GET', `/api/calls/${call.id}/events`)).body as string;
    assert.equal((events.match(/"type":"webhook"/g) ?? []).length, 3);
    assert.match(events, /"attempt":3,"status":"failed","error":"ECONNREFUSED"/);

    // The receiver is back: the kept outcome is sent again on request.
    const rx = await receiver([200], port);
    try {
      const again = await stack.api('POST', `/api/calls/${call.id}/outcome/webhook`);
      assert.equal(again.status, 202);
      await stack.app.service.idle();
      assert.equal(rx.received.length, 1);
      assert.equal(await verifySignature(rx.received[0]!.headers['callwright-signature'] as string, rx.received[0]!.body, SECRET), true);
      assert.equal(JSON.parse(rx.received[0]!.body).outcome.fields.find((f: any) => f.name === 'confirmationNumber').value, 'BX4821');
      assert.equal((await stack.api('GET', `/api/calls/${call.id}`)).body.outcome.webhook.status, 'delivered');
    } finally {
      await rx.close();
    }
  });
});

test('a 4xx from the receiver is not retried: the delivery fails at once with the status', async () => {
  const rx = await receiver([410]);
  try {
    await withStack({ script: () => ORDER.script, scenario: () => ORDER.scenario, outcome: 'openai', env: { CALL_WEBHOOK_URL: rx.url, CALL_WEBHOOK_SECRET: SECRET } }, async (stack) => {
      const call = await orderCall(stack);
      assert.equal(rx.received.length, 1);
      assert.deepEqual((await stack.api('GET', `/api/calls/${call.id}`)).body.outcome.webhook, { status: 'failed', attempts: 1, lastError: 'HTTP 410' });
    });
  } finally {
    await rx.close();
  }
});

test('a call no one answered: goal not met, said by the record itself; no model is asked', async () => {
  await withStack({ script: () => ({ result: 'no-answer', steps: [] }), outcome: 'openai' }, async (stack) => {
    const call = await orderCall(stack);
    assert.equal(call.endReason, 'no-answer');
    assert.equal(call.outcome.status, 'computed');
    assert.equal(call.outcome.goalMet, 'not-achieved');
    assert.equal(call.outcome.summary, 'Nothing was said on the call (it ended: no-answer).');
    assert.ok(call.outcome.fields.every((f: any) => f.value === null && f.citation === null));
    assert.equal(stack.text!.requests.length, 0);
  });
});

/** Each engine's calls summarised by an outcome provider (the cascade's by its own LLM server: Chat Completions). */
const OUTCOME_BY_ENGINE: Record<Engine, 'openai' | 'gemini' | 'llm'> = { openai: 'openai', gemini: 'gemini', cascade: 'llm' };

for (const engine of ENGINES) {
  const outcome = OUTCOME_BY_ENGINE[engine];
  test(`[${engine}] a call from a runbook: its goal and outcome schema give the outcome (the seed's biryani order)`, async () => {
    const conversation = () => ({ turns: ORDER.scenario.turns.map((t) => ({ say: t.say, ...(t.call ? { call: { name: t.call.name, args: t.call.arguments as Record<string, unknown> } } : {}) })), userTranscripts: ORDER.scenario.userTranscripts });
    await withStack({ engine, script: () => ORDER.script, conversation, outcome }, async (stack) => {
      const id = await stack.placeCall({ runbook: 'order-food-pickup', instructions: undefined, variables: { order: 'one chicken biryani', pickup_time: '7 pm', name: 'Raju' } });
      const call = await stack.waitForEnd(id, 30_000);
      const o = call.outcome;
      assert.equal(o.goal, 'Order one chicken biryani for pickup at 7 pm under the name Raju, and confirm the total price and the pickup time.');
      assert.deepEqual(o.fields.map((f: any) => [f.name, f.value]), [['totalPrice', '$14.50'], ['pickupTime', '7:15 pm'], ['orderNumber', 'BX4821']]);
      assert.equal(o.goalMet, 'achieved');
      assertCitationsInTranscript(call);
      if (engine === 'cascade') assert.deepEqual(stack.text!.requests.map((r) => [r.api, r.model]), [['chat-completions', 'llm-sim']], "the cascade's own LLM extracted it");
    });
  });
}
