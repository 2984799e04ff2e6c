/**
 * Scheduled calls (docs/scheduled-calls.md) through the REST API: durable across a kill -9 of the compiled
 * server, checked again when they dial, listed and cancelled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withStack, until } from './helpers.js';
import { startTwilioSim } from '../sim/twilio/index.js';
import { startOpenAIRealtimeSim } from '../sim/openai-realtime/index.js';
import { freePort, simEnv, writeDemoClient, SIM_ACCOUNT_SID, SIM_AUTH_TOKEN, SIM_OPENAI_KEY } from '../sim/stack.js';
import { startServerProcess } from '../sim/server-process.js';

const LONG_CALLEE = () => ({ steps: [{ say: 'Hello?' }, { pauseMs: 60_000 }] });
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

test('a call scheduled 2 s ahead survives a kill -9 and restart before it is due, and is dialled once', async () => {
  const twilio = await startTwilioSim({ accountSid: SIM_ACCOUNT_SID, authToken: SIM_AUTH_TOKEN, script: () => ({ steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { hangup: true }] }) });
  const openai = await startOpenAIRealtimeSim({ apiKey: SIM_OPENAI_KEY, msPerChar: 20, scenario: () => ({ turns: [{ say: 'Hi, an AI assistant for Raju here.' }], userTranscripts: ['Hello?'] }) });
  const dataDir = mkdtempSync(join(tmpdir(), 'callwright-schedule-'));
  writeDemoClient(join(dataDir, 'clients'));
  const port = await freePort();
  const env = { ...simEnv({ port, dataDir, twilioUrl: twilio.url, openaiUrl: openai.url }), VAD_SILENCE_MS: '300' };
  let server = await startServerProcess(env);
  try {
    const r = await server.api('POST', '/api/calls', { to: '+14155550123', instructions: 'Say hi.', clientId: 'raju', scheduledAt: inMs(2000) });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.status, 'scheduled');
    const id = r.body.id as string;
    assert.deepEqual((await server.api('GET', '/api/scheduled-calls?status=scheduled')).body.scheduledCalls.map((s: any) => s.id), [id]);
    await server.crash();
    assert.equal(twilio.calls.length, 0, 'not dialled before its time');

    server = await startServerProcess(env);
    const placed = await until('the scheduled call is placed', async () => {
      const s = (await server.api('GET', `/api/scheduled-calls/${id}`)).body;
      return s.status === 'placed' && s;
    }, 15_000);
    assert.ok(Date.now() >= Date.parse(r.body.scheduledAt), 'not before its time');
    await until('call over', async () => (await server.api('GET', `/api/calls/${placed.callId}`)).body.status === 'ended', 15_000);
    // Another look past its time: still one carrier call, and nothing left waiting.
    await new Promise((res) => setTimeout(res, 1500));
    assert.equal(twilio.calls.length, 1, 'dialled exactly once');
    assert.ok(twilio.calls[0]!.params.Url?.includes(placed.callId));
    assert.deepEqual((await server.api('GET', '/api/scheduled-calls?status=scheduled')).body.scheduledCalls, []);
  } finally {
    await server.stop();
    await twilio.close();
    await openai.close();
  }
});

test('scheduledAt is validated; a scheduled call can be cancelled; a cap reached when it is due refuses it, on its record', async () => {
  await withStack({ env: { MAX_CONCURRENT_CALLS: '1' }, script: LONG_CALLEE }, async (stack) => {
    const bad = async (scheduledAt: unknown, re: RegExp) => {
      const r = await stack.api('POST', '/api/calls', { to: '+14155550123', instructions: 'x', scheduledAt });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error.field, 'scheduledAt');
      assert.match(JSON.stringify(r.body), re);
    };
    await bad('tomorrow at nine', /ISO 8601 date and time with an offset/);
    await bad('2026-05-04T09:30:00', /with an offset/);
    await bad(inMs(-60_000), /is not in the future/);
    await bad(inMs(40 * 86_400_000), /more than 30 days ahead \(SCHEDULE_MAX_DAYS\)/);

    const later = await stack.api('POST', '/api/calls', { to: '+14155550123', instructions: 'Call later.', scheduledAt: inMs(3_600_000) });
    assert.equal(later.status, 201);
    const cancelled = await stack.api('POST', `/api/scheduled-calls/${later.body.id}/cancel`);
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');
    assert.equal((await stack.api('POST', `/api/scheduled-calls/${later.body.id}/cancel`)).status, 409);
    assert.equal((await stack.api('GET', '/api/scheduled-calls?status=cancelled')).body.scheduledCalls[0].id, later.body.id);

    // One call live fills MAX_CONCURRENT_CALLS=1: the scheduled one is refused when it is due.
    const live = await stack.placeCall();
    const soon = await stack.api('POST', '/api/calls', { to: '+14155550123', instructions: 'Call soon.', scheduledAt: inMs(800) });
    const refused = await until('refused at dial time', async () => {
      const s = (await stack.api('GET', `/api/scheduled-calls/${soon.body.id}`)).body;
      return s.status === 'refused' && s;
    });
    assert.match(refused.reason, /^refused when it was due: .*MAX_CONCURRENT_CALLS/);
    assert.equal(refused.callId, null);
    assert.equal(stack.twilio.calls.length, 1, 'only the live call was dialled');
    await stack.api('POST', `/api/calls/${live}/hangup`);
  });
});
