import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import WebSocket from 'ws';
import twilio from 'twilio';
import { withStack, until, storedStreamSecret } from './helpers.js';
import { SIM_AUTH_TOKEN, SIM_ACCOUNT_SID } from '../sim/stack.js';

const sign = (url: string, params: Record<string, string>) => twilio.getExpectedTwilioSignature(SIM_AUTH_TOKEN, url, params);

async function post(url: string, params: Record<string, string>, signature?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(signature ? { 'X-Twilio-Signature': signature } : {}) },
    body: new URLSearchParams(params).toString(),
  });
  return res.status;
}

test('unsigned or forged webhooks are refused and change nothing', async () => {
  await withStack({ script: () => ({ steps: [{ say: 'Hello?' }, { pauseMs: 60_000 }] }) }, async (stack) => {
    const id = await stack.placeCall();
    const tw = await stack.twilio.waitForCall();
    await until('talking', async () => (await stack.api('GET', `/api/calls/${id}`)).body.status === 'talking');
    const url = `${stack.baseUrl}/twilio/status?callId=${id}`;
    const params = { CallSid: tw.sid, AccountSid: SIM_ACCOUNT_SID, CallStatus: 'completed', CallDuration: '5' };
    assert.equal(await post(url, params), 403, 'no signature');
    assert.equal(await post(url, params, 'AAAA' + sign(url, params).slice(4)), 403, 'wrong signature');
    assert.equal(await post(url, params, sign(url, { ...params, CallStatus: 'in-progress' })), 403, 'signature of other params');
    assert.equal(await post(`${stack.baseUrl}/twilio/amd?callId=${id}`, { CallSid: tw.sid, AnsweredBy: 'machine_start' }), 403);
    assert.equal(await post(`${stack.baseUrl}/twilio/voice?callId=${id}`, { CallSid: tw.sid }), 403);
    assert.equal((await stack.api('GET', `/api/calls/${id}`)).body.status, 'talking', 'the call is untouched');

    // A correctly signed but malformed callback is a clear 400.
    const bad = { CallSid: 'not-a-sid', CallStatus: 'completed' };
    assert.equal(await post(url, bad, sign(url, bad)), 400);

    const hang = await stack.api('POST', `/api/calls/${id}/hangup`);
    assert.equal(hang.status, 200);
    assert.equal(hang.body.endReason, 'user-hangup');
  });
});

test('duplicate and out-of-order callbacks never move a call backwards', async () => {
  await withStack({ script: () => ({ steps: [{ say: 'Hello?' }, { pauseMs: 60_000 }] }) }, async (stack) => {
    const id = await stack.placeCall();
    const tw = await stack.twilio.waitForCall();
    await until('talking', async () => (await stack.api('GET', `/api/calls/${id}`)).body.status === 'talking');
    const url = `${stack.baseUrl}/twilio/status?callId=${id}`;
    for (const CallStatus of ['ringing', 'initiated', 'ringing']) {
      const p = { CallSid: tw.sid, AccountSid: SIM_ACCOUNT_SID, CallStatus };
      assert.equal(await post(url, p, sign(url, p)), 204);
    }
    const amdUrl = `${stack.baseUrl}/twilio/amd?callId=${id}`;
    const amd = { CallSid: tw.sid, AccountSid: SIM_ACCOUNT_SID, AnsweredBy: 'human' };
    assert.equal(await post(amdUrl, amd, sign(amdUrl, amd)), 204);
    const call = (await stack.api('GET', `/api/calls/${id}`)).body;
    assert.equal(call.status, 'talking');
    // A machine verdict after the person verdict is a retry of the same AMD callback: ignored.
    const late = { ...amd, AnsweredBy: 'machine_end_beep' };
    assert.equal(await post(amdUrl, late, sign(amdUrl, late)), 204);
    assert.equal((await stack.api('GET', `/api/calls/${id}`)).body.status, 'talking');
    await stack.api('POST', `/api/calls/${id}/hangup`);
    await stack.app.service.idle();
    // Replayed progress callbacks after the end change nothing.
    for (const CallStatus of ['in-progress', 'ringing', 'completed']) {
      const p = { CallSid: tw.sid, AccountSid: SIM_ACCOUNT_SID, CallStatus, CallDuration: '9' };
      assert.equal(await post(url, p, sign(url, p)), 204);
    }
    const after = (await stack.api('GET', `/api/calls/${id}`)).body;
    assert.equal(after.status, 'ended');
    assert.equal(after.endReason, 'user-hangup');
    // Once the call is over, the event stream replays the stored timeline and ends.
    const events = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
    assert.equal((events.match(/"type":"amd"/g) ?? []).length, 1, 'a retried AMD callback is recorded once');
    assert.equal((events.match(/"status":"ringing"/g) ?? []).length, 2, 'carrier + call status once each');
  });
});

