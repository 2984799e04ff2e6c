import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SIM_API_TOKEN } from '../sim/stack.js';
import { withStack } from './helpers.js';

async function signIn(baseUrl: string, headers: Record<string, string> = {}): Promise<{ res: Response; cookie: string }> {
  const res = await fetch(`${baseUrl}/api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Sec-Fetch-Site': 'same-origin', ...headers }, body: JSON.stringify({ token: SIM_API_TOKEN }) });
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { res, cookie: setCookie.split(';')[0]! };
}

test('session cookie: attributes, Secure behind an https proxy, wrong token, and the token never in a log line', async () => {
  const lines: string[] = [];
  const logger = { level: 'debug', stream: { write: (l: string) => lines.push(l) } };
  await withStack({ logger }, async (stack) => {
    const { res, cookie } = await signIn(stack.baseUrl);
    assert.equal(res.status, 200);
    const set = res.headers.get('set-cookie')!;
    assert.match(set, /^callwright_session=[A-Za-z0-9_-]{43}; Path=\/api; Max-Age=2592000; HttpOnly; SameSite=Strict$/);
    assert.ok(!cookie.includes(SIM_API_TOKEN));
    const behindProxy = await signIn(stack.baseUrl, { 'X-Forwarded-Proto': 'https' });
    assert.match(behindProxy.res.headers.get('set-cookie')!, /; Secure$/);

    const wrong = await fetch(`${stack.baseUrl}/api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: 'not-the-token-0123456789' }) });
    assert.equal(wrong.status, 401);
    assert.deepEqual(await wrong.json(), { error: { code: 'invalid_token', message: 'token: that is not the API token', field: 'token' } });
    assert.equal(wrong.headers.get('set-cookie'), null);
    const none = await fetch(`${stack.baseUrl}/api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(none.status, 400);
    assert.equal((await none.json()).error.field, 'token');
    // Another site's page cannot sign a browser in.
    const foreign = await fetch(`${stack.baseUrl}/api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Sec-Fetch-Site': 'cross-site' }, body: JSON.stringify({ token: SIM_API_TOKEN }) });
    assert.equal(foreign.status, 403);

    assert.equal((await fetch(`${stack.baseUrl}/api/session`, { headers: { cookie } })).status, 200);
    const all = lines.join('');
    assert.ok(lines.length > 0);
    assert.ok(!all.includes(SIM_API_TOKEN), 'the token is in no log line');
    assert.ok(!all.includes(cookie.split('=')[1]!), 'nor the session id');
  });
});

test('CSRF: a cookie-authenticated change needs Sec-Fetch-Site same-origin or a matching Origin; reads and the bearer token need neither', async () => {
  await withStack({}, async (stack) => {
    const { cookie } = await signIn(stack.baseUrl);
    const post = (headers: Record<string, string>) => fetch(`${stack.baseUrl}/api/calls`, { method: 'POST', headers: { cookie, 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ to: '911', instructions: 'x' }) });
    for (const [headers, why] of [
      [{}, 'no Sec-Fetch-Site, no Origin'],
      [{ 'Sec-Fetch-Site': 'same-site' }, 'a sibling origin'],
      [{ 'Sec-Fetch-Site': 'cross-site' }, 'another site'],
      [{ Origin: 'http://evil.example' }, 'another Origin'],
    ] as const) {
      const r = await post(headers);
      assert.equal(r.status, 403, why);
      assert.equal((await r.json()).error.code, 'cross_site_refused');
    }
    // Past the CSRF check, the request reaches the route (911 is refused by the dial policy: 400).
    assert.equal((await post({ 'Sec-Fetch-Site': 'same-origin' })).status, 400);
    assert.equal((await post({ Origin: stack.baseUrl })).status, 400);
    assert.equal((await fetch(`${stack.baseUrl}/api/calls`, { headers: { cookie } })).status, 200, 'a read needs no check');
    assert.equal((await stack.api('POST', '/api/calls', { to: '911', instructions: 'x' })).status, 400, 'the bearer token needs no check');
  });
});

test('sign-out ends every session and closes the event streams opened with one; sessions expire after SESSION_DAYS', async () => {
  await withStack({ script: () => ({ idleHangupMs: 60_000, steps: [{ say: 'Hello?' }, { pauseMs: 60_000 }] }) }, async (stack) => {
    const a = await signIn(stack.baseUrl);
    const b = await signIn(stack.baseUrl);
    const id = await stack.placeCall();
    const stream = await fetch(`${stack.baseUrl}/api/calls/${id}/events`, { headers: { cookie: b.cookie, Accept: 'text/event-stream' } });
    assert.equal(stream.status, 200);
    const reader = stream.body!.getReader();
    await reader.read();
    const ended = (async () => {
      try {
        for (;;) if ((await reader.read()).done) return 'done';
      } catch {
        return 'closed';
      }
    })();
    const out = await fetch(`${stack.baseUrl}/api/session`, { method: 'DELETE', headers: { cookie: a.cookie, 'Sec-Fetch-Site': 'same-origin' } });
    assert.equal(out.status, 200);
    assert.deepEqual(await out.json(), { ended: 2 });
    assert.match(out.headers.get('set-cookie')!, /^callwright_session=; Path=\/api; Max-Age=0/);
    const how = await Promise.race([ended, new Promise<string>((r) => setTimeout(() => r('still open'), 10_000))]);
    assert.ok(['done', 'closed'].includes(how), `the other session’s live stream was closed (${how})`);
    for (const c of [a.cookie, b.cookie]) {
      const r = await fetch(`${stack.baseUrl}/api/calls`, { headers: { cookie: c } });
      assert.equal(r.status, 401);
      assert.equal((await r.json()).error.code, 'session_ended');
    }
    await stack.api('POST', `/api/calls/${id}/hangup`);
    await stack.waitForEnd(id);
  });
  // About a second and a half.
  await withStack({ env: { SESSION_DAYS: String(1.5 / 86_400) } }, async (stack) => {
    const { cookie } = await signIn(stack.baseUrl);
    assert.equal((await fetch(`${stack.baseUrl}/api/session`, { headers: { cookie } })).status, 200);
    await new Promise((r) => setTimeout(r, 1600));
    assert.equal((await fetch(`${stack.baseUrl}/api/session`, { headers: { cookie } })).status, 401);
  });
});
