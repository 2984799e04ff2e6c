import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { withStack, until, readSse } from './helpers.js';
import { SIM_API_TOKEN, type Stack } from '../sim/stack.js';
import type { CalleeScript, SimCall } from '../sim/twilio/types.js';
import { localTime } from '../../src/calls/calling-hours.js';
import { mailbox } from '../sim/twilio/scripts.js';

const TICK = { CAMPAIGN_TICK_MS: '40' };
const SHORT: CalleeScript = { steps: [{ say: 'Hello?' }, { hangup: true }] };
const num = (i: number) => `+1415555${String(150 + i).padStart(4, '0')}`;

async function finished(stack: Stack, id: string, timeoutMs = 30_000): Promise<any> {
  return until(`campaign ${id} over`, async () => {
    const c = (await stack.api('GET', `/api/campaigns/${id}`)).body;
    return (c.status === 'completed' || c.status === 'cancelled') && c.progress.inFlight === 0 && c;
  }, timeoutMs);
}

const dialledTo = (stack: Stack) => stack.twilio.calls.map((c) => c.params.To);

/** The most carrier calls that were up at one moment: each from its creation to the end the carrier logged. */
function mostAtOnce(calls: SimCall[]): number {
  const points: Array<[number, number]> = [];
  for (const c of calls) {
    const start = c.dateCreated.getTime();
    const end = c.log.find((l) => l.type === 'call-ended');
    points.push([start, 1], [end ? start + end.atMs : Infinity, -1]);
  }
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of points) most = Math.max(most, (now += d));
  return most;
}

