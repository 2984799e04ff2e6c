// The cross-node live path on PostgreSQL + Redis (docs/deployment.md, "Cross-node live events"): two nodes,
// each with its own query layer on one database and its own bus on one Redis. Other nodes hear an event
// only once it is stored (a follower there replays from the store after subscribing: an event told to it
// earlier could reach it from neither), and `closed` only after the call's last event; and a call row read
// while a write of it settles is not kept stale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { KyselyPlugin } from 'kysely';
import { EventsRepo, type StoredEvent } from '../../src/store/events-repo.js';
import { CallsRepo, newCallRow } from '../../src/store/calls-repo.js';
import { openPostgresStore, type SqlStore } from '../../src/store/sql/sql-store.js';
import { Timeline } from '../../src/records/timeline.js';
import { RedisEventBus } from '../../src/cluster/redis-event-bus.js';
import { until } from '../e2e/helpers.js';
import { memoryLog, TEST_REDIS_URL } from '../redis-backend.js';
import { freshPostgresDatabase, TEST_DATABASE_URL } from '../store-backends.js';

const NEEDS = !TEST_DATABASE_URL ? 'PostgreSQL: TEST_DATABASE_URL is not set (scripts/test-postgres.sh)' : !TEST_REDIS_URL ? 'Redis: TEST_REDIS_URL is not set (scripts/test-redis.sh)' : undefined;
const PG_NEEDED = !TEST_DATABASE_URL ? 'PostgreSQL: TEST_DATABASE_URL is not set (scripts/test-postgres.sh)' : undefined;

const seqs = (evs: StoredEvent[]) => evs.map((e) => e.seq);
const call = () => newCallRow({ to: '+14155550123', from: '+14155550100', clientId: null, clientName: null, instructions: 'x', provider: 'openai', carrier: 'twilio', carrierCallId: null, direction: 'outbound' }, new Date());

test("another node hears a call's events only once they are stored, and `closed` after the last; this node at once, `closed` after its events are numbered", { skip: NEEDS }, async () => {
  const fresh = await freshPostgresDatabase();
  const [storeA, storeB] = [await openPostgresStore(fresh.url, { max: 3 }), await openPostgresStore(fresh.url, { max: 3 })];
  const log = memoryLog();
  const busA = new RedisEventBus(TEST_REDIS_URL!, `a-${randomUUID()}`, log);
  const busB = new RedisEventBus(TEST_REDIS_URL!, `b-${randomUUID()}`, log);
  await Promise.all([busA.ready(), busB.ready()]);
  const a = new Timeline(new EventsRepo(storeA, () => undefined, { retryMs: 20 }), busA);
  const b = new Timeline(new EventsRepo(storeB, () => undefined, { retryMs: 20 }), busB);
  const holder = new pg.Client({ connectionString: fresh.url });
  await holder.connect();
  try {
    const row = call();
    const calls = new CallsRepo(storeA);
    calls.insert(row);
    await calls.settled();
    const x = row.id;
    const onA: StoredEvent[] = [];
    const onB: StoredEvent[] = [];
    let heardOnAAtClose = -1;
    let heardOnBAtClose = -1;
    const subA = a.subscribe(x, (ev) => onA.push(ev));
    const subB = b.subscribe(x, (ev) => onB.push(ev));
    a.onClosed(x, () => (heardOnAAtClose = onA.length));
    b.onClosed(x, () => (heardOnBAtClose = onB.length));
    await Promise.all([subA.ready, subB.ready]);

    // Inserts into the timeline wait for this lock (reads do not): the events are numbered, not stored.
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE call_events IN EXCLUSIVE MODE');
    for (let i = 0; i < 3; i++) a.append(x, 'usage', { i });
    a.append(x, 'records.complete', {});
    // Node A has not read the call's last stored number yet (PostgreSQL): its events are not numbered.
    a.close(x);
    assert.equal(heardOnAAtClose, -1, "this node's `closed` waits for the call's events to be numbered");
    await until("node A's own follower hears the events, then `closed`", () => heardOnAAtClose >= 0, 5000);
    assert.deepEqual(seqs(onA), [1, 2, 3, 4]);
    assert.equal(heardOnAAtClose, 4, "`closed` came after the call's events");
    // Redis would have carried them within a few milliseconds: nothing reaches node B while they are not stored.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(seqs(onB), [], 'node B hears nothing that is not stored');
    assert.equal(heardOnBAtClose, -1, 'nor `closed`');

    await holder.query('COMMIT');
    await until('node B hears the stored events, then `closed`', () => heardOnBAtClose >= 0, 5000);
    assert.deepEqual(seqs(onB), [1, 2, 3, 4]);
    assert.equal(heardOnBAtClose, 4, "node B's `closed` came after the call's last event");
    // Every event node B heard is one its replay would find.
    assert.deepEqual(seqs(await b.list(x)), [1, 2, 3, 4]);
    subA.close();
    subB.close();
    assert.deepEqual(log.lines, []);
  } finally {
    await holder.end();
    await busA.close();
    await busB.close();
    await storeA.close();
    await storeB.close();
    await fresh.drop();
  }
});

