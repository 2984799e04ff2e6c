import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import twilio from 'twilio';
import { withStack, FULL_CONVERSATION, GREETING, storedStreamSecret } from './helpers.js';
import { SIM_ACCOUNT_SID, SIM_API_TOKEN, SIM_AUTH_TOKEN, SIM_GEMINI_KEY, SIM_OPENAI_KEY } from '../sim/stack.js';
import { loggerOptions } from '../../src/server/logging.js';

const sign = (url: string, params: Record<string, string>) => twilio.getExpectedTwilioSignature(SIM_AUTH_TOKEN, url, params);
const form = (url: string, params: Record<string, string>, signature?: string) =>
  fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(signature ? { 'X-Twilio-Signature': signature } : {}) }, body: new URLSearchParams(params).toString() });

test('rate limit: per token holder, wrong tokens counted per address, 429 with Retry-After; Twilio routes exempt', async () => {
  await withStack({ env: { RATE_LIMIT_PER_MINUTE: '5' } }, async (stack) => {
    for (let i = 0; i < 5; i++) assert.equal((await stack.api('GET', '/api/calls')).status, 200);
    const limited = await stack.api('GET', '/api/calls');
    assert.equal(limited.status, 429);
    assert.match(limited.body.error.message, /at most 5 a minute.*RATE_LIMIT_PER_MINUTE/);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    // Guessing tokens: every wrong token shares the address's budget, not one budget per guess.
    const guesses = [];
    for (let i = 0; i < 7; i++) guesses.push((await stack.api('GET', '/api/calls', undefined, `guess-${i}-0123456789abcdef`)).status);
    assert.deepEqual(guesses, [401, 401, 401, 401, 401, 429, 429]);
    // Twilio's callbacks are signature-checked instead: never 429, however many.
    for (let i = 0; i < 20; i++) assert.equal((await form(`${stack.baseUrl}/twilio/status?callId=x`, { CallSid: 'CA' + '0'.repeat(32) })).status, 403);
  });
});

test('CORS is closed by default; CORS_ORIGINS opens it to the listed origins only', async () => {
  const preflight = (base: string, origin: string) =>
    fetch(`${base}/api/calls`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' } });
  await withStack({}, async (stack) => {
    const p = await preflight(stack.baseUrl, 'https://evil.example');
    assert.equal(p.headers.get('access-control-allow-origin'), null);
    const g = await fetch(`${stack.baseUrl}/api/calls`, { headers: { Origin: 'https://evil.example', Authorization: `Bearer ${SIM_API_TOKEN}` } });
    assert.equal(g.headers.get('access-control-allow-origin'), null, 'a page elsewhere cannot read the API');
  });
  await withStack({ env: { CORS_ORIGINS: 'https://ui.example' } }, async (stack) => {
    const ok = await preflight(stack.baseUrl, 'https://ui.example');
    assert.ok(ok.status === 204 || ok.status === 200, String(ok.status));
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://ui.example');
    assert.match(ok.headers.get('access-control-allow-headers') ?? '', /Authorization/i);
    assert.equal((await preflight(stack.baseUrl, 'https://evil.example')).headers.get('access-control-allow-origin'), null);
  });
});

test('security headers on the UI; the built UI runs in a real browser under the CSP', async () => {
  await withStack({}, async (stack) => {
    const res = await fetch(`${stack.baseUrl}/`);
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /media-src 'self' blob:/, 'recordings play from object URLs');
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/, 'no inline wildcards, no eval, no CDN');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(res.headers.get('x-frame-options'));
    const api = await stack.api('GET', '/api/status');
    assert.match(api.headers.get('content-security-policy') ?? '', /default-src 'self'/);

    // Signing in from the start-up URL's fragment needs the UI's scripts to run under that policy.
    const dom = await new Promise<string>((resolve, reject) =>
      execFile(
        '/usr/bin/chromium',
        ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--virtual-time-budget=5000', '--dump-dom', `${stack.baseUrl}/#token=${encodeURIComponent(SIM_API_TOKEN)}`],
        { timeout: 30_000 },
        (err, out) => (err ? reject(err) : resolve(out)),
      ),
    );
    assert.match(dom, /aria-label="Sign out"/, 'signed in: the UI rendered and read the token');
  });
});

test('body limits on every route that reads a body; call ids are random v4 UUIDs; malformed ids are 404', async () => {
  await withStack({ script: () => ({ steps: [{ say: 'Hello?' }, { pauseMs: 30_000 }] }) }, async (stack) => {
    const big = 'x'.repeat(300 * 1024);
    const json = await fetch(`${stack.baseUrl}/api/calls`, { method: 'POST', headers: { Authorization: `Bearer ${SIM_API_TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ to: '+14155550123', instructions: big }) });
    assert.equal(json.status, 413);
    for (const path of ['/twilio/status?callId=x', '/twilio/voice?callId=x', '/twilio/amd?callId=x', '/twilio/recording?callId=x']) {
      assert.equal((await form(`${stack.baseUrl}${path}`, { CallSid: big })).status, 413, path);
    }
    const hangupBody = await fetch(`${stack.baseUrl}/api/calls/00000000-0000-4000-8000-000000000000/hangup`, { method: 'POST', headers: { Authorization: `Bearer ${SIM_API_TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ big }) });
    assert.equal(hangupBody.status, 413);

    const ids = [await stack.placeCall(), await stack.placeCall()];
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(ids[0], ids[1]);
    for (const bad of [ids[0].toUpperCase().replace(/-/g, ''), ids[0] + 'a', '..%2F..%2Fetc', ids[0].slice(0, 35), "1' OR '1'='1"]) {
      for (const suffix of ['', '/events', '/transcript.txt', '/recording.mp3']) {
        const r = await stack.api('GET', `/api/calls/${bad}${suffix}`);
        assert.ok(r.status === 404 || r.status === 400, `${bad}${suffix}: ${r.status}`);
      }
    }
    for (const id of ids) await stack.api('POST', `/api/calls/${id}/hangup`);
  });
});

