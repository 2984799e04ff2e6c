// Behind a proxy every request arrives from the proxy's address: TRUST_PROXY makes the rate limit (and the
// log) see each client's own address, from X-Forwarded-For, and only from the proxies named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/server/app.js';
import { parseSettings } from '../../src/config/settings.js';

async function statuses(trustProxy: string | undefined): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'callwright-proxy-'));
  const app = await buildApp({ settings: parseSettings({ DATA_DIR: dir, CLIENTS_DIR: join(dir, 'clients'), RATE_LIMIT_PER_MINUTE: '2', KNOWLEDGE_WATCH: 'false', ...(trustProxy ? { TRUST_PROXY: trustProxy } : {}) }), apiToken: 'tok', logger: false });
  try {
    const out: number[] = [];
    // Three clients behind one proxy (127.0.0.1), two requests each without a token: within the limit per client.
    for (const client of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
      for (let i = 0; i < 2; i++) out.push((await app.server.inject({ method: 'GET', url: '/api/calls', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': client } })).statusCode);
    }
    return out;
  } finally {
    await app.close();
  }
}

test('TRUST_PROXY: each client behind the proxy has its own rate limit; unset, they share the proxy\'s', async () => {
  assert.deepEqual(await statuses('127.0.0.1'), [401, 401, 401, 401, 401, 401], 'each client: two unauthorised requests, none limited');
  assert.deepEqual(await statuses('1'), [401, 401, 401, 401, 401, 401], 'one hop');
  assert.deepEqual(await statuses('10.0.0.0/8'), [401, 401, 429, 429, 429, 429], 'the proxy is not among those named: its address is the client');
  assert.deepEqual(await statuses(undefined), [401, 401, 429, 429, 429, 429]);
});

test('TRUST_PROXY: a wrong value is refused naming the setting', () => {
  for (const bad of ['maybe', '0', '11', '300.1.1.1', '10.0.0.0/33', '10.0.0.1/8/1']) {
    assert.throws(() => parseSettings({ DATA_DIR: '/tmp/x', TRUST_PROXY: bad }), /TRUST_PROXY/, bad);
  }
  for (const good of ['true', 'false', '2', '10.0.0.1', '10.0.0.0/8, 192.168.1.1', '::1']) assert.doesNotThrow(() => parseSettings({ DATA_DIR: '/tmp/x', TRUST_PROXY: good }), good);
});
