import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { parseSettings } from '../../src/config/settings.js';
import { buildApp } from '../../src/server/app.js';
import { FAST, readSse, until } from './helpers.js';
import { redisTest, TEST_REDIS_URL } from '../redis-backend.js';
import { SIM_API_TOKEN, stackStoreEnv, startStack } from '../sim/stack.js';

const TOKEN = 'cluster-events-token-0123456789abcdef';

/**
 * Two servers on one store and one Redis, B listening: the store is SQLite in DATA_DIR, or PostgreSQL with
 * TEST_STORE=postgres (the multi-node deployment). `fn` gets both, a way to add a live call's row, and the
 * URL of a call's event stream on B.
 */
async function twoNodes(fn: (n: { a: Awaited<ReturnType<typeof buildApp>>; databaseUrl?: string; addCall(): Promise<string>; urlOnB(callId: string): string; admin: Redis }) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'callwright-cluster-events-'));
  const { DATABASE_URL } = await stackStoreEnv(dir);
  const settings = (node: string) => parseSettings({ DATA_DIR: dir, CLIENTS_DIR: join(dir, 'clients'), KNOWLEDGE_WATCH: 'false', NODE_ID: node, REDIS_URL: TEST_REDIS_URL, ...(DATABASE_URL ? { DATABASE_URL } : {}) });
  const a = await buildApp({ settings: settings('node-a'), apiToken: TOKEN, logger: false });
  const b = await buildApp({ settings: settings('node-b'), apiToken: TOKEN, logger: false });
  const admin = new Redis(TEST_REDIS_URL!);
  let aClosed = false;
  try {
    await b.server.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(b.server.addresses()[0] as { port: number }).port}`;
    const insert = "INSERT INTO calls (id, created_at, updated_at, to_number, instructions, provider, status, carrier, stream_secret) VALUES ($1, 'now', 'now', '+15551230000', 'x', 'openai', 'talking', 'twilio', 's')";
    const addCall = async () => {
      const callId = randomUUID();
      if (DATABASE_URL) {
        const c = new pg.Client({ connectionString: DATABASE_URL });
        await c.connect();
        await c.query(insert, [callId]).finally(() => c.end());
      } else a.db.prepare(insert.replace('$1', '?')).run(callId);
      return callId;
    };
    const closeA = a.close.bind(a);
    a.close = async () => {
      aClosed = true;
      await closeA();
    };
    await fn({ a, databaseUrl: DATABASE_URL, addCall, urlOnB: (id) => `${base}/api/calls/${id}/events`, admin });
  } finally {
    admin.disconnect();
    await b.close();
    if (!aClosed) await a.close();
    rmSync(dir, { recursive: true, force: true });
    if (DATABASE_URL) {
      const c = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${new URL(DATABASE_URL).pathname.slice(1)} WITH (FORCE)`).finally(() => c.end());
    }
  }
}

const subscribedOnB = (admin: Redis, callId: string) =>
  until('node B subscribed', async () => ((await admin.pubsub('NUMSUB', `callwright:events:${callId}`)) as [string, number])[1] === 1, 5000);

