import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRedis, whenReady } from '../../src/cluster/redis-client.js';
import { RedisNodeRegistry } from '../../src/cluster/redis-node-registry.js';
import { LocalNodeRegistry, type NodeSelf } from '../../src/cluster/node-registry.js';
import { parseSettings } from '../../src/config/settings.js';
import { buildApp } from '../../src/server/app.js';
import { until } from '../e2e/helpers.js';
import { memoryLog, redisTest, redisUrlFor } from '../redis-backend.js';

// Short, but with room for a busy machine: an entry outlives several missed heartbeats.
const fast = { heartbeatMs: 50, ttlMs: 600 };
const self = (id: string, liveCalls = 0): NodeSelf => ({ id, baseUrl: `http://10.0.0.1/${id}`, startedAt: new Date('2026-12-06T00:00:00Z'), liveCalls: () => liveCalls });

redisTest('every live node is listed with its load; one that stops cleanly leaves at once, one that dies leaves after the TTL', async () => {
  const url = await redisUrlFor(2);
  const log = memoryLog();
  const conns = ['a', 'b', 'c'].map((n) => openRedis(url, `test-${n}`, log));
  await Promise.all(conns.map((c) => whenReady(c)));
  const [a, b, c] = [new RedisNodeRegistry(conns[0], self('node-a', 2), log, fast), new RedisNodeRegistry(conns[1], self('node-b', 1), log, fast), new RedisNodeRegistry(conns[2], self('node-c'), log, fast)];
  try {
    for (const r of [a, b, c]) r.start();
    await until('all three nodes listed', async () => (await a.list()).nodes.length === 3, 2000);
    const seen = await b.list();
    assert.equal(seen.shared, true);
    assert.deepEqual(seen.nodes.map((n) => [n.id, n.self, n.liveCalls, n.baseUrl]), [
      ['node-a', false, 2, 'http://10.0.0.1/node-a'],
      ['node-b', true, 1, 'http://10.0.0.1/node-b'],
      ['node-c', false, 0, 'http://10.0.0.1/node-c'],
    ]);
    for (const n of seen.nodes) {
      assert.equal(n.startedAt, '2026-12-06T00:00:00.000Z');
      assert.ok(n.load.cpu >= 0 && n.load.rssMb > 0, 'load is reported');
    }

    await c.stop();
    assert.deepEqual((await a.list()).nodes.map((n) => n.id), ['node-a', 'node-b'], 'a clean stop leaves the list at once');

    // node-b dies: its heartbeats stop reaching Redis (the connection is gone), its entry expires.
    conns[1].disconnect();
    const diedAt = Date.now();
    assert.ok((await a.list()).nodes.some((n) => n.id === 'node-b'), 'still listed until its TTL runs out');
    await until('the dead node to expire', async () => (await a.list()).nodes.length === 1, 2000);
    assert.ok(Date.now() - diedAt >= fast.ttlMs - fast.heartbeatMs - 20, 'gone only once the TTL ran out');
    assert.deepEqual((await a.list()).nodes.map((n) => n.id), ['node-a']);
  } finally {
    for (const r of [a, b, c]) await r.stop();
    for (const conn of conns) conn.disconnect();
  }
});

test('Redis unreachable: the list is this node alone, saying why', async () => {
  const log = memoryLog();
  const redis = openRedis('redis://127.0.0.1:1', 'test-down', log);
  const r = new RedisNodeRegistry(redis, self('lonely', 3), log, fast);
  try {
    r.start();
    const list = await r.list();
    assert.equal(list.shared, false);
    assert.match(list.error ?? '', /Redis did not answer/);
    assert.deepEqual(list.nodes.map((n) => [n.id, n.self, n.liveCalls]), [['lonely', true, 3]]);
  } finally {
    await r.stop();
    redis.disconnect();
  }
});

test('without Redis the registry lists this node alone', async () => {
  const list = await new LocalNodeRegistry(self('solo', 4)).list();
  assert.deepEqual(list.nodes.map((n) => [n.id, n.self, n.liveCalls]), [['solo', true, 4]]);
  assert.equal(list.shared, false);
  assert.equal(list.error, undefined);
});

const TOKEN = 'nodes-route-token-0123456789abcdef';

async function app(extra: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'callwright-nodes-'));
  const settings = parseSettings({ DATA_DIR: dir, CLIENTS_DIR: join(dir, 'clients'), KNOWLEDGE_WATCH: 'false', PORT: '0', ...extra });
  const a = await buildApp({ settings, apiToken: TOKEN, logger: false, nodeRegistry: fast });
  return { a, close: async () => { await a.close(); rmSync(dir, { recursive: true, force: true }); } };
}

test('GET /api/nodes needs the token and, without REDIS_URL, lists this node', async () => {
  const { a, close } = await app({ NODE_ID: 'only-node' });
  try {
    assert.equal((await a.server.inject({ method: 'GET', url: '/api/nodes' })).statusCode, 401);
    const res = await a.server.inject({ method: 'GET', url: '/api/nodes', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.statusCode, 200);
    const body = res.json() as { nodes: Array<{ id: string; self: boolean }>; shared: boolean };
    assert.deepEqual(body.nodes.map((n) => [n.id, n.self]), [['only-node', true]]);
    assert.equal(body.shared, false);
  } finally {
    await close();
  }
});

redisTest('GET /api/nodes on one server lists both servers sharing REDIS_URL, with their listen addresses', async () => {
  const url = await redisUrlFor(3);
  const one = await app({ NODE_ID: 'server-1', REDIS_URL: url });
  const two = await app({ NODE_ID: 'server-2', REDIS_URL: url });
  try {
    await one.a.server.listen({ port: 0, host: '127.0.0.1' });
    await two.a.server.listen({ port: 0, host: '127.0.0.1' });
    const port = (s: typeof one) => (s.a.server.addresses()[0] as { port: number }).port;
    const list = async () => (await one.a.server.inject({ method: 'GET', url: '/api/nodes', headers: { authorization: `Bearer ${TOKEN}` } })).json() as { nodes: Array<{ id: string; self: boolean; baseUrl: string }>; shared: boolean };
    await until('both servers listed', async () => (await list()).nodes.length === 2, 3000);
    const body = await list();
    assert.equal(body.shared, true);
    assert.deepEqual(body.nodes.map((n) => [n.id, n.self, n.baseUrl]), [
      ['server-1', true, `http://127.0.0.1:${port(one)}`],
      ['server-2', false, `http://127.0.0.1:${port(two)}`],
    ]);
  } finally {
    await two.close();
    await one.close();
  }
});