test('a media stream without a valid signature, or with a wrong secret, is closed at once', async () => {
  await withStack({ script: () => ({ steps: [{ say: 'Hello?' }, { pauseMs: 60_000 }] }) }, async (stack) => {
    const id = await stack.placeCall();
    const tw = await stack.twilio.waitForCall();
    await until('talking', async () => (await stack.api('GET', `/api/calls/${id}`)).body.status === 'talking');
    const wsUrl = stack.baseUrl.replace('http', 'ws') + '/twilio/media';

    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(wsUrl);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    assert.equal(refused, 403);

    const forged = new WebSocket(wsUrl, { headers: { 'X-Twilio-Signature': sign(wsUrl, {}) } });
    await new Promise((r) => forged.once('open', r));
    let mediaReceived = 0;
    forged.on('message', () => mediaReceived++);
    const closed = new Promise<number>((r) => forged.once('close', (code) => r(code)));
    forged.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    forged.send(
      JSON.stringify({
        event: 'start',
        sequenceNumber: '1',
        streamSid: 'MZ' + 'f'.repeat(32),
        start: { streamSid: 'MZ' + 'f'.repeat(32), accountSid: SIM_ACCOUNT_SID, callSid: tw.sid, tracks: ['inbound'], customParameters: { callId: id, secret: 'guessed-secret' }, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } },
      }),
    );
    assert.equal(await closed, 1008);
    assert.equal(mediaReceived, 0);
    // The real stream of that call is unaffected.
    assert.equal((await stack.api('GET', `/api/calls/${id}`)).body.status, 'talking');
    await stack.api('POST', `/api/calls/${id}/hangup`);
  });
});

test('a recording callback cannot make the server fetch from another host', async () => {
  let hits = 0;
  const trap = http.createServer((_req, res) => {
    hits++;
    res.end('x');
  });
  await new Promise<void>((r) => trap.listen(0, '127.0.0.1', () => r()));
  const trapUrl = `http://127.0.0.1:${(trap.address() as { port: number }).port}/steal`;
  try {
    await withStack({ env: { RECORD_CALLS: 'true' }, script: () => ({ steps: [{ say: 'Hello?' }, { hangup: true }] }) }, async (stack) => {
      const id = await stack.placeCall();
      const call = await stack.waitForEnd(id);
      const tw = stack.twilio.calls[0];
      const url = `${stack.baseUrl}/twilio/recording?callId=${id}`;
      const p = { AccountSid: SIM_ACCOUNT_SID, CallSid: tw.sid, RecordingSid: 'RE' + 'b'.repeat(32), RecordingUrl: trapUrl, RecordingStatus: 'completed', RecordingDuration: '3' };
      assert.equal(await post(url, p, sign(url, p)), 204);
      await stack.app.service.idle();
      assert.equal(hits, 0, 'the URL in the callback was never fetched');
      assert.ok(call.recording, 'the genuine recording was downloaded');
    });
  } finally {
    trap.close();
  }
});

