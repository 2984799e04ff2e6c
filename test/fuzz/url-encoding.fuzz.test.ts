import { sqliteStore } from '../../src/store/sql/sql-store.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import fastQuerystring from 'fast-querystring';
import { decodeComponent, malformedQueryField, MalformedEncodingError, parseFormBody } from '../../src/server/url-encoding.js';
import { buildApp } from '../../src/server/app.js';
import { parseSettings } from '../../src/config/settings.js';
import { CallsRepo } from '../../src/store/calls-repo.js';
import { loggerOptions } from '../../src/server/logging.js';
import { anyText, BAD_ESCAPES, check, hostileQuery, noEscapes, RUNS, VALID_RUNS } from './fuzz-kit.js';

const PARAMS = ['token', 'limit', 'before', 'cursor', 'status', 'endReason', 'clientId', 'q', 'callId'] as const;

test('query strings: 100k hostile ones are judged without throwing; a malformed escape is always found and named', async () => {
  await noEscapes(() =>
    check('query hostile', fc.oneof(hostileQuery(PARAMS), anyText.map((t) => ({ query: t, bad: undefined }))), ({ query, bad }) => {
      const field = malformedQueryField(`/api/calls?${query}`);
      if (bad !== undefined) assert.equal(field !== undefined, bad, `malformed: ${bad}, found: ${field}`);
      if (field !== undefined) {
        assert.match(field, /^[\x20-\x7e]{1,64}$/, 'a printable, bounded field name');
        // Only a name the client wrote (or "query") is reported, never a value.
        assert.ok(field === 'query' || query.split('&').some((p) => decodeComponent(p.split('=')[0]) !== undefined), field);
      } else {
        for (const p of query.split('#')[0].split('&')) for (const c of p.split('=')) assert.notEqual(decodeComponent(c), undefined, 'no malformed part missed');
      }
    }),
  );
});

test('form bodies: 100k hostile ones parse or fail with a MalformedEncodingError naming the field; never another error', async () => {
  await noEscapes(() =>
    check('form hostile', fc.oneof(hostileQuery(['CallSid', 'CallStatus', 'AnsweredBy', 'RecordingUrl']).map((q) => q.query), anyText), (body) => {
      let parsed: Record<string, string | string[]>;
      try {
        parsed = parseFormBody(body);
      } catch (err) {
        assert.ok(err instanceof MalformedEncodingError, String(err));
        assert.equal(err.statusCode, 400);
        assert.match(err.message, /^[\x20-\x7e]{1,64}: malformed %-escape in the form body/);
        return;
      }
      // Well formed: exactly what fast-querystring (what @fastify/formbody uses) makes of it.
      assert.deepEqual({ ...parsed }, { ...fastQuerystring.parse(body) });
      assert.equal(Object.getPrototypeOf(parsed), null);
    }),
  );
});

test('form bodies: every well-formed body round-trips, repeated keys included', async () => {
  const entries = fc.array(fc.tuple(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 30 })), { maxLength: 8 });
  await noEscapes(() =>
    check(
      'form valid',
      entries,
      (es) => {
        const parsed = parseFormBody(new URLSearchParams(es).toString());
        const want: Record<string, string[]> = Object.create(null);
        for (const [k, v] of es) (want[k] ??= []).push(v);
        for (const [k, vs] of Object.entries(want)) assert.deepEqual(parsed[k], vs.length === 1 ? vs[0] : vs);
        assert.equal(Object.keys(parsed).length, Object.keys(want).length);
      },
      VALID_RUNS,
    ),
  );
});