test('DATA_DIR is owner-only: folder 0700, database, -wal, -shm, recordings and transcripts 0600', async () => {
  await withStack({ env: { RECORD_CALLS: 'true' }, script: () => ({ steps: [{ say: 'Hello?' }, { waitForAgent: true }, { hangup: true }] }) }, async (stack) => {
    const id = await stack.placeCall();
    const call = await stack.waitForEnd(id);
    assert.ok(call.recording);
    const mode = (p: string) => statSync(join(stack.dataDir, p)).mode & 0o777;
    assert.equal(mode('.'), 0o700);
    for (const d of ['recordings', 'transcripts']) assert.equal(mode(d), 0o700, d);
    const files = ['callwright.db', 'callwright.db-wal', 'callwright.db-shm', `recordings/${id}.mp3`, `transcripts/${id}.txt`];
    for (const f of files) {
      assert.ok(existsSync(join(stack.dataDir, f)), f);
      assert.equal(mode(f), 0o600, f);
    }
    assert.deepEqual(readdirSync(join(stack.dataDir, 'recordings')).filter((f) => f.endsWith('.part')), []);
  });
});

test('SSRF: a signed recording callback naming another host or port is not fetched, and the attempt is recorded', async () => {
  let hits = 0;
  const trap = http.createServer((_req, res) => (hits++, res.end('x')));
  await new Promise<void>((r) => trap.listen(0, '127.0.0.1', () => r()));
  try {
    await withStack({ env: { RECORD_CALLS: 'true' }, script: () => ({ steps: [{ say: 'Hello?' }, { hangup: true }] }) }, async (stack) => {
      const id = await stack.placeCall();
      await stack.waitForEnd(id);
      const tw = stack.twilio.calls[0];
      const url = `${stack.baseUrl}/twilio/recording?callId=${id}`;
      const trapOrigin = `http://127.0.0.1:${(trap.address() as { port: number }).port}`;
      for (const target of [`${trapOrigin}/2010-04-01/Accounts/${SIM_ACCOUNT_SID}/Recordings/RE${'c'.repeat(32)}`, 'http://169.254.169.254/latest/meta-data/']) {
        const p = { AccountSid: SIM_ACCOUNT_SID, CallSid: tw.sid, RecordingSid: 'RE' + (target.includes('169') ? 'd' : 'c').repeat(32), RecordingUrl: target, RecordingStatus: 'completed', RecordingDuration: '3' };
        assert.equal((await form(url, p, sign(url, p))).status, 204);
      }
      await stack.app.service.idle();
      assert.equal(hits, 0, 'the URL in the callback was never fetched');
      const events = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
      const foreign = [...events.matchAll(/event: security\.foreignUrl\ndata: (.+)/g)].map((m) => JSON.parse(m[1]).data);
      assert.deepEqual(foreign.map((f) => f.host), [trapOrigin, 'http://169.254.169.254']);
      assert.equal(foreign[0].fetchedFrom, new URL(stack.twilio.url).origin);
      // The genuine callback (the simulator's, on the configured API host) raised nothing.
      assert.equal(foreign.length, 2);
    });
  } finally {
    trap.close();
  }
});

for (const sensitive of [false, true]) {
  test(`logs of a full call: secrets never; phone numbers and transcript text only with LOG_SENSITIVE=${sensitive}`, async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
    await withStack({ logger: { ...loggerOptions('debug', sensitive), stream: sink }, script: () => FULL_CONVERSATION.script, scenario: () => FULL_CONVERSATION.scenario }, async (stack) => {
      const id = await stack.placeCall();
      const issued = await stack.api('POST', `/api/calls/${id}/events-token`);
      await fetch(stack.baseUrl + issued.body.url).then((r) => r.text());
      const call = await stack.waitForEnd(id);
      assert.equal(call.endReason, 'agent-hangup', call.error);
      const log = lines.join('');
      assert.ok(log.length > 2000, 'the server did log');
      const streamSecret = await storedStreamSecret(stack, id);
      for (const s of [SIM_API_TOKEN, SIM_AUTH_TOKEN, SIM_OPENAI_KEY, SIM_GEMINI_KEY, streamSecret, issued.body.token]) assert.ok(!log.includes(s), `log leaks a secret ${s.slice(0, 4)}...`);
      const personal = ['+14155550123', '4155550123', 'Sure, what would you like?', GREETING];
      for (const p of personal) assert.equal(log.includes(p), sensitive, `${p} ${sensitive ? 'missing from' : 'leaks into'} the log`);
    });
  });
}
