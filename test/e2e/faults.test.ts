import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FULL_CONVERSATION, withStack, until, endedEvents } from './helpers.js';
import { startTwilioSim } from '../sim/twilio/index.js';
import { startOpenAIRealtimeSim } from '../sim/openai-realtime/index.js';
import { freePort, simEnv, writeDemoClient, SIM_ACCOUNT_SID, SIM_AUTH_TOKEN, SIM_OPENAI_KEY, SIM_API_TOKEN } from '../sim/stack.js';

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

test('restart after a crash (kill -9) marks the live call interrupted and keeps its records', async () => {
  const twilio = await startTwilioSim({ accountSid: SIM_ACCOUNT_SID, authToken: SIM_AUTH_TOKEN, script: () => ({ steps: [{ say: 'Hello?' }, { pauseMs: 60_000 }] }) });
  const openai = await startOpenAIRealtimeSim({ apiKey: SIM_OPENAI_KEY, msPerChar: 20, scenario: () => ({ turns: [{ say: 'Hi, an AI assistant for Raju here.' }], userTranscripts: ['Hello?'] }) });
  const dataDir = mkdtempSync(join(tmpdir(), 'callwright-crash-'));
  writeDemoClient(join(dataDir, 'clients'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { ...process.env, ...simEnv({ port, dataDir, twilioUrl: twilio.url, openaiUrl: openai.url }), VAD_SILENCE_MS: '300' };
  const start = async (): Promise<ChildProcess> => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d) => String(d).includes('listening') && resolve());
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    return child;
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(base + path, { method, headers: { Authorization: `Bearer ${SIM_API_TOKEN}`, 'Content-Type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
    return { status: r.status, body: (await r.json()) as any };
  };
  let child = await start();
  try {
    const created = await api('POST', '/api/calls', { to: '+14155550123', instructions: 'Say hi.', clientId: 'raju' });
    const id = created.body.id;
    await until('greeting heard', async () => (await api('GET', `/api/calls/${id}`)).body.transcript.some((t: any) => t.speaker === 'agent'), 15_000);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    child = await start();
    const call = (await api('GET', `/api/calls/${id}`)).body;
    assert.equal(call.status, 'ended');
    assert.equal(call.endReason, 'interrupted');
    assert.deepEqual(call.transcript.map((t: any) => t.speaker), ['callee', 'agent'], 'nothing already recorded was lost');
    // The carrier leg does not keep running (and billing) after the crash.
    await until('carrier call over', () => twilio.calls[0].status === 'completed', 10_000);
  } finally {
    child.kill('SIGKILL');
    await Promise.all([twilio.close(), openai.close()]);
  }
});
