/**
 * The server as `npm start` runs it: compiled JavaScript (dist/main.js), no TypeScript loader. Its
 * document parser (a child process) and search thread start from compiled code too; a call goes through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './helpers.js';
import { startTwilioSim } from '../sim/twilio/index.js';
import { startOpenAIRealtimeSim } from '../sim/openai-realtime/index.js';
import { freePort, simEnv, writeDemoClient, SIM_ACCOUNT_SID, SIM_AUTH_TOKEN, SIM_OPENAI_KEY, SIM_API_TOKEN } from '../sim/stack.js';
import { startServerProcess, type ServerProcess } from '../sim/server-process.js';

test('compiled server (npm start): documents are parsed and searched off the main thread, and a call goes through', async () => {
  const twilio = await startTwilioSim({ accountSid: SIM_ACCOUNT_SID, authToken: SIM_AUTH_TOKEN, script: () => ({ steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { hangup: true }] }) });
  const openai = await startOpenAIRealtimeSim({ apiKey: SIM_OPENAI_KEY, msPerChar: 20, scenario: () => ({ turns: [{ say: 'Hi, an AI assistant for Raju here.' }], userTranscripts: ['Hello?'] }) });
  const dataDir = mkdtempSync(join(tmpdir(), 'callwright-compiled-'));
  writeDemoClient(join(dataDir, 'clients'));
  const port = await freePort();
  let server: ServerProcess | undefined;
  try {
    const started = await startServerProcess({ ...simEnv({ port, dataDir, twilioUrl: twilio.url, openaiUrl: openai.url }), VAD_SILENCE_MS: '300' });
    server = started;
    assert.ok(started.child.spawnargs.some((a) => a.endsWith('dist/main.js')), started.child.spawnargs.join(' '));
    assert.ok(!started.child.spawnargs.includes('tsx'), 'no TypeScript loader');

    const form = new FormData();
    form.append('file', new Blob(['# Errands\n\nThe dentist is Dr. Okafor on Lindenhurst Avenue; appointments on Tuesdays.\n'], { type: 'text/markdown' }), 'errands.md');
    const up = await fetch(`${started.base}/api/clients/raju/documents`, { method: 'POST', headers: { Authorization: `Bearer ${SIM_API_TOKEN}` }, body: form });
    assert.equal(up.status, 201, await up.clone().text());
    const found = await until('the document is searchable', async () => {
      const r = await started.api('GET', '/api/clients/raju/search?q=Okafor%20dentist&mode=lexical');
      return r.body.results?.find((x: any) => x.file === 'errands.md');
    });
    assert.match(found.text, /Lindenhurst Avenue/);

    const id = (await started.api('POST', '/api/calls', { to: '+14155550123', instructions: 'Say hi.', clientId: 'raju' })).body.id;
    await until('the call ended', async () => (await started.api('GET', `/api/calls/${id}`)).body.status === 'ended', 20_000);
    const call = (await started.api('GET', `/api/calls/${id}`)).body;
    assert.equal(call.endReason, 'callee-hangup');
    assert.deepEqual(call.transcript.map((t: any) => t.speaker), ['callee', 'agent']);
  } finally {
    await server?.stop();
    await Promise.all([twilio.close(), openai.close()]);
  }
});
