import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeComponent, malformedQueryField, MalformedEncodingError, parseFormBody } from '../../src/server/url-encoding.js';
import { buildApp } from '../../src/server/app.js';
import { parseSettings } from '../../src/config/settings.js';

test('components decode as forms do; malformed escapes are undefined, not a URIError', () => {
  assert.equal(decodeComponent('a+b%20c%C3%A9'), 'a b cé');
  for (const bad of ['%', '%zz', '%E0%A4%A', '%C0%80', '%ED%A0%80', 'abc%2']) assert.equal(decodeComponent(bad), undefined, bad);
});

test('the query field at fault is named; values never are', () => {
  assert.equal(malformedQueryField('/api/calls/x/events?token=%E0%A4%A'), 'token');
  assert.equal(malformedQueryField('/api/calls?limit=5&q=%zz'), 'q');
  assert.equal(malformedQueryField('/api/calls?%zz=1'), 'query');
  assert.equal(malformedQueryField('/api/calls?limit=5&q=caf%C3%A9#frag%'), undefined);
  assert.equal(malformedQueryField('/api/calls'), undefined);
});

test('form bodies parse like @fastify/formbody; a malformed escape names the field', () => {
  assert.deepEqual({ ...parseFormBody('CallSid=CA1&a=1&a=2&flag&x=1%3D2') }, { CallSid: 'CA1', a: ['1', '2'], flag: '', x: '1=2' });
  assert.throws(() => parseFormBody('CallStatus=completed&CallSid=%E0%A4%A'), (e: unknown) => e instanceof MalformedEncodingError && e.field === 'CallSid' && e.statusCode === 400);
  const proto = parseFormBody('__proto__=x');
  assert.equal(proto.__proto__, 'x');
  assert.equal(Object.getPrototypeOf(proto), null);
});

test('the server: a malformed escape in the token, another query field, the path or a webhook form is a 400 naming it, before auth', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'callwright-enc-'));
  const settings = parseSettings({ DATA_DIR: dir, CLIENTS_DIR: join(dir, 'clients'), PUBLIC_URL: 'https://callwright.example', TWILIO_ACCOUNT_SID: 'AC' + 'a1'.repeat(16), TWILIO_AUTH_TOKEN: 'tw-token', RATE_LIMIT_PER_MINUTE: '0', KNOWLEDGE_WATCH: 'false' });
  const app = await buildApp({ settings, apiToken: 'api-token', logger: false });
  try {
    const id = '0b7c6f0e-9d53-4d8e-8e39-3c2b3c1a7f00';
    const cases: Array<[string, string, string, string?]> = [
      ['GET', `/api/calls/${id}/events?token=%E0%A4%A`, 'token'],
      ['GET', `/api/calls/${id}/events?token=123.%`, 'token'],
      ['GET', '/api/calls?limit=10&q=50%', 'q'],
      ['GET', '/api/refusals?before=%G1', 'before'],
      ['GET', '/api/calls/%E0%A4%A/events', 'path'],
      ['GET', '/assets/%', 'path'],
      ['POST', '/twilio/voice?callId=%zz', 'callId'],
      ['POST', '/twilio/status?callId=c1', 'CallSid', 'CallSid=%E0%A4%A&CallStatus=completed'],
    ];
    for (const [method, url, field, form] of cases) {
      const res = await app.server.inject({ method: method as 'GET', url, ...(form ? { payload: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}) });
      assert.equal(res.statusCode, 400, `${method} ${url}: ${res.statusCode} ${res.body}`);
      const body = res.json().error;
      assert.equal(body.field, field, url);
      assert.match(body.message, new RegExp(`^${field}: malformed %-escape`));
      assert.ok(!res.body.includes('E0%A4'), 'the bad text is not echoed');
    }
  } finally {
    await app.close();
  }
});
