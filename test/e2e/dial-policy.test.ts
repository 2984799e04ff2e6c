import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { withStack, until, GREETING, ENGINES } from './helpers.js';
import { localTime } from '../../src/calls/calling-hours.js';
import type { StackOptions } from '../sim/stack.js';

const LONG_CALLEE = () => ({ steps: [{ say: 'Hello?' }, { pauseMs: 60_000 }] });
const hhmm = (min: number) => `${String(Math.floor(min / 60) % 24).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;

test('allow list, do-not-call file (edited live) and emergency numbers: refused with rule and field, recorded, never dialled', async () => {
  const dnc = join(mkdtempSync(join(tmpdir(), 'cw-dnc-')), 'dnc.txt');
  writeFileSync(dnc, '# numbers that asked not to be called\n+1 415 555 0199\n');
  await withStack({ env: { ALLOWED_DESTINATIONS: '+1415', DNC_FILE: dnc }, script: LONG_CALLEE }, async (stack) => {
    const refused = async (to: string, status: number, rule: string, msg: RegExp) => {
      const r = await stack.api('POST', '/api/calls', { to, instructions: 'x', clientId: 'raju' });
      assert.equal(r.status, status, `${to}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.rule, rule);
      assert.equal(r.body.error.field, 'to');
      assert.match(r.body.error.message, msg);
    };
    await refused('+13125550123', 403, 'not-allowed', /not on the allow list \(ALLOWED_DESTINATIONS\)/);
    await refused('+14155550199', 403, 'do-not-call', /do-not-call list \(DNC_FILE\)/);
    await refused('911', 400, 'emergency', /emergency numbers are never dialled/);
    await refused('+19005550123', 400, 'premium-rate', /premium-rate/);
    writeFileSync(dnc, '+14155550199\n+14155550123 # asked 2026-11-20\n');
    await refused('+14155550123', 403, 'do-not-call', /do-not-call/);
    writeFileSync(dnc, '+14155550199\n');
    const id = await stack.placeCall({ to: '+14155550123' });
    assert.equal(stack.twilio.calls.length, 1, 'only the permitted call was dialled');

    const list = await stack.api('GET', '/api/refusals');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.refusals.map((r: any) => [r.rule, r.to]), [
      ['do-not-call', '+14155550123'],
      ['premium-rate', '+19005550123'],
      ['emergency', '911'],
      ['do-not-call', '+14155550199'],
      ['not-allowed', '+13125550123'],
    ]);
    assert.ok(list.body.refusals.every((r: any) => r.clientId === 'raju' && r.message && r.at));
    const page = await stack.api('GET', '/api/refusals?limit=2');
    assert.equal(page.body.refusals.length, 2);
    assert.equal((await stack.api('GET', `/api/refusals?limit=2&before=${page.body.nextBefore}`)).body.refusals[0].rule, 'emergency');
    assert.equal((await stack.api('GET', '/api/refusals', undefined, '')).status, 401);
    await stack.api('POST', `/api/calls/${id}/hangup`);
  });
});

test('calling hours: refused outside the window with the local time named; an explicit override is placed and recorded', async () => {
  const now = localTime('America/Los_Angeles', new Date()).minutes;
  // A window that starts two hours from now (Los Angeles time), so "now" is outside it whatever the hour.
  const window = `${hhmm(now + 120)}-${hhmm(now + 180)}`;
  await withStack({ env: { CALLING_HOURS: window }, script: LONG_CALLEE }, async (stack) => {
    const r = await stack.api('POST', '/api/calls', { to: '+14155550123', instructions: 'x', clientId: 'raju' });
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.equal(r.body.error.rule, 'calling-hours');
    assert.match(r.body.error.message, new RegExp(`it is \\d\\d:\\d\\d in America/Los_Angeles for \\+1 415 555 0123, outside calling hours ${window}`));
    assert.match(r.body.error.message, /overrideCallingHours/);
    assert.equal(stack.twilio.calls.length, 0);

    const unexplained = await stack.api('POST', '/api/calls', { to: '+14155550123', instructions: 'x', overrideCallingHours: true });
    assert.equal(unexplained.status, 400, 'an override needs a reason');
    assert.equal(unexplained.body.error.field, 'overrideReason');
    assert.equal(stack.twilio.calls.length, 0);

    const id = await stack.placeCall({ to: '+14155550123', overrideCallingHours: true, overrideReason: 'they asked us to call before opening' });
    await stack.api('POST', `/api/calls/${id}/hangup`);
    await stack.waitForEnd(id);
    const events = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
    const override = /event: policy\.override\ndata: (.+)/.exec(events);
    assert.ok(override, 'the override is in the timeline');
    const data = JSON.parse(override[1]).data;
    assert.equal(data.rule, 'calling-hours');
    assert.equal(data.window, window);
    assert.equal(data.local[0].zone, 'America/Los_Angeles');
    assert.equal(data.reason, 'they asked us to call before opening');
    assert.deepEqual((await stack.api('GET', `/api/calls/${id}`)).body.callingHoursOverride, { window, local: data.local, reason: 'they asked us to call before opening' }, "on the call's record");
    assert.equal((await stack.api('GET', '/api/refusals')).body.refusals[0].rule, 'calling-hours');
  });
});