test('every route: random and malformed query strings and tokens get a 4xx (never a 5xx) and nothing secret comes back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'callwright-fuzz-'));
  const API_TOKEN = 'fuzz-api-token-0123456789';
  const AUTH_TOKEN = 'fuzz-twilio-auth-token-0123456789';
  const SECRET = 'stream-secret-0123456789abcdef';
  const logs: string[] = [];
  const settings = parseSettings({
    DATA_DIR: dir,
    CLIENTS_DIR: join(dir, 'clients'),
    PUBLIC_URL: 'https://callwright.example',
    TWILIO_ACCOUNT_SID: 'AC' + 'a1'.repeat(16),
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_FROM_NUMBER: '+14155550100',
    TWILIO_API_URL: 'http://127.0.0.1:9',
    RATE_LIMIT_PER_MINUTE: '0',
    CALLING_HOURS: 'off',
    KNOWLEDGE_WATCH: 'false',
  });
  const sink = new Writable({ write: (chunk, _enc, done) => (logs.push(String(chunk)), done()) });
  // A built UI of its own, so `/` and its assets are served whether or not web/dist has been built here.
  const webDir = join(dir, 'web');
  mkdirSync(join(webDir, 'assets'), { recursive: true });
  writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>Callwright</title>');
  writeFileSync(join(webDir, 'assets', 'app.js'), 'export {};');
  const app = await buildApp({ settings, apiToken: API_TOKEN, logger: { ...loggerOptions('info'), stream: sink }, webDir });
  await app.server.ready();
  // One finished call, so the call routes reach their handlers (its event stream replays and ends).
  const id = '0b7c6f0e-9d53-4d8e-8e39-3c2b3c1a7f00';
  const now = new Date().toISOString();
  new CallsRepo(sqliteStore(app.db)).insert({
    id, createdAt: now, updatedAt: now, to: '+14155550123', from: null, clientId: null, clientName: null, instructions: 'x', provider: 'openai',
    status: 'ended', endReason: 'user-hangup', answeredBy: null, carrier: 'twilio', carrierCallId: 'CA' + 'b2'.repeat(16), streamSecret: SECRET,
    answeredAt: null, endedAt: now, carrierDurationSec: null, carrierPrice: null, carrierPriceUnit: null, recordingSid: null, recordingPath: null, transcriptPath: null, error: null, direction: 'outbound',
  });
  const routes: Array<[string, string]> = [
    ['GET', '/api/calls'], ['POST', '/api/calls'], ['GET', `/api/calls/${id}`], ['GET', `/api/calls/${id}/events`], ['POST', `/api/calls/${id}/events-token`],
    ['GET', `/api/calls/${id}/transcript.txt`], ['GET', `/api/calls/${id}/recording.mp3`], ['POST', `/api/calls/${id}/hangup`], ['GET', '/api/refusals'],
    ['GET', '/api/clients'], ['GET', '/api/clients/nobody/documents'], ['DELETE', '/api/clients/nobody/documents/1'], ['GET', '/api/clients/nobody/search'],
    ['GET', '/api/status'], ['GET', '/healthz'], ['GET', '/'], ['GET', '/assets/app.js'], ['GET', '/twilio/media'],
    ['POST', '/twilio/voice'], ['POST', '/twilio/status'], ['POST', '/twilio/amd'], ['POST', '/twilio/recording'],
  ];
  const streamToken = (): Promise<string> => app.server.inject({ method: 'POST', url: `/api/calls/${id}/events-token`, headers: { authorization: `Bearer ${API_TOKEN}` } }).then((r) => r.json().token);
  const validToken = await streamToken();
  const arb = fc.record({
    route: fc.constantFrom(...routes),
    q: hostileQuery(PARAMS),
    // The token parameter: a real stream token, one mangled by a bad escape, or random text.
    token: fc.oneof(
      fc.constant({ text: encodeURIComponent(validToken), bad: false }),
      // `~` after the bad escape: a token character that is not a hex digit, so it cannot complete it.
      fc.tuple(fc.nat(), fc.constantFrom(...BAD_ESCAPES)).map(([i, b]) => ({ text: validToken.slice(0, i % validToken.length) + b + '~' + validToken.slice(i % validToken.length), bad: true })),
      fc.constant(undefined),
    ),
    bearer: fc.boolean(),
    badPath: fc.option(fc.constantFrom(...BAD_ESCAPES), { nil: undefined }),
  });
  try {
    await noEscapes(() =>
      fc.assert(
        fc.asyncProperty(arb, async ({ route: [method, path], q, token, bearer, badPath }) => {
          const parts = [q.query, token ? `token=${token.text}` : ''].filter(Boolean);
          const target = (badPath ? path.replace(/\/([^/]*)$/, `/$1${badPath}`) : path) + (parts.length ? `?${parts.join('&')}` : '');
          const res = await app.server.inject({
            method: method as 'GET',
            url: target,
            headers: { ...(bearer ? { authorization: `Bearer ${API_TOKEN}` } : {}), ...(method === 'POST' && path.startsWith('/api') ? { 'content-type': 'application/json' } : {}) },
            ...(method === 'POST' && path.startsWith('/api') ? { payload: '{}' } : {}),
          });
          assert.ok(res.statusCode < 500, `${method} ${target}: ${res.statusCode} ${res.body.slice(0, 200)}`);
          const malformed = Boolean(badPath) || q.bad || Boolean(token?.bad);
          if (malformed) {
            assert.equal(res.statusCode, 400, `${method} ${target}: ${res.statusCode} ${res.body.slice(0, 200)}`);
            const body = res.json().error;
            assert.match(body.message, /malformed %-escape/);
            assert.equal(typeof body.field, 'string');
          }
          // Nothing secret in any answer: not the API token, Twilio's token, the call's stream secret,
          // nor the stream token the request carried (a refusal never echoes a value).
          for (const secret of [API_TOKEN, AUTH_TOKEN, SECRET, validToken]) {
            if (res.statusCode >= 400) assert.ok(!res.body.includes(secret), `${method} ${target} echoed a secret`);
          }
          if (!(res.statusCode === 200 && path.endsWith('/events-token'))) assert.ok(!res.body.includes(AUTH_TOKEN) && !res.body.includes(SECRET));
        }),
        // Each run is a full request through the app; the parsers above carry the 100k runs.
        { numRuns: Math.max(1, Math.round(RUNS / 50)) },
      ),
    );
  } finally {
    await app.close();
  }
  const text = logs.join('');
  assert.ok(!text.includes('"level":50'), 'no request failed with an error');
  for (const secret of [API_TOKEN, AUTH_TOKEN, SECRET, validToken]) {
    const at = text.indexOf(secret);
    assert.equal(at, -1, `the log holds a secret: …${text.slice(Math.max(0, at - 300), at + 60)}`);
  }
});
