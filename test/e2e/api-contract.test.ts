import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { withStack, readSse, until } from './helpers.js';
import { SIM_API_TOKEN, startStack } from '../sim/stack.js';

const BUSY = () => ({ result: 'busy' as const, steps: [] });
const CALL = { to: '+14155550123', instructions: 'Order one chicken biryani for pickup at 7.', clientId: 'raju' };

/** Every error the API answers has this one shape. */
function assertErrorShape(body: any, code?: string): void {
  assert.equal(typeof body?.error, 'object', JSON.stringify(body));
  assert.equal(typeof body.error.code, 'string', JSON.stringify(body));
  assert.equal(typeof body.error.message, 'string', JSON.stringify(body));
  assert.doesNotMatch(body.error.message, /FST_|fastify|Unexpected token|SyntaxError/i, 'in the product\'s words, not the framework\'s');
  if (code) assert.equal(body.error.code, code, JSON.stringify(body));
}

test('unknown fields are refused with 400 naming them, nested ones in full; nothing is dialled', async () => {
  await withStack({ script: BUSY }, async (stack) => {
    const voice = await stack.api('POST', '/api/calls', { ...CALL, voice: 'alloy' });
    assert.equal(voice.status, 400);
    assertErrorShape(voice.body, 'unknown_field');
    assert.equal(voice.body.error.field, 'voice');
    assert.deepEqual(voice.body.error.fields, ['voice']);
    assert.match(voice.body.error.message, /unknown field "voice"/);

    const nested = await stack.api('POST', '/api/calls', { ...CALL, voicemail: { action: 'hangup', foo: 1 } });
    assert.equal(nested.status, 400);
    assert.equal(nested.body.error.field, 'voicemail.foo');
    const hold = await stack.api('POST', '/api/calls', { ...CALL, hold: { maxMinutes: 5, music: true } });
    assert.equal(hold.body.error.field, 'hold.music');
    const two = await stack.api('POST', '/api/calls', { ...CALL, voice: 'alloy', speed: 2 });
    assert.deepEqual(two.body.error.fields, ['voice', 'speed']);
    const runbook = await stack.api('POST', '/api/calls', { to: CALL.to, runbook: 'order-food-pickup', variables: { order: 'x', pickup_time: '7 pm', name: 'Raju' }, volume: 11 });
    assert.equal(runbook.status, 400, JSON.stringify(runbook.body));
    assert.equal(runbook.body.error.field, 'volume');
    assert.equal(stack.twilio.calls.length, 0, 'no call was placed');

    // Every other JSON route: clients, transfers, owner answers, and routes that take no body at all.
    const client = await stack.api('POST', '/api/clients', { name: 'Ana', colour: 'red' });
    assert.deepEqual([client.status, client.body.error.code, client.body.error.field], [400, 'unknown_field', 'colour']);
    const uuid = '00000000-0000-4000-8000-000000000000';
    const hangup = await stack.api('POST', `/api/calls/${uuid}/hangup`, { reason: 'x' });
    assert.deepEqual([hangup.status, hangup.body.error.code, hangup.body.error.field], [400, 'unknown_field', 'reason']);
    const answer = await stack.api('POST', `/api/calls/${uuid}/questions/${uuid}/answer`, { answer: 'yes', urgent: true });
    assert.ok([400, 404].includes(answer.status));
    assertErrorShape(answer.body);
  });
});

