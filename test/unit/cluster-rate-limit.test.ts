import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerHardening } from '../../src/server/hardening.js';
import { openRedis, whenReady } from '../../src/cluster/redis-client.js';
import { sharedRateLimitStore } from '../../src/cluster/shared-rate-limit-store.js';
import { memoryLog, redisTest, redisUrlFor } from '../redis-backend.js';

const TOKEN = 'cluster-rate-limit-token-0123456789';
const MAX = 5;

/** One node: the real hardening (the API's rate limit) in front of one route. */
async function node(rateLimitStore?: Parameters<typeof registerHardening>[1]['rateLimitStore']): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await registerHardening(app, { settings: { RATE_LIMIT_PER_MINUTE: MAX, CORS_ORIGINS: undefined }, apiToken: TOKEN, rateLimitStore });
  app.get('/api/ping', async () => ({ ok: true }));
  await app.ready();
  return app;
}

const get = (app: FastifyInstance) => app.inject({ method: 'GET', url: '/api/ping', headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.statusCode);

redisTest('two nodes on one Redis share one count: requests split between them are refused past the limit', async () => {
  const url = await redisUrlFor(1);
  const log = memoryLog();
  const ra = openRedis(url, 'test-a', log);
  const rb = openRedis(url, 'test-b', log);
  await Promise.all([whenReady(ra), whenReady(rb)]);
  const a = await node(sharedRateLimitStore(ra, log));
  const b = await node(sharedRateLimitStore(rb, log));
  try {
    const codes: number[] = [];
    // Alternating nodes: 5 allowed in all, not 5 on each.
    for (let i = 0; i < MAX + 3; i++) codes.push(await get(i % 2 ? b : a));
    assert.deepEqual(codes, [200, 200, 200, 200, 200, 429, 429, 429]);
    // A different client (no token: counted by address) has its own count, on both nodes.
    const anon = await a.inject({ method: 'GET', url: '/api/ping' });
    assert.equal(anon.statusCode, 200);
    assert.deepEqual(log.lines, [], 'no fallback was needed');
  } finally {
    await a.close();
    await b.close();
    ra.disconnect();
    rb.disconnect();
  }
});

test('without a shared store each node counts alone (what REDIS_URL changes)', async () => {
  const a = await node();
  const b = await node();
  try {
    const codes: number[] = [];
    for (let i = 0; i < 2 * MAX + 2; i++) codes.push(await get(i % 2 ? b : a));
    assert.deepEqual(codes, [...Array(2 * MAX).fill(200), 429, 429]);
  } finally {
    await a.close();
    await b.close();
  }
});

test('Redis unreachable: the limit is counted on each node alone, no request fails, and the fallback is logged once', async () => {
  const log = memoryLog();
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  const redis = openRedis('redis://127.0.0.1:1', 'test-down', log);
  const a = await node(sharedRateLimitStore(redis, log));
  try {
    const codes: number[] = [];
    for (let i = 0; i < MAX + 2; i++) codes.push(await get(a));
    assert.deepEqual(codes, [...Array(MAX).fill(200), 429, 429]);
    assert.equal(log.lines.filter((l) => (l.obj as { event?: string }).event === 'ratelimit.local').length, 1);
  } finally {
    await a.close();
    redis.disconnect();
  }
});
