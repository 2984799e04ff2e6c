import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SIM_API_TOKEN } from '../sim/stack.js';
import { withStack } from './helpers.js';
import { NO_WATCH } from '../ui/helpers.js';
import { ensureWebBuilt } from '../../scripts/build-web.mjs';
import { buildApp } from '../../src/server/app.js';
import { parseSettings } from '../../src/config/settings.js';

before(() => ensureWebBuilt({ quiet: true }));

/** Fetches as a browser asks for a page; the body is read so no connection is left half-used. */
async function page(url: string, accept = 'text/html,application/xhtml+xml'): Promise<{ status: number; headers: Headers; body: string }> {
  const r = await fetch(url, { headers: { Accept: accept } });
  return { status: r.status, headers: r.headers, body: await r.text() };
}

test('the server serves the built UI at / and at every page path, but never in place of /api, /twilio or /healthz', async () => {
  await withStack({ env: NO_WATCH }, async (stack) => {
    const root = await page(`${stack.baseUrl}/`);
    assert.equal(root.status, 200);
    const html = root.body;
    assert.match(html, /<div id="app"><\/div>/);
    assert.ok(!html.includes(SIM_API_TOKEN), 'no token in served HTML');
    const csp = root.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /media-src 'self' blob:/);
    assert.equal(root.headers.get('referrer-policy'), 'no-referrer');

    // Client-side routes get the same page.
    for (const p of ['/calls', '/calls/2b7e1c0e-0000-4000-8000-000000000000', '/clients/raju', '/settings']) {
      const r = await page(stack.baseUrl + p);
      assert.equal(r.status, 200, p);
      assert.equal(r.body, html, p);
    }
    // Hashed assets are served with a long cache; a missing one is a plain 404.
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1];
    const a = await page(stack.baseUrl + asset, '*/*');
    assert.equal(a.status, 200);
    assert.match(a.headers.get('content-type') ?? '', /javascript/);
    assert.match(a.headers.get('cache-control') ?? '', /immutable/);
    assert.equal((await page(`${stack.baseUrl}/assets/nope.js`)).status, 404);

    // The fallback never answers the API, the carrier's routes or the health check.
    const api = await page(`${stack.baseUrl}/api/nope`);
    assert.equal(api.status, 404);
    assert.match(api.headers.get('content-type') ?? '', /json/);
    assert.equal((await page(`${stack.baseUrl}/api/calls`)).status, 401);
    const twilio = await page(`${stack.baseUrl}/twilio/nope`);
    assert.equal(twilio.status, 404);
    assert.match(twilio.headers.get('content-type') ?? '', /json/);
    assert.deepEqual(JSON.parse((await page(`${stack.baseUrl}/healthz`)).body), { ok: true });
    // Not a page request (an API client asking for JSON): a 404, not HTML.
    assert.equal((await page(`${stack.baseUrl}/calls`, 'application/json')).status, 404);
  });
});

test('without a built UI, / says how to build it', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'callwright-'));
  const app = await buildApp({ settings: parseSettings({ DATA_DIR: dataDir, CLIENTS_DIR: join(dataDir, 'clients'), LOG_LEVEL: 'silent', ...NO_WATCH }), apiToken: SIM_API_TOKEN, logger: false, webDir: join(dataDir, 'no-ui') });
  try {
    const r = await app.server.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } });
    assert.equal(r.statusCode, 503);
    assert.match(r.body, /web UI has not been built/);
    assert.match(r.body, /npm run build:web/);
    assert.equal((await app.server.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  } finally {
    await app.close();
  }
});

test('GET /api/status tells the UI what is configured, never a secret; GET /api/calls filters by status, outcome, client and text', async () => {
  await withStack({ env: { DEFAULT_COUNTRY: 'gb', ...NO_WATCH } }, async (stack) => {
    const st = await stack.api('GET', '/api/status');
    assert.equal(st.body.defaultCountry, 'GB');
    assert.deepEqual(Object.keys(st.body.engines).sort(), ['cascade', 'gemini', 'openai']);
    assert.equal(st.body.engines.openai.configured, true);
    assert.equal(st.body.recordCalls, true);
    assert.ok(!/sim-|sk-|gm-/.test(JSON.stringify(st.body)), 'no key in the status');

    const a = await stack.placeCall({ instructions: 'Book a table for two at eight.' });
    const b = await stack.placeCall({ instructions: 'Order one chicken biryani.', clientId: undefined });
    const ids = async (q: string) => ((await stack.api('GET', `/api/calls?${q}`)).body.calls as Array<{ id: string }>).map((c) => c.id);
    assert.deepEqual(await ids('q=TABLE'), [a]);
    assert.deepEqual(await ids('q=biryani'), [b]);
    assert.deepEqual(await ids('q=50%25'), []);
    assert.deepEqual(await ids('clientId=raju'), [a]);
    assert.deepEqual((await ids('status=live')).sort(), [a, b].sort());
    assert.deepEqual(await ids('status=ended'), []);
    for (const id of [a, b]) assert.equal((await stack.api('POST', `/api/calls/${id}/hangup`)).status, 200);
    await stack.waitForEnd(a);
    await stack.waitForEnd(b);
    assert.deepEqual(await ids('status=live'), []);
    assert.deepEqual((await ids('status=ended')).sort(), [a, b].sort());
    const reason = (await stack.api('GET', `/api/calls/${a}`)).body.endReason;
    assert.ok((await ids(`endReason=${reason}`)).includes(a));
    const list = await stack.api('GET', '/api/calls');
    assert.equal(typeof list.body.calls[0].cost.total, 'number');
    assert.equal(list.body.calls[0].cost.currency, 'USD');
    const bad = await stack.api('GET', '/api/calls?status=sleeping');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'status');
  });
});