test('every error has one shape, the framework\'s own included', async () => {
  await withStack({ script: BUSY, env: { RATE_LIMIT_PER_MINUTE: '1000' } }, async (stack) => {
    const post = (body: string, headers: Record<string, string>) => fetch(`${stack.baseUrl}/api/calls`, { method: 'POST', headers: { Authorization: `Bearer ${SIM_API_TOKEN}`, ...headers }, body });
    const badJson = await post('{"to": ', { 'Content-Type': 'application/json' });
    assert.equal(badJson.status, 400);
    const bj = await badJson.json();
    assertErrorShape(bj, 'invalid_json');
    assert.equal(bj.error.field, 'body');

    const big = await post(JSON.stringify({ ...CALL, instructions: 'x'.repeat(300 * 1024) }), { 'Content-Type': 'application/json' });
    assert.equal(big.status, 413);
    assertErrorShape(await big.json(), 'body_too_large');

    const media = await post('to=+14155550123', { 'Content-Type': 'text/csv' });
    assert.equal(media.status, 415);
    assertErrorShape(await media.json(), 'unsupported_media_type');

    const route = await stack.api('GET', '/api/nope');
    assert.equal(route.status, 404);
    assertErrorShape(route.body, 'not_found');

    const auth = await stack.api('GET', '/api/calls', undefined, 'wrong-token-0123456789');
    assert.equal(auth.status, 401);
    assertErrorShape(auth.body, 'unauthorized');

    const field = await stack.api('POST', '/api/calls', { to: '+14155550123' });
    assert.equal(field.status, 400);
    assertErrorShape(field.body, 'invalid_field');
    assert.equal(field.body.error.field, 'instructions');

    const policy = await stack.api('POST', '/api/calls', { to: '911', instructions: 'x' });
    assertErrorShape(policy.body, 'refused_by_policy');
    assert.equal(policy.body.error.rule, 'emergency');

    const missing = await stack.api('GET', '/api/calls/00000000-0000-4000-8000-000000000000');
    assertErrorShape(missing.body, 'not_found');
  });
  await withStack({ script: BUSY, env: { RATE_LIMIT_PER_MINUTE: '2' } }, async (stack) => {
    let limited;
    for (let i = 0; i < 4 && !limited; i++) {
      const r = await stack.api('GET', '/api/status');
      if (r.status === 429) limited = r;
    }
    assert.ok(limited, 'the limit was reached');
    assertErrorShape(limited.body, 'rate_limited');
  });
});