test('a campaign from JSON and one from CSV: each number dialled once with its variables, live progress, results as CSV', async () => {
  await withStack({ env: TICK, script: () => SHORT }, async (stack) => {
    const r = await stack.api('POST', '/api/campaigns', {
      name: 'Reminders',
      instructions: 'Remind {{name}} of the appointment on {{date}}.',
      clientId: 'raju',
      numbers: [
        { to: num(1), variables: { name: 'Ann', date: 'Monday' } },
        { to: num(2), variables: { name: 'Bob', date: 'Tuesday' } },
      ],
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.status, 'active');
    assert.equal(r.body.progress.total, 2);
    const events = await readSse(`${stack.baseUrl}/api/campaigns/${r.body.id}/events`, SIM_API_TOKEN);
    // The whole state first (every number, then the campaign), so a client that connects late misses nothing.
    assert.deepEqual(events.slice(0, 2).map((e) => e.event), ['numbers', 'campaign']);
    assert.deepEqual(events[0]!.data.map((n: any) => n.to), [num(1), num(2)]);
    const last = events.filter((e) => e.event === 'campaign').at(-1)!.data;
    assert.equal(last.status, 'completed');
    assert.equal(last.progress.answered, 2);
    assert.ok(events.some((e) => e.event === 'number' && e.data.state === 'calling'), 'each dial is seen live');
    assert.equal(events.at(-1)!.event, 'end');
    assert.deepEqual(dialledTo(stack).sort(), [num(1), num(2)]);

    const c = await finished(stack, r.body.id);
    const ann = c.numbers.find((n: any) => n.to === num(1));
    assert.equal(ann.outcome, 'answered');
    assert.equal(ann.attempts, 1);
    const call = (await stack.api('GET', `/api/calls/${ann.callId}`)).body;
    assert.match(call.instructions ?? (await stack.api('GET', `/api/calls/${ann.callId}/export`)).body.call.instructions, /Remind Ann of the appointment on Monday/);
    assert.equal(call.metadata.campaignId, r.body.id);
    assert.equal(call.metadata.campaignNumber, 1);

    const csv = ['phone,name,date', `${num(3)},"Lee, Jr.",Friday`, `${num(4)},"Sam ""S""",Sunday`].join('\r\n');
    const fromCsv = await stack.api('POST', '/api/campaigns', { name: 'From CSV', instructions: 'Remind {{name}} about {{date}}.', csv });
    assert.equal(fromCsv.status, 201, JSON.stringify(fromCsv.body));
    const done = await finished(stack, fromCsv.body.id);
    assert.deepEqual(done.numbers.map((n: any) => [n.to, n.variables.name, n.outcome]), [
      [num(3), 'Lee, Jr.', 'answered'],
      [num(4), 'Sam "S"', 'answered'],
    ]);
    const exported = await fetch(`${stack.baseUrl}/api/campaigns/${fromCsv.body.id}/results.csv`, { headers: { Authorization: `Bearer ${SIM_API_TOKEN}` } });
    assert.equal(exported.status, 200);
    assert.match(exported.headers.get('content-type')!, /text\/csv/);
    const lines = (await exported.text()).trim().split('\r\n');
    assert.equal(lines[0], 'row,to,name,date,state,outcome,attempts,end_reason,call_id,call_ids,detail,updated_at');
    assert.match(lines[1]!, new RegExp(`^1,\\${num(3)},"Lee, Jr.",Friday,done,answered,1,callee-hangup,[0-9a-f-]{36},`));
    assert.match(lines[2]!, /^2,\+\d+,"Sam ""S""",Sunday,done,answered,1,/);
    assert.equal(stack.twilio.calls.length, 4, 'four numbers, four calls');

    const list = await stack.api('GET', '/api/campaigns');
    assert.deepEqual(list.body.campaigns.map((x: any) => x.name), ['From CSV', 'Reminders']);
  });
});

test('bad input is a 4xx naming the field, or the CSV row and column; nothing is stored or dialled', async () => {
  await withStack({ env: TICK, script: () => SHORT }, async (stack) => {
    const bad = async (body: object, status: number, field: string, message: RegExp) => {
      const r = await stack.api('POST', '/api/campaigns', { name: 'x', instructions: 'Hi {{name}}.', ...body });
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.error.field, field, JSON.stringify(r.body));
      assert.match(r.body.error.message, message);
    };
    await bad({ numbers: [{ to: num(1), variables: { name: 'A' } }, { to: '555-1234', variables: { name: 'B' } }] }, 400, 'numbers[1].to', /E\.164/);
    await bad({ numbers: [{ to: num(1), variables: { name: 'A' } }, { to: num(1), variables: { name: 'B' } }] }, 400, 'numbers[1].to', /also in numbers\[0\]/);
    await bad({ numbers: [{ to: num(1), variables: { nom: 'A' } }] }, 400, 'numbers[0].variables', /variables\.name: is used in the instructions/);
    await bad({ csv: `to,name\n${num(1)},Ann\n+1415,Bob\n` }, 400, 'csv', /row 2 \(line 3\), column "to": \+1415 is not a valid phone number/);
    await bad({ csv: `name,phone\nAnn,${num(1)}\n"Bob,${num(2)}\n` }, 400, 'csv', /line 3: a quoted field is not closed/);
    await bad({ csv: `name,phone\nAnn,${num(1)},extra\n` }, 400, 'csv', /row 1 \(line 2\): has 3 fields; the header has 2/);
    await bad({ csv: `name,timezone,to\nAnn,Mars/Olympus,${num(1)}\n` }, 400, 'csv', /row 1 \(line 2\), column "timezone": is not an IANA time zone/);
    await bad({ csv: `name\nAnn\n` }, 400, 'csv', /no "to" \(or "phone"\) column/);
    await bad({ runbook: 'no-such-runbook', numbers: [{ to: num(1) }] }, 404, 'runbook', /no runbook named "no-such-runbook"/);
    await bad({ numbers: [{ to: num(1), variables: { name: 'A' } }], concurrency: 0 }, 400, 'concurrency', /at least 1/);
    await bad({ numbers: [{ to: num(1), variables: { name: 'A' } }], callingHours: '9-5' }, 400, 'callingHours', /HH:MM-HH:MM/);
    await bad({ numbers: [{ to: num(1), variables: { name: 'A' } }], csv: 'to\n+14155550123' }, 400, 'numbers', /cannot be given with csv/);
    await bad({ numbers: [{ to: num(1), variables: { name: 'A' } }], speed: 'fast' }, 400, 'speed', /unknown field/);
    assert.equal((await stack.api('GET', '/api/campaigns')).body.campaigns.length, 0);
    assert.equal((await stack.api('GET', '/api/campaigns/6b1e6b59-1111-4a4a-9a9a-000000000000')).status, 404);
    assert.equal(stack.twilio.calls.length, 0);
  });
});

