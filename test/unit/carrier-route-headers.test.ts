import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import twilio from 'twilio';
import { buildApp } from '../../src/server/app.js';
import { parseSettings } from '../../src/config/settings.js';

test("helmet's browser headers go on the API and the UI, not on Twilio's webhooks (signed, answered as before)", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'callwright-headers-'));
  const settings = parseSettings({ DATA_DIR: dir, CLIENTS_DIR: join(dir, 'clients'), PUBLIC_URL: 'https://callwright.example', TWILIO_ACCOUNT_SID: 'AC' + 'a1'.repeat(16), TWILIO_AUTH_TOKEN: 'tw-token', RATE_LIMIT_PER_MINUTE: '0', KNOWLEDGE_WATCH: 'false' });
  const app = await buildApp({ settings, apiToken: 'api-token', logger: false });
  try {
    const api = await app.server.inject({ method: 'GET', url: '/api/calls', headers: { authorization: 'Bearer api-token' } });
    assert.equal(api.statusCode, 200, api.body);
    assert.match(String(api.headers['content-security-policy']), /default-src 'self'/);
    assert.equal(api.headers['x-content-type-options'], 'nosniff');

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