test('metadata is kept with the call and returned wherever the call is: the API, list, export, events, webhook', async () => {
  const received: string[] = [];
  const rx = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => rx.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(rx.address() as { port: number }).port}/hook`;
  try {
    await withStack({ script: BUSY, env: { CALL_WEBHOOK_URL: url, CALL_WEBHOOK_SECRET: 'whsec-test-0123456789abcdef' } }, async (stack) => {
      const metadata = { orderId: 'A-1001', attempt: 2, vip: true };
      const created = await stack.api('POST', '/api/calls', { ...CALL, metadata });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual(created.body.metadata, metadata);
      const id = created.body.id;
      const call = await stack.waitForEnd(id);
      assert.deepEqual(call.metadata, metadata);
      const list = await stack.api('GET', '/api/calls');
      assert.deepEqual(list.body.calls.find((c: any) => c.id === id).metadata, metadata);
      assert.deepEqual((await stack.api('GET', `/api/calls/${id}/export.json`)).body.call.metadata, metadata);
      const events = await readSse(`${stack.baseUrl}/api/calls/${id}/events`, SIM_API_TOKEN);
      assert.deepEqual(events.find((e) => e.data?.type === 'status' && e.data.data.status === 'queued')?.data.data.metadata, metadata);
      await until('the outcome webhook', () => received.length > 0);
      assert.deepEqual(JSON.parse(received[0]!).call.metadata, metadata);

      // A call without metadata shows an empty object, never null or a missing field.
      const plain = await stack.api('POST', '/api/calls', CALL);
      assert.deepEqual(plain.body.metadata, {});

      // Validated: values are strings, numbers or booleans; keys and sizes are limited.
      const cases: Array<[unknown, string]> = [
        [{ nested: { a: 1 } }, 'metadata.nested'],
        [{ list: [1] }, 'metadata.list'],
        [{ nothing: null }, 'metadata.nothing'],
        [{ long: 'x'.repeat(501) }, 'metadata.long'],
        [Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, i])), 'metadata'],
        [{ 'bad key': 1 }, 'metadata.bad key'],
        ['order-1', 'metadata'],
      ];
      for (const [m, field] of cases) {
        const r = await stack.api('POST', '/api/calls', { ...CALL, metadata: m });
        assert.equal(r.status, 400, JSON.stringify(m));
        assertErrorShape(r.body, 'invalid_field');
        assert.equal(r.body.error.field, field, JSON.stringify(r.body));
      }
    });
  } finally {
    await new Promise((r) => rx.close(r));
  }
});

test('Idempotency-Key: a retry returns the same call, concurrent duplicates dial once, another body is refused, and keys survive a restart', async () => {
  const stack = await startStack({ script: BUSY, msPerChar: 20 });
  let second: Awaited<ReturnType<typeof startStack>> | undefined;
  try {
    const post = (key: string, body: unknown) =>
      fetch(`${stack.baseUrl}/api/calls`, { method: 'POST', headers: { Authorization: `Bearer ${SIM_API_TOKEN}`, 'Content-Type': 'application/json', 'Idempotency-Key': key }, body: JSON.stringify(body) });

    // Eight copies of one request at once: one call is placed; all get its id.
    const answers = await Promise.all(Array.from({ length: 8 }, () => post('order-1001', CALL)));
    const bodies = await Promise.all(answers.map((r) => r.json()));
    assert.deepEqual(answers.map((r) => r.status), Array(8).fill(201), JSON.stringify(bodies));
    const id = bodies[0].id;
    assert.ok(bodies.every((b) => b.id === id), JSON.stringify(bodies));
    assert.equal(answers.filter((r) => r.headers.get('idempotent-replayed') === 'true').length, 7);
    await stack.waitForEnd(id);
    assert.equal(stack.twilio.calls.length, 1, 'dialled once');

    // A later retry (same body, keys in another order) gets the stored answer.
    const { to, instructions, clientId } = CALL;
    const retry = await post('order-1001', { clientId, instructions, to });
    assert.equal(retry.status, 201);
    assert.equal((await retry.json()).id, id);
    // The same key with another body is a mistake, said so.
    const other = await post('order-1001', { ...CALL, instructions: 'Something else' });
    assert.equal(other.status, 422);
    const ob = await other.json();
    assertErrorShape(ob, 'idempotency_key_reused');
    assert.equal(ob.error.field, 'Idempotency-Key');
    // A refused request placed nothing: its key is free for the corrected retry.
    const refused = await post('order-1002', { ...CALL, voice: 'alloy' });
    assert.equal(refused.status, 400);
    const fixed = await post('order-1002', CALL);
    assert.equal(fixed.status, 201);
    await stack.waitForEnd((await fixed.json()).id);
    const bad = await post('x'.repeat(300), CALL);
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.field, 'Idempotency-Key');
    assert.equal(stack.twilio.calls.length, 2);

    // After a restart the key still names the call.
    await stack.stopServer();
    second = await startStack({ script: BUSY, msPerChar: 20, dataDir: stack.dataDir, port: stack.port, sims: { twilio: stack.twilio, openai: stack.openai, gemini: stack.gemini } });
    const after = await post('order-1001', CALL);
    assert.equal(after.status, 201);
    assert.equal((await after.json()).id, id);
    assert.equal(after.headers.get('idempotent-replayed'), 'true');
    assert.equal(stack.twilio.calls.length, 2, 'nothing more was dialled');
  } finally {
    await second?.stopServer();
    await stack.close();
  }
});

test('with no carrier configured, a call attempt says so first, before calling hours or the dial policy', async () => {
  // 03:00 in Los Angeles: outside the calling hours for the number below.
  const now = () => new Date('2026-01-15T11:00:00Z');
  await withStack({ script: BUSY, now, env: { CALLING_HOURS: '08:00-21:00', TWILIO_ACCOUNT_SID: '', TWILIO_AUTH_TOKEN: '' } }, async (stack) => {
    for (const to of ['+14155550123', '911']) {
      const r = await stack.api('POST', '/api/calls', { to, instructions: 'x' });
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assertErrorShape(r.body, 'not_configured');
      assert.match(r.body.error.message, /^No phone carrier is configured/);
      assert.doesNotMatch(r.body.error.message, /calling hours|emergency/);
      assert.ok(r.body.error.missing.includes('TWILIO_ACCOUNT_SID'));
    }
    assert.deepEqual((await stack.api('GET', '/api/refusals')).body.refusals, [], 'not configured is not a policy refusal');
  });
  // Configured, the same request meets the calling hours.
  await withStack({ script: BUSY, now, env: { CALLING_HOURS: '08:00-21:00' } }, async (stack) => {
    const r = await stack.api('POST', '/api/calls', { to: '+14155550123', instructions: 'x' });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.rule, 'calling-hours');
  });
});