test('concurrency is never exceeded; busy and no answer are tried again after the backoff, then end with their outcome', async () => {
  const tries = new Map<string, number>();
  const script = (p: { To: string }) => {
    const n = (tries.get(p.To) ?? 0) + 1;
    tries.set(p.To, n);
    if (p.To === num(1)) return { result: 'busy' as const, steps: [] };
    if (p.To === num(2) && n === 1) return { result: 'no-answer' as const, steps: [] };
    return { steps: [{ say: 'Hello?' }, { pauseMs: 400 }, { hangup: true as const }] };
  };
  await withStack({ env: TICK, script }, async (stack) => {
    const r = await stack.api('POST', '/api/campaigns', {
      name: 'Retries',
      instructions: 'Say hello.',
      concurrency: 2,
      retries: { busy: 1, noAnswer: 2, backoffSeconds: 1, backoffFactor: 1 },
      numbers: [1, 2, 3, 4, 5].map((i) => ({ to: num(i) })),
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const c = await finished(stack, r.body.id);
    assert.equal(c.status, 'completed');
    const by = (i: number) => c.numbers.find((n: any) => n.to === num(i));
    assert.deepEqual([by(1).outcome, by(1).attempts, by(1).endReason], ['busy', 2, 'busy'], 'busy: one retry, then busy');
    assert.deepEqual([by(2).outcome, by(2).attempts], ['answered', 2], 'no answer, then answered on the retry');
    assert.equal(by(2).callIds.length, 2);
    for (const i of [3, 4, 5]) assert.deepEqual([by(i).outcome, by(i).attempts], ['answered', 1]);
    // The retry waited out the backoff (1 s) after the first try ended.
    const first = stack.twilio.calls.filter((x) => x.params.To === num(1));
    assert.equal(first.length, 2);
    const endedAt = first[0]!.dateCreated.getTime() + first[0]!.log.find((l) => l.type === 'call-ended')!.atMs;
    assert.ok(first[1]!.dateCreated.getTime() - endedAt >= 1000, `retried ${first[1]!.dateCreated.getTime() - endedAt} ms after the busy line`);
    assert.equal(stack.twilio.calls.length, 7);
    assert.ok(mostAtOnce(stack.twilio.calls) <= 2, `at most 2 calls at once, saw ${mostAtOnce(stack.twilio.calls)}`);
    assert.equal(mostAtOnce(stack.twilio.calls), 2, 'both slots were used');
  });
});

test('pause stops new dials and resume goes on; cancel cancels what is not dialled and lets the call in progress finish', async () => {
  await withStack({ env: TICK, script: () => (({ steps: [{ say: 'Hello?' }, { pauseMs: 600 }, { hangup: true as const }] })) }, async (stack) => {
    const r = await stack.api('POST', '/api/campaigns', { name: 'Pausing', instructions: 'Say hello.', concurrency: 1, numbers: [1, 2, 3].map((i) => ({ to: num(i) })) });
    await until('first dial', () => stack.twilio.calls.length === 1);
    const paused = await stack.api('POST', `/api/campaigns/${r.body.id}/pause`);
    assert.equal(paused.status, 200);
    assert.equal(paused.body.status, 'paused');
    assert.equal((await stack.api('POST', `/api/campaigns/${r.body.id}/pause`)).status, 409);
    // The call in progress finishes and is recorded; the runner then goes round a few times and dials nothing.
    await until('first number done', async () => (await stack.api('GET', `/api/campaigns/${r.body.id}`)).body.progress.done === 1);
    const turnsLater = Date.now() + 400;
    await until('a few runner turns', () => Date.now() > turnsLater);
    assert.equal(stack.twilio.calls.length, 1, 'nothing dialled while paused');
    assert.equal((await stack.api('POST', `/api/campaigns/${r.body.id}/resume`)).body.status, 'active');
    const c = await finished(stack, r.body.id);
    assert.equal(c.progress.answered, 3);
    assert.equal(stack.twilio.calls.length, 3);

    const second = await stack.api('POST', '/api/campaigns', { name: 'Cancelling', instructions: 'Say hello.', concurrency: 1, numbers: [4, 5, 6].map((i) => ({ to: num(i) })) });
    await until('its first dial', () => stack.twilio.calls.length === 4);
    const cancelled = await stack.api('POST', `/api/campaigns/${second.body.id}/cancel`);
    assert.equal(cancelled.body.status, 'cancelled');
    assert.equal(cancelled.body.progress.cancelled, 2);
    assert.equal((await stack.api('POST', `/api/campaigns/${second.body.id}/resume`)).status, 409);
    const over = await finished(stack, second.body.id);
    assert.deepEqual(over.numbers.map((n: any) => n.outcome), ['answered', 'cancelled', 'cancelled']);
    assert.equal(stack.twilio.calls.length, 4);
  });
});

test('the dial policy applies to every dial: do-not-call refused, campaign calling hours in the callee local time wait', async () => {
  const dnc = join(mkdtempSync(join(tmpdir(), 'cw-dnc-')), 'dnc.txt');
  writeFileSync(dnc, `${num(2)}\n`);
  const hhmm = (min: number) => `${String(Math.floor(((min + 1440) % 1440) / 60)).padStart(2, '0')}:${String(((min % 60) + 60) % 60).padStart(2, '0')}`;
  const la = localTime('America/Los_Angeles', new Date()).minutes;
  // A window that opens two hours from now in Los Angeles: the 415 number waits; a number given a zone two hours ahead is inside.
  const window = `${hhmm(la + 120)}-${hhmm(la + 180)}`;
  const ahead = [...Array(27).keys()].map((k) => `Etc/GMT${k - 12 <= 0 ? '+' : '-'}${Math.abs(k - 12)}`).find((z) => {
    const m = localTime(z, new Date()).minutes;
    return m >= (la + 120) % 1440 && m < (la + 120) % 1440 + 30;
  })!;
  assert.ok(ahead, 'a zone inside the window');
  await withStack({ env: { ...TICK, DNC_FILE: dnc }, script: () => SHORT }, async (stack) => {
    const r = await stack.api('POST', '/api/campaigns', {
      name: 'Policy',
      instructions: 'Say hello.',
      callingHours: window,
      numbers: [{ to: num(1) }, { to: num(2), timezone: ahead }, { to: num(3), timezone: ahead }],
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const c = await until('the two in-hours numbers settled', async () => {
      const b = (await stack.api('GET', `/api/campaigns/${r.body.id}`)).body;
      return b.progress.done === 2 && b;
    });
    const by = (i: number) => c.numbers.find((n: any) => n.to === num(i));
    assert.equal(by(2).outcome, 'refused');
    assert.match(by(2).detail, /do-not-call list/);
    assert.equal(by(3).outcome, 'answered');
    assert.equal(by(1).state, 'pending');
    assert.equal(by(1).attempts, 0, 'waiting is not an attempt');
    assert.match(by(1).detail, new RegExp(`outside the campaign's calling hours ${window}: it is \\d\\d:\\d\\d in America/Los_Angeles`));
    assert.ok(Date.parse(by(1).nextAt) > Date.now() + 60 * 60_000, 'it waits until the window opens');
    assert.deepEqual(dialledTo(stack), [num(3)], 'only the permitted, in-hours number was dialled');
    const refusals = (await stack.api('GET', '/api/refusals')).body.refusals;
    assert.equal(refusals[0].rule, 'do-not-call');
  });
});

test('MAX_CONCURRENT_CALLS holds over a campaign: it waits for a free line instead of collecting cap refusals', async () => {
  await withStack({ env: { ...TICK, MAX_CONCURRENT_CALLS: '1' }, script: () => ({ steps: [{ say: 'Hello?' }, { pauseMs: 300 }, { hangup: true as const }] }) }, async (stack) => {
    const r = await stack.api('POST', '/api/campaigns', { name: 'Capped', instructions: 'Say hello.', concurrency: 3, numbers: [1, 2, 3].map((i) => ({ to: num(i) })) });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const c = await finished(stack, r.body.id);
    assert.equal(c.progress.answered, 3);
    assert.equal(mostAtOnce(stack.twilio.calls), 1, 'one call at a time, as the cap says');
    assert.deepEqual((await stack.api('GET', '/api/refusals')).body.refusals, [], 'no cap refusal was collected');
  });
});

test("voicemail behaviour: a machine gets the campaign's message left after the beep; a person is answered", async () => {
  const message = 'Hello, this is the clinic about your appointment tomorrow. Please call us back.';
  const script = (p: { To: string }): CalleeScript => (p.To === num(1) ? mailbox({ greetingMs: 1500 }) : SHORT);
  await withStack({ env: TICK, script, conversation: () => ({ turns: [{ say: message }] }) }, async (stack) => {
    const r = await stack.api('POST', '/api/campaigns', { name: 'Voicemail', instructions: 'Remind them of the appointment.', voicemail: { action: 'leave-message', message }, numbers: [{ to: num(1) }, { to: num(2) }] });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body.voicemail, { action: 'leave-message', message });
    const c = await finished(stack, r.body.id);
    assert.deepEqual(c.numbers.map((n: any) => n.outcome), ['voicemail-left', 'answered']);
    const box = stack.twilio.calls.find((x) => x.params.To === num(1))!.mailbox;
    assert.ok(box && box.agentMsRecorded > 0, 'the mailbox recorded the message');
    assert.equal(box.agentMsOverGreeting, 0);
  });
});