test('the API requires the bearer token and validates input, naming the field', async () => {
  await withStack({}, async (stack) => {
    assert.equal((await stack.api('GET', '/api/calls', undefined, '')).status, 401);
    assert.equal((await stack.api('GET', '/api/calls', undefined, 'wrong-token-wrong-token')).status, 401);
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ instructions: 'x' }, 'to', /required/],
      [{ to: '+14155550123' }, 'instructions', /required/],
      [{ to: '4155550123', instructions: 'x' }, 'to', /E\.164/],
      [{ to: '911', instructions: 'x' }, 'to', /emergency/],
      [{ to: '+112', instructions: 'x' }, 'to', /emergency/],
      [{ to: '+19005550123', instructions: 'x' }, 'to', /premium/],
      [{ to: '+14155550123', instructions: 'x', clientId: '../../etc' }, 'clientId', /letters/],
      [{ to: '+14155550123', instructions: 'x', clientId: 'nobody' }, 'clientId', /profile/],
      [{ to: '+14155550123', instructions: 'x', provider: 'acme' }, 'provider', /./],
    ];
    for (const [body, field, msg] of cases) {
      const r = await stack.api('POST', '/api/calls', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error.field, field, JSON.stringify(r.body));
      assert.match(r.body.error.message, msg);
    }
    assert.equal(stack.twilio.calls.length, 0, 'nothing was dialled');
    const bogus = await fetch(`${stack.baseUrl}/api/calls`, { method: 'POST', headers: { Authorization: 'Bearer sim-api-token-0123456789', 'Content-Type': 'application/json' }, body: '{"to":' });
    assert.equal(bogus.status, 400);
    assert.equal((await stack.api('GET', '/api/calls/00000000-0000-4000-8000-000000000000')).status, 404);
    assert.equal((await stack.api('GET', '/api/calls/not-a-uuid')).status, 404);
    assert.equal((await stack.api('POST', '/api/calls/00000000-0000-4000-8000-000000000000/hangup')).status, 404);
    assert.equal((await stack.api('GET', '/api/calls?limit=0')).status, 400);
    assert.equal((await stack.api('GET', '/api/calls?cursor=garbage')).status, 400);
  });
});

test('a browser can follow a call with a short-lived, call-scoped stream token; logs hold no secrets', async () => {
  const lines: string[] = [];
  const { Writable } = await import('node:stream');
  const { loggerOptions } = await import('../../src/server/logging.js');
  const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  await withStack({ logger: { ...loggerOptions('debug'), stream: sink }, script: () => ({ steps: [{ say: 'Hello?' }, { waitForAgent: true }, { hangup: true }] }) }, async (stack) => {
    const id = await stack.placeCall();
    const issued = await stack.api('POST', `/api/calls/${id}/events-token`);
    assert.equal(issued.status, 200);
    // No Authorization header, as an EventSource would do.
    const res = await fetch(stack.baseUrl + issued.body.url, { headers: { Accept: 'text/event-stream' } });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /event: transcript/);
    assert.match(text, /event: end/);
    const other = await stack.placeCall();
    assert.equal((await fetch(`${stack.baseUrl}/api/calls/${other}/events?token=${encodeURIComponent(issued.body.token)}`)).status, 401, 'scoped to one call');
    assert.equal((await fetch(`${stack.baseUrl}/api/calls/${id}?token=${encodeURIComponent(issued.body.token)}`)).status, 401, 'only for the event stream');
    await stack.api('POST', `/api/calls/${other}/hangup`);
    await stack.waitForEnd(id);

    const log = lines.join('');
    assert.ok(log.length > 1000, 'the server did log');
    const secret = await storedStreamSecret(stack, id);
    for (const s of ['sim-api-token-0123456789', 'sim-auth-token-0123456789', 'sk-sim-0123456789', secret, issued.body.token, '+14155550123', '4155550123']) {
      assert.ok(!log.includes(s), `log leaks ${s.slice(0, 6)}...`);
    }
  });
});