// A browser following a call on server B sees the events the call's own server A appends, live, and a
// reconnect resumes without gaps or repeats.
redisTest('a call followed on another node: replayed, then live through Redis, ended once; a reconnect with Last-Event-ID resumes', async () => {
  await twoNodes(async ({ a, addCall, urlOnB, admin }) => {
    const callId = await addCall();
    for (let i = 0; i < 3; i++) a.timeline.append(callId, 'usage', { i });
    a.timeline.flush(1000);
    const url = urlOnB(callId);

    const following = readSse(url, TOKEN, {}, 10_000);
    // Node B's subscription is in place in Redis: what A appends from now on reaches it.
    await subscribedOnB(admin, callId);
    for (let i = 3; i < 8; i++) a.timeline.append(callId, 'usage', { i });
    a.timeline.append(callId, 'records.complete', {});
    a.timeline.close(callId);
    const events = await following;
    assert.deepEqual(events.map((e) => e.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 0], 'every event once, in order, then end');
    assert.deepEqual(events.slice(0, 8).map((e) => e.data.data.i), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(events.at(-1)!.event, 'end');

    // The client reconnects after seq 4: the rest from the store, nothing twice, and the end.
    a.timeline.flush(1000);
    const resumed = await readSse(url, TOKEN, { 'Last-Event-ID': '4' }, 10_000);
    assert.deepEqual(resumed.map((e) => e.id), [5, 6, 7, 8, 9, 0]);

    // A client that saw `records.complete` (9) but not the end resumes past it: nothing is left to replay,
    // and `closed` will not come again; the stream ends at once, from the store's word.
    const past = await readSse(url, TOKEN, { 'Last-Event-ID': '9' }, 5_000);
    assert.deepEqual(past.map((e) => [e.id, e.event]), [[0, 'end']]);
    // Resuming before it still ends only after it.
    assert.deepEqual((await readSse(url, TOKEN, { 'Last-Event-ID': '8' }, 5_000)).map((e) => e.id), [9, 0]);
  });
});

// Other nodes hear an event once it is stored: at shutdown the node running a call stores what it holds
// before its bus closes, so a follower elsewhere still gets the last events and the end.
const PG_AND_REDIS = !TEST_REDIS_URL ? 'Redis: TEST_REDIS_URL is not set (scripts/test-redis.sh)' : process.env.TEST_STORE !== 'postgres' ? "PostgreSQL only (TEST_STORE=postgres): holds the timeline's inserts with a table lock" : undefined;
test('PostgreSQL: a node shutting down while its last events wait for the database still tells the other nodes, once they are stored', { skip: PG_AND_REDIS }, async () => {
  await twoNodes(async ({ a, databaseUrl, addCall, urlOnB, admin }) => {
    const callId = await addCall();
    a.timeline.append(callId, 'usage', { i: 0 });
    await a.timeline.flush(1000);
    const following = readSse(urlOnB(callId), TOKEN, {}, 15_000);
    await subscribedOnB(admin, callId);
    const holder = new pg.Client({ connectionString: databaseUrl });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE call_events IN EXCLUSIVE MODE');
      a.timeline.append(callId, 'usage', { i: 1 });
      a.timeline.append(callId, 'records.complete', {});
      a.timeline.close(callId);
      const closing = a.close();
      await new Promise((r) => setTimeout(r, 500));
      await holder.query('COMMIT');
      await closing;
    } finally {
      await holder.end();
    }
    assert.deepEqual((await following).map((e) => e.id), [1, 2, 3, 0]);
  });
});

// A campaign watched on server B while server A's runner dials it (B's own runner waits a minute between
// turns): B's stream shows each dial and each outcome as they happen, told by A through Redis.
redisTest('a campaign watched on another node: each dial and each outcome are live there, and the stream ends when it completes', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'callwright-cluster-campaign-'));
  const nodeEnv = (node: string, tickMs: number) => ({ ...FAST.env, REDIS_URL: TEST_REDIS_URL!, NODE_ID: node, CAMPAIGN_TICK_MS: String(tickMs), KNOWLEDGE_WATCH: 'false' });
  let release!: () => void;
  const watched = new Promise<void>((resolve) => (release = resolve));
  // Each callee stays on until B's stream has its first state, so every change after it is B's to be told.
  const script = () => ({ steps: [{ say: 'Hello?' }, { until: watched, timeoutMs: 20_000 }, { pauseMs: 200 }, { hangup: true as const }] });
  const a = await startStack({ ...FAST, dataDir, script, env: nodeEnv('node-a', 40) });
  const b = await startStack({ ...FAST, dataDir, sims: { twilio: a.twilio, openai: a.openai, gemini: a.gemini }, env: nodeEnv('node-b', 60_000) });
  try {
    const created = await a.api('POST', '/api/campaigns', { name: 'Across nodes', instructions: 'Remind {{name}}.', concurrency: 1, numbers: [{ to: '+14155550161', variables: { name: 'Ann' } }, { to: '+14155550162', variables: { name: 'Bob' } }] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const events = await readSse(`${b.baseUrl}/api/campaigns/${created.body.id}/events`, SIM_API_TOKEN, {}, 30_000, (ev) => ev.event === 'campaign' && release());
    const numberStates = events.filter((e) => e.event === 'number').map((e) => `${e.data.index}:${e.data.state}`);
    for (const seen of ['1:done', '2:calling', '2:done']) assert.ok(numberStates.includes(seen), `B saw ${seen} live (it saw ${numberStates.join(', ') || 'no number change'})`);
    const last = events.filter((e) => e.event === 'campaign').at(-1)!.data;
    assert.equal(last.status, 'completed');
    assert.equal(last.progress.answered, 2);
    assert.equal(events.at(-1)!.event, 'end');
    // A dialled both (the carrier was given A's URLs): B's runner never took a turn with work in it.
    assert.deepEqual(a.twilio.calls.map((c) => c.params.Url?.startsWith(a.baseUrl)), [true, true]);
  } finally {
    release();
    await b.close();
    await a.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