/** Holds the results of SELECTs on `calls` until `release` (the query itself has run): a read in flight, made slow. */
function slowCallReads() {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let arrived!: () => void;
  const readDone = new Promise<void>((r) => (arrived = r));
  const plugin: KyselyPlugin = {
    transformQuery: (args) => args.node,
    transformResult: async (args) => {
      if ('id' in (args.result.rows[0] ?? {}) && 'stream_secret' in (args.result.rows[0] ?? {})) {
        arrived();
        await released;
      }
      return args.result;
    },
  };
  return { plugin, release, readDone };
}

test('[postgres] a call row read while a write of it settles is not kept stale', { skip: PG_NEEDED }, async () => {
  const fresh = await freshPostgresDatabase();
  const store = await openPostgresStore(fresh.url, { max: 4 });
  try {
    const row = call();
    const writer = new CallsRepo(store);
    writer.insert(row);
    await writer.settled();
    // A node that has not kept the row reads it; the read's result is held back while an update of the row
    // is sent and settles (so the update is no longer pending when the stale result arrives).
    const slow = slowCallReads();
    const gated: SqlStore = { ...store, db: store.db.withPlugin(slow.plugin) };
    const reader = new CallsRepo(gated);
    const reading = reader.get(row.id);
    await slow.readDone;
    reader.update(row.id, { status: 'ended', endReason: 'callee-hangup' });
    await reader.settled(row.id);
    slow.release(); // a read made again from here on is not held
    const read = (await reading)!;
    assert.equal(read.status, 'ended', 'the read returns the row as written');
    assert.equal(reader.kept(row.id)?.status ?? 'ended', 'ended', 'a row kept from the read is current');
    assert.equal((await reader.get(row.id))!.status, 'ended', 'and so are later reads');
    assert.equal((await new CallsRepo(store).get(row.id))!.status, 'ended');
  } finally {
    await store.close();
    await fresh.drop();
  }
});

test("[postgres] another node's call is read afresh while it may change (live, then ended with late records to come), and kept once settled", { skip: PG_NEEDED }, async () => {
  const fresh = await freshPostgresDatabase();
  const store = await openPostgresStore(fresh.url, { max: 4 });
  let clock = Date.parse('2026-12-06T12:00:00Z');
  try {
    const row = call();
    const a = new CallsRepo(store, { nodeId: 'node-a', now: () => clock });
    const b = new CallsRepo(store, { nodeId: 'node-b', now: () => clock });
    a.insert(row);
    await a.settled();
    assert.equal((await b.get(row.id))!.status, row.status);
    a.update(row.id, { status: 'talking', answeredAt: new Date(clock).toISOString() });
    await a.settled(row.id);
    assert.equal((await b.get(row.id))!.status, 'talking', "node A's update is seen by node B, which read the row before");
    assert.equal(b.kept(row.id), undefined, 'a live call of another node is not kept');
    a.update(row.id, { status: 'ended', endReason: 'callee-hangup', endedAt: new Date(clock).toISOString() });
    await a.settled(row.id);
    assert.equal((await b.get(row.id))!.status, 'ended');
    a.update(row.id, { recordingSid: 'RE123' });
    await a.settled(row.id);
    assert.equal((await b.get(row.id))!.recordingSid, 'RE123', 'a late record written by node A after the end is seen');
    assert.equal(b.kept(row.id), undefined, 'not kept while node A may still write late records');
    clock += 16 * 60_000;
    const before = b.selects;
    await b.get(row.id);
    await b.get(row.id);
    assert.equal(b.selects - before, 1, 'once past the late-records window the row is kept: read once');
  } finally {
    await store.close();
    await fresh.drop();
  }
});