test('caps: concurrent calls and calls per day refuse with 429 and Retry-After', async () => {
  await withStack({ env: { MAX_CONCURRENT_CALLS: '1', MAX_CALLS_PER_DAY: '2' }, script: LONG_CALLEE }, async (stack) => {
    const a = await stack.placeCall();
    const busy = await stack.api('POST', '/api/calls', { to: '+14155550123', instructions: 'x' });
    assert.equal(busy.status, 429);
    assert.equal(busy.body.error.rule, 'max-concurrent-calls');
    assert.match(busy.body.error.message, /MAX_CONCURRENT_CALLS=1/);
    assert.equal(busy.headers.get('retry-after'), '30');
    await stack.api('POST', `/api/calls/${a}/hangup`);
    await stack.waitForEnd(a);
    const b = await stack.placeCall();
    await stack.api('POST', `/api/calls/${b}/hangup`);
    await stack.waitForEnd(b);
    const day = await stack.api('POST', '/api/calls', { to: '+14155550123', instructions: 'x' });
    assert.equal(day.status, 429);
    assert.equal(day.body.error.rule, 'max-calls-per-day');
    const retry = Number(day.headers.get('retry-after'));
    assert.ok(retry > 0 && retry <= 86_400, `Retry-After ${retry}`);
    assert.equal(stack.twilio.calls.length, 2);
  });
});

test('concurrent requests cannot slip under MAX_CONCURRENT_CALLS together (client calls wait for document retrieval)', async () => {
  // With vectors on, the query is embedded over HTTP: the request really waits there.
  await withStack({ embeddings: 'openai', env: { MAX_CONCURRENT_CALLS: '1' }, script: LONG_CALLEE }, async (stack) => {
    const body = { to: '+14155550123', instructions: 'Order one chicken biryani.', clientId: 'raju' };
    const results = await Promise.all([1, 2, 3, 4].map(() => stack.api('POST', '/api/calls', body)));
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 429, 429, 429]);
    await stack.api('POST', `/api/calls/${results.find((r) => r.status === 201)!.body.id}/hangup`);
  });
});

const COST_CAP_CALL: Partial<StackOptions> = {
  script: () => ({ steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { say: 'Tell me everything about the menu, slowly.' }, { pauseMs: 60_000 }] }),
  conversation: () => ({
    turns: [{ say: GREETING }, { say: "I'm sorry, I have to go now. Someone will follow up. Goodbye!" }, { say: 'This turn must never be heard.' }],
    userTranscripts: ['Hello?', 'Tell me everything about the menu, slowly.'],
  }),
};

// The cascade's stages cost what their settings say (0 for a local server). Here the LLM and the voice are
// hosted, at OpenAI's published prices for gpt-4o-mini ($0.15 / $0.60 per million tokens) and tts-1 ($15
// per million characters), and the transcriber is local (free): so, as with the speech-to-speech engines,
// the cap is crossed by what the agent's first reply cost, and the goodbye follows the greeting. (A priced
// transcriber would cross it on "Hello?", before the greeting: the wrap-up request would then be the
// scripted simulator's first turn, the greeting.)
const HOSTED_STAGE_PRICES = { LLM_PRICE_INPUT_PER_MTOK: '0.15', LLM_PRICE_OUTPUT_PER_MTOK: '0.6', TTS_PRICE_PER_MCHAR: '15' };

