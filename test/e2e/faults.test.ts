import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FULL_CONVERSATION, withStack, until, endedEvents } from './helpers.js';
import { SIM_API_TOKEN } from '../sim/stack.js';

test('a provider that drops mid-call ends that call cleanly; a concurrent call is untouched', async () => {
  await withStack(
    {
      // Session 0 (first call) drops during its second response; session 1 runs the whole conversation.
      scenario: (i) => (i === 0 ? { ...FULL_CONVERSATION.scenario, dropAfterResponses: 2 } : FULL_CONVERSATION.scenario),
      script: () => FULL_CONVERSATION.script,
    },
    async (stack) => {
      const a = await stack.placeCall();
      await until('first engine session', () => stack.openai.sessions.length === 1);
      const b = await stack.placeCall();
      const [ca, cb] = await Promise.all([stack.waitForEnd(a, 30_000), stack.waitForEnd(b, 30_000)]);
      assert.equal(ca.endReason, 'provider-error');
      assert.match(ca.error, /openai disconnected/);
      assert.deepEqual(ca.transcript.slice(0, 2).map((t: any) => t.speaker), ['callee', 'agent'], 'what was said before the drop is kept');
      const twA = stack.twilio.calls.find((c) => c.params.Url?.includes(a))!;
      assert.equal(twA.hangupBy, 'api', 'the carrier call was hung up, not left open');
      assert.equal(cb.endReason, 'agent-hangup');
      assert.equal(cb.transcript.length, 6);
      assert.equal(await endedEvents(stack, a), 1);
      assert.equal(await endedEvents(stack, b), 1);
    },
  );
});

test('a fatal provider error ends the call with the reason recorded', async () => {
  await withStack({ scenario: () => ({ ...FULL_CONVERSATION.scenario, fatalErrorAfterResponses: 1 }), script: () => FULL_CONVERSATION.script }, async (stack) => {
    const id = await stack.placeCall();
    const call = await stack.waitForEnd(id);
    assert.equal(call.endReason, 'provider-error');
    assert.match(call.error, /server_error|disconnected/);
  });
});

test('the callee hanging up mid-response ends the call and keeps the heard part', async () => {
  const long = 'Hi, this is an AI assistant calling for Raju Kumar about an order for pickup this evening, one chicken biryani and a mango lassi please.';
  await withStack(
    { script: () => ({ steps: [{ say: 'Hello?' }, { waitAgentPlayedMs: 1000 }, { hangup: true }] }), scenario: () => ({ turns: [{ say: long }], userTranscripts: ['Hello?'] }) },
    async (stack) => {
      const id = await stack.placeCall();
      const call = await stack.waitForEnd(id);
      assert.equal(call.endReason, 'callee-hangup');
      // `stop` and the carrier's "completed" callback both report the end: it is recorded once.
      assert.equal(await endedEvents(stack, id), 1);
      const agent = call.transcript.find((t: any) => t.speaker === 'agent');
      assert.ok(agent?.interrupted, 'the cut-off turn is marked');
      assert.ok(agent.interrupted.heardMs >= 900 && agent.interrupted.heardMs < 2000, `heard ${agent.interrupted.heardMs}`);
      await stack.openai.sessions[0].closed; // `stop` closed the AI session
    },
  );
});

test('the maximum call duration ends the call', async () => {
  await withStack({ env: { MAX_CALL_SECONDS: '2' }, script: () => ({ steps: [{ say: 'Hello?' }, { pauseMs: 30_000 }] }) }, async (stack) => {
    const id = await stack.placeCall();
    const call = await stack.waitForEnd(id, 10_000);
    assert.equal(call.endReason, 'max-duration');
    assert.ok(call.durationSec >= 2 && call.durationSec <= 4, `lasted ${call.durationSec}s`);
  });
});

test('a recording that fails to download a few times is retried until it arrives', async () => {
  await withStack({ recordingFailures: 3, script: () => ({ steps: [{ say: 'Hello?' }, { waitForAgent: true }, { hangup: true }] }) }, async (stack) => {
    const id = await stack.placeCall();
    const call = await stack.waitForEnd(id);
    assert.ok(call.recording);
    const events = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
    assert.match(events, /"type":"recording","data":\{"bytes":\d+,"attempts":4\}/);
  });
});

test('user hang-up, listing and resuming the event stream', async () => {
  await withStack({ script: () => ({ steps: [{ say: 'Hello?' }, { pauseMs: 30_000 }] }) }, async (stack) => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(await stack.placeCall({ instructions: `call ${i}` }));
      await until('talking', async () => (await stack.api('GET', `/api/calls/${ids[i]}`)).body.status === 'talking');
      const r = await stack.api('POST', `/api/calls/${ids[i]}/hangup`);
      assert.equal(r.body.endReason, 'user-hangup');
    }
    await stack.app.service.idle();
    for (const id of ids) assert.equal(await endedEvents(stack, id), 1);
    assert.equal((await stack.api('GET', `/api/calls/${ids[0]}`)).body.endReason, 'user-hangup', 'the later "completed" callback does not rewrite the reason');
    assert.equal((await stack.api('POST', `/api/calls/${ids[0]}/hangup`)).status, 409);
    const p1 = await stack.api('GET', '/api/calls?limit=2');
    assert.deepEqual(p1.body.calls.map((c: any) => c.id), [ids[2], ids[1]]);
    const p2 = await stack.api('GET', `/api/calls?limit=2&cursor=${p1.body.nextCursor}`);
    assert.deepEqual(p2.body.calls.map((c: any) => c.id), [ids[0]]);
    assert.equal(p2.body.nextCursor, null);

    const res = await fetch(`${stack.baseUrl}/api/calls/${ids[0]}/events`, { headers: { Authorization: `Bearer ${SIM_API_TOKEN}`, 'Last-Event-ID': '5' } });
    const text = await res.text();
    const seqs = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    assert.equal(seqs[0], 6, 'resumes after Last-Event-ID');
    assert.match(text, /event: end/);
  });
});

// kill -9 mid-call and the restart: test/e2e/fault-injection.test.ts (two live calls, then a new call).
