/**
 * Runbooks: files in RUNBOOKS_DIR that a call is made from (`POST /api/calls {runbook, to, clientId,
 * variables}`), listed with their problems by line (`GET /api/runbooks`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { FULL_CONVERSATION, timelineOf, withStack } from './helpers.js';

test('GET /api/runbooks lists the shipped runbooks; a call is made from one with its variables filled in', async () => {
  await withStack({ engine: 'openai', script: () => FULL_CONVERSATION.script, scenario: () => FULL_CONVERSATION.scenario }, async (stack) => {
    const list = await stack.api('GET', '/api/runbooks');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.runbooks.map((r: any) => [r.name, r.valid]),
      [['book-appointment', true], ['cancel-subscription', true], ['order-food-pickup', true]],
    );
    const food = list.body.runbooks.find((r: any) => r.name === 'order-food-pickup');
    assert.deepEqual(Object.keys(food.variables), ['order', 'pickup_time', 'name']);

    const missing = await stack.api('POST', '/api/calls', { runbook: 'order-food-pickup', to: '+14155550123', clientId: 'raju', variables: { order: 'one chicken biryani' } });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.field, 'variables');
    assert.match(missing.body.error.message, /^variables\.pickup_time: is required/);
    const unknown = await stack.api('POST', '/api/calls', { runbook: 'order-pizza', to: '+14155550123', variables: {} });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.field, 'runbook');
    assert.equal(stack.twilio.calls.length, 0, 'nothing was dialled');

    const id = await stack.placeCall({ runbook: 'order-food-pickup', instructions: undefined, variables: { order: 'one chicken biryani', pickup_time: '7 pm', name: 'Raju' } });
    const call = await stack.waitForEnd(id, 30_000);
    assert.equal(call.endReason, 'agent-hangup');
    const prompt = String(stack.openai.sessions[0]!.config.instructions);
    assert.match(prompt, /Goal: Order one chicken biryani for pickup at 7 pm under the name Raju, and confirm the total price and the pickup time\./);
    assert.match(prompt, /You must not agree to, whatever is offered:\n- add items that were not asked for/);
    assert.doesNotMatch(prompt, /\{\{/);
    const ev = await timelineOf(stack, id);
    assert.equal(ev.find((e) => e.type === 'status' && e.data.status === 'queued')?.data.runbook, 'order-food-pickup', 'the record says which runbook');
  });
});

test('a runbook file with problems is listed with each problem by line, and no call is made from it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'callwright-runbooks-'));
  mkdirSync(dir, { recursive: true });
  copyFileSync('runbooks/order-food-pickup.md', join(dir, 'order-food-pickup.md'));
  writeFileSync(join(dir, 'broken.md'), '---\ntitle: Broken\ngoal: Call {{who}}\nvariables:\n  who:\n    required: true\ndtmf: 12x\n---\nHello {{whom}}.\n');
  writeFileSync(join(dir, 'Bad Name.md'), '---\ntitle: x\ngoal: y\n---\nz\n');
  await withStack({ engine: 'openai', env: { RUNBOOKS_DIR: dir } }, async (stack) => {
    const list = await stack.api('GET', '/api/runbooks');
    const byName = Object.fromEntries(list.body.runbooks.map((r: any) => [r.name, r]));
    assert.equal(byName['order-food-pickup'].valid, true);
    assert.equal(byName.broken.valid, false);
    assert.deepEqual(byName.broken.problems, [{ line: 6, field: 'variables.who.description', message: 'is required (what to fill in, shown on the new-call page)' }]);
    assert.equal(byName['Bad Name'].valid, false);
    assert.match(byName['Bad Name'].problems[0].message, /lower-case letters/);
    const one = await stack.api('GET', '/api/runbooks/broken');
    assert.equal(one.body.valid, false);
    assert.equal((await stack.api('GET', '/api/runbooks/nothing-here')).status, 404);
    assert.equal((await stack.api('GET', '/api/runbooks/..%2Fetc')).status, 400);

    const r = await stack.api('POST', '/api/calls', { runbook: 'broken', to: '+14155550123', variables: { who: 'Sam' } });
    assert.equal(r.status, 422);
    assert.equal(r.body.error.field, 'runbook');
    assert.match(r.body.error.message, /^runbook: "broken" cannot be used: line 6: variables\.who\.description: /);
    const notString = await stack.api('POST', '/api/calls', { runbook: 7, to: '+14155550123' });
    assert.equal(notString.status, 400);
    assert.equal(notString.body.error.field, 'runbook');
    assert.equal(stack.twilio.calls.length, 0, 'nothing was dialled');
  });
});
