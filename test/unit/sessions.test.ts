import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { SessionsRepo } from '../../src/store/sessions-repo.js';
import { storeTest } from '../store-backends.js';
import { BrowserSessions, crossSiteReason, isHttps, sessionIdOf } from '../../src/server/sessions.js';
import { prettyLine } from '../../src/server/log-pretty.js';
import { resolveLogFormat } from '../../src/server/logging.js';

const req = (method: string, headers: Record<string, string>, protocol = 'http') => ({ method, headers, protocol }) as unknown as FastifyRequest;

storeTest('sessions: random ids found by hash, expiry, revocation, and bound to the API token', async ({ store }) => {
  const repo = new SessionsRepo(store);
  const s = new BrowserSessions(repo, 'api-token-0123456789', 60_000);
  const t0 = Date.now();
  const a = await s.create(t0);
  assert.match(a.id, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual((await s.create(t0)).id, a.id);
  assert.ok(await s.verify(a.id, t0 + 59_999));
  assert.equal(await s.verify(a.id, t0 + 60_000), undefined, 'expired');
  assert.equal(await s.verify('x'.repeat(43), t0), undefined);
  assert.equal(await s.verify(a.id.slice(1), t0), undefined);
  assert.equal(await repo.find(a.id), undefined, 'the id itself is not stored');
  assert.equal(await new BrowserSessions(repo, 'another-api-token-0123', 60_000).verify(a.id, t0), undefined, 'a new API token ends old sessions');
  assert.equal(await s.revokeAll(t0 + 1), 2);
  assert.equal(await s.verify(a.id, t0 + 2), undefined, 'revoked');
  assert.equal(await s.revokeAll(t0 + 3), 0, 'nothing left to revoke');
  const old = await s.create(t0 - 120_000);
  assert.equal(await s.prune(t0), 1, 'the expired session is forgotten');
  assert.equal(await s.verify(old.id, t0 - 120_000 + 1), undefined);
});

test('cookie, https and CSRF judgements from request headers', () => {
  assert.equal(sessionIdOf(req('GET', { cookie: 'a=1; callwright_session=abc ; b=2' })), 'abc');
  assert.equal(sessionIdOf(req('GET', { cookie: 'xcallwright_session=abc' })), undefined);
  assert.equal(isHttps(req('GET', {})), false);
  assert.equal(isHttps(req('GET', {}, 'https')), true);
  assert.equal(isHttps(req('GET', { 'x-forwarded-proto': 'https, http' })), true);
  assert.equal(isHttps(req('GET', { forwarded: 'for=1.2.3.4;proto=https;host=x' })), true);
  assert.equal(isHttps(req('GET', { 'x-forwarded-proto': 'http' })), false);

  assert.equal(crossSiteReason(req('GET', { 'sec-fetch-site': 'cross-site' })), undefined, 'reads are not judged');
  assert.equal(crossSiteReason(req('POST', { 'sec-fetch-site': 'same-origin', origin: 'http://evil.example' })), undefined, 'Fetch Metadata wins when present');
  assert.match(crossSiteReason(req('POST', { 'sec-fetch-site': 'same-site' }))!, /same-site page/);
  assert.match(crossSiteReason(req('DELETE', { 'sec-fetch-site': 'none' }))!, /outside any page/);
  assert.equal(crossSiteReason(req('POST', { origin: 'http://127.0.0.1:3000', host: '127.0.0.1:3000' })), undefined);
  assert.equal(crossSiteReason(req('POST', { origin: 'https://cw.example.com', host: '127.0.0.1:3000' }), 'https://cw.example.com'), undefined, 'PUBLIC_URL behind a proxy that rewrites Host');
  assert.match(crossSiteReason(req('POST', { origin: 'null', host: 'x' }))!, /not a URL/);
  assert.match(crossSiteReason(req('POST', {}))!, /neither/);
});

test('log format: auto follows the terminal; a pretty line is one line with the fields, stack only for errors', () => {
  assert.equal(resolveLogFormat('auto', true), 'pretty');
  assert.equal(resolveLogFormat('auto', false), 'json');
  assert.equal(resolveLogFormat('json', true), 'json');
  const time = new Date(2026, 0, 1, 9, 5, 7).getTime();
  assert.equal(prettyLine(JSON.stringify({ level: 30, time, event: 'call.ended', callId: 'c1', reason: 'callee-hangup', costUsd: 0.04, msg: 'call ended' }), false), '09:05:07 INFO  call ended  callId=c1 reason=callee-hangup costUsd=0.04\n');
  assert.equal(prettyLine(JSON.stringify({ level: 20, time, req: { method: 'GET', url: '/x' }, res: { statusCode: 200 }, responseTime: 3.4, reqId: 'r', msg: 'request completed' }), false), '09:05:07 DEBUG request completed  GET /x 200 3ms\n');
  const err = prettyLine(JSON.stringify({ level: 50, time, err: { message: 'boom', stack: 'Error: boom\n    at f (a.js:1:1)' }, note: 'two words', msg: 'failed' }), false);
  assert.equal(err, '09:05:07 ERROR failed  note="two words" error=boom\n    at f (a.js:1:1)\n');
  assert.match(prettyLine(JSON.stringify({ level: 40, time, msg: 'w' }), true), /\x1b\[33mWARN /);
  assert.equal(prettyLine('not json', false), 'not json\n');
});
