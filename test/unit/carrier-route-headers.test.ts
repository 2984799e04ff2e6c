import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import twilio from 'twilio';
import { buildApp } from '../../src/server/app.js';
import { parseSettings } from '../../src/config/settings.js';

const HELMET_HEADERS = {
  'content-security-policy': "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data: blob:;connect-src 'self';font-src 'self';media-src 'self' blob:;object-src 'none';base-uri 'none';form-action 'self';frame-ancestors 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

test("helmet's browser headers go on the API and the UI, not on Twilio's webhooks (signed, answered as before)", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'callwright-headers-'));
  const settings = parseSettings({ DATA_DIR: dir, CLIENTS_DIR: join(dir, 'clients'), PUBLIC_URL: 'https://callwright.example', TWILIO_ACCOUNT_SID: 'AC' + 'a1'.repeat(16), TWILIO_AUTH_TOKEN: 'tw-token', RATE_LIMIT_PER_MINUTE: '0', KNOWLEDGE_WATCH: 'false' });
  const app = await buildApp({ settings, apiToken: 'api-token', logger: false });
  try {
    const api = await app.server.inject({ method: 'GET', url: '/api/calls', headers: { authorization: 'Bearer api-token' } });
    assert.equal(api.statusCode, 200, api.body);
    assert.match(String(api.headers['content-security-policy']), /default-src 'self'/);
    assert.equal(api.headers['x-content-type-options'], 'nosniff');
    // Exactly what @fastify/helmet set per request before the headers were built once at start.
    const security = Object.fromEntries(Object.entries(api.headers).filter(([k]) => !['date', 'content-length', 'content-type', 'connection', 'keep-alive'].includes(k)));
    assert.deepEqual(security, HELMET_HEADERS);
    // A route that writes its own head (hijacked: MCP here, the event streams alike) carries them too.
    const mcp = await app.server.inject({
      method: 'POST',
      url: '/mcp',
      headers: { authorization: 'Bearer api-token', 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      payload: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 't', version: '1' } } },
    });
    assert.equal(mcp.statusCode, 200, mcp.body);
    for (const [name, value] of Object.entries(HELMET_HEADERS)) assert.equal(mcp.headers[name], value, `${name} on a hijacked response`);
    const missing = await app.server.inject({ method: 'GET', url: '/no-such-page' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.headers['content-security-policy'], HELMET_HEADERS['content-security-policy'], 'a 404 carries them too');

    const params = { CallSid: 'CA' + '0'.repeat(32), CallStatus: 'ringing' };
    const url = '/twilio/status?callId=0b7c6f0e-9d53-4d8e-8e39-3c2b3c1a7f00';
    const signature = twilio.getExpectedTwilioSignature('tw-token', `https://callwright.example${url}`, params);
    const form = new URLSearchParams(params).toString();
    const signed = await app.server.inject({ method: 'POST', url, payload: form, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature } });
    assert.equal(signed.statusCode, 204, signed.body);
    assert.equal(signed.headers['content-security-policy'], undefined);
    assert.equal(signed.headers['strict-transport-security'], undefined);

    const forged = await app.server.inject({ method: 'POST', url, payload: form, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'x' + signature.slice(1) } });
    assert.equal(forged.statusCode, 403, 'the signature check still runs');
  } finally {
    await app.close();
  }
});
