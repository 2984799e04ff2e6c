import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './helpers.js';
import { startTwilioSim } from '../sim/twilio/index.js';
import { startOpenAIRealtimeSim } from '../sim/openai-realtime/index.js';
import { freePort, simEnv, writeDemoClient, SIM_ACCOUNT_SID, SIM_AUTH_TOKEN, SIM_OPENAI_KEY } from '../sim/stack.js';
import { startServerProcess, type ServerProcess } from '../sim/server-process.js';

const num = (i: number) => `+1415555${String(150 + i).padStart(4, '0')}`;

test('kill -9 mid-campaign: after the restart no number is dialled twice, the calls cut short are recorded, the rest are dialled', async () => {
  let created = 0;
  // The first two calls are still being dialled when the server dies: the carrier has them, the server
  // has not had its answer (the held response), so only the stored call rows tell they were placed.
  const twilio = await startTwilioSim({
    accountSid: SIM_ACCOUNT_SID,
    authToken: SIM_AUTH_TOKEN,
    createResponseDelayMs: () => (++created <= 2 ? 5000 : 0),
    script: () => ({ steps: [{ say: 'Hello?' }, { pauseMs: 300 }, { hangup: true }] }),
  });
  const openai = await startOpenAIRealtimeSim({ apiKey: SIM_OPENAI_KEY, msPerChar: 20 });
  const dataDir = mkdtempSync(join(tmpdir(), 'callwright-campaign-'));
  writeDemoClient(join(dataDir, 'clients'));
  const port = await freePort();
  const env = { ...simEnv({ port, dataDir, twilioUrl: twilio.url, openaiUrl: openai.url }), VAD_SILENCE_MS: '300', CAMPAIGN_TICK_MS: '40', NODE_ID: 'node-a' };
  let server: ServerProcess = await startServerProcess(env);
  try {
    const r = await server.api('POST', '/api/campaigns', { name: 'Crash', instructions: 'Say hello.', concurrency: 2, numbers: [1, 2, 3, 4, 5].map((i) => ({ to: num(i) })) });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const id = r.body.id as string;
    await until('two calls at the carrier', () => twilio.calls.length === 2);
    const before = (await server.api('GET', `/api/campaigns/${id}`)).body;
    assert.deepEqual(before.numbers.map((n: any) => n.state), ['dialing', 'dialing', 'pending', 'pending', 'pending']);
    await server.crash();

    server = await startServerProcess(env);
    const c = await until('campaign completed', async () => {
      const b = (await server.api('GET', `/api/campaigns/${id}`)).body;
      return b.status === 'completed' && b;
    }, 30_000);
    const to = twilio.calls.map((x) => x.params.To).sort();
    assert.deepEqual(to, [1, 2, 3, 4, 5].map(num), 'each number dialled exactly once');
    const outcomes = c.numbers.map((n: any) => n.outcome);
    assert.deepEqual(outcomes.slice(2), ['answered', 'answered', 'answered']);
    for (const n of c.numbers.slice(0, 2)) {
      assert.equal(n.outcome, 'interrupted', JSON.stringify(n));
      assert.equal(n.attempts, 1);
      assert.ok(n.callId, 'the call placed before the crash is kept on the number');
    }
    assert.equal(c.progress.interrupted, 2);
  } finally {
    await server.stop();
    await twilio.close();
    await openai.close();
  }
});