for (const engine of ENGINES) {
  test(`per-call cost cap (${engine}): the live ledger crosses it, the agent says goodbye, the line is cut after it played`, async () => {
    // At answer the carrier's first minute ($0.014), answering-machine detection ($0.0075) and the first
    // recorded minute ($0.0025) make $0.024, under the cap; the first usage events tip it over.
    const prices = engine === 'cascade' ? HOSTED_STAGE_PRICES : {};
    await withStack({ engine, env: { MAX_COST_PER_CALL_USD: '0.0241', ...prices }, ...COST_CAP_CALL }, async (stack) => {
      const id = await stack.placeCall();
      const call = await stack.waitForEnd(id, 20_000);
      assert.equal(call.endReason, 'cost-limit');
      const text = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
      const events = [...text.matchAll(/^id: (\d+)\nevent: (.+)\ndata: (.+)$/gm)].map((m) => ({ seq: Number(m[1]), type: m[2], data: JSON.parse(m[3]).data }));
      const wrap = events.find((e) => e.type === 'wrapup.requested');
      assert.ok(wrap, 'the wrap-up is in the timeline');
      // Usage keeps arriving after the cap is crossed (the goodbye itself is billed): one request only.
      assert.equal(events.filter((e) => e.type === 'wrapup.requested').length, 1, 'the goodbye is asked for once');
      assert.equal(wrap.data.reason, 'cost-limit');
      assert.ok(wrap.data.costUsd >= 0.0241 && wrap.data.limitUsd === 0.0241, JSON.stringify(wrap.data));
      const goodbye = events.find((e) => e.type === 'transcript' && /Goodbye!/.test(e.data.text));
      assert.ok(goodbye, 'the goodbye was said');
      assert.ok(!goodbye.data.interrupted, 'and heard to the end');
      const ended = events.find((e) => e.type === 'status' && e.data.status === 'ended')!;
      assert.ok(goodbye.seq < ended.seq && wrap.seq < goodbye.seq, 'wrap-up, then the goodbye played, then the end');
      assert.ok(!text.includes('This turn must never be heard'));
      assert.equal(stack.twilio.calls[0].hangupBy, 'api', 'the server cut the line');
      // The ended call's cost counts the recording once the carrier has reported it (the live ledger
      // counts it from the start): the final total is read once it is in.
      const final = await until('the recording reported', async () => {
        const c = (await stack.api('GET', `/api/calls/${id}`)).body;
        return c.recording && c;
      }, 10_000);
      assert.ok(final.cost.total >= 0.0241, JSON.stringify(final.cost));
      // The cascade's cost is its hosted stages' usage at the prices set above.
      if (engine === 'cascade') assert.ok(['llm', 'tts'].every((stage) => call.cost.lines.some((l: any) => l.item.startsWith(`${stage} `) && l.source === 'usage' && l.amount > 0)), JSON.stringify(call.cost.lines));
    });
  });
}

test('per-day cost cap: once today\'s spend reaches it, new calls are refused', async () => {
  await withStack({ env: { MAX_COST_PER_DAY_USD: '0.01' }, script: () => ({ steps: [{ say: 'Hello?' }, { waitForAgent: true }, { hangup: true }] }) }, async (stack) => {
    const a = await stack.placeCall();
    const call = await stack.waitForEnd(a);
    assert.ok(call.cost.total >= 0.01, `the first call cost ${call.cost.total}`);
    const r = await stack.api('POST', '/api/calls', { to: '+14155550123', instructions: 'x' });
    assert.equal(r.status, 429);
    assert.equal(r.body.error.rule, 'max-cost-per-day');
    assert.match(r.body.error.message, /today's calls \(UTC\) have cost \$0\.0\d/);
    await until('refusal recorded', async () => (await stack.api('GET', '/api/refusals')).body.refusals.length === 1);
  });
});

test('with the server clock at 04:14 UTC in January: Chicago is refused naming 22:14, San Francisco is called; the daily cap resets at UTC midnight', async () => {
  let now = new Date('2026-01-15T04:14:00Z');
  await withStack({ env: { CALLING_HOURS: '08:00-21:00', MAX_CALLS_PER_DAY: '1' }, now: () => now, script: LONG_CALLEE }, async (stack) => {
    const chicago = await stack.api('POST', '/api/calls', { to: '+13125550123', instructions: 'x' });
    assert.equal(chicago.status, 403);
    assert.equal(chicago.body.error.message, "to: it is 22:14 in America/Chicago for +1 312 555 0123, outside calling hours 08:00-21:00 in the callee's local time; set overrideCallingHours to call anyway");
    const a = await stack.placeCall({ to: '+14155550123' }); // 20:14 in San Francisco
    await stack.api('POST', `/api/calls/${a}/hangup`);
    assert.equal((await stack.api('POST', '/api/calls', { to: '+14155550123', instructions: 'x' })).body.error.rule, 'max-calls-per-day');
    now = new Date('2026-01-15T23:59:00Z');
    assert.equal((await stack.api('POST', '/api/calls', { to: '+14155550123', instructions: 'x', overrideCallingHours: true, overrideReason: 'late test' })).body.error.rule, 'max-calls-per-day', 'still the same UTC day');
    now = new Date('2026-01-16T00:01:00Z');
    const b = await stack.placeCall({ to: '+14155550123', overrideCallingHours: true, overrideReason: 'late test' });
    await stack.api('POST', `/api/calls/${b}/hangup`);
  });
});
