// The timeline's repository on both databases (test/store-backends.ts): order, batching, reads of what is
// pending, numbering after a restart, shutdown's flush; and on PostgreSQL, a batch that fails retried in
// order, and two nodes appending to one call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { EventsRepo, type StoredEvent } from '../../src/store/events-repo.js';
import { openPostgresStore, type SqlStore } from '../../src/store/sql/sql-store.js';
import { freshPostgresDatabase, storeTest, TEST_DATABASE_URL, type OpenStore } from '../store-backends.js';

const tick = () => new Promise((r) => setImmediate(r));

async function addCalls(store: SqlStore, ...ids: string[]): Promise<void> {
  const row = (id: string) => ({ id, created_at: 'now', updated_at: 'now', to_number: '+1', instructions: 'x', provider: 'openai', status: 'talking', carrier: 'twilio', stream_secret: 's' });
  await store.db.insertInto('calls').values(ids.map(row)).execute();
}

function repoOn(s: OpenStore, logs: string[] = []): EventsRepo {
  const log = (msg: string) => void logs.push(msg);
  return s.sqlite ? new EventsRepo(s.sqlite, log) : new EventsRepo(s.store, log, { retryMs: 20 });
}

const stored = async (store: SqlStore, callId: string) =>
  (await store.db.selectFrom('call_events').select(['seq', 'type']).where('call_id', '=', callId).orderBy('seq').execute()).map((r) => [r.seq, r.type]);

storeTest('events are held, read back at once in order, and written after the turn in one batch', async (s) => {
  await addCalls(s.store, 'a', 'b');
  const repo = repoOn(s);
  // The calls' first events (on PostgreSQL each call's counter is read first, so these may take a batch each).
  repo.append('a', 'status', {});
  repo.append('b', 'status', {});
  assert.equal(await repo.flush(5000), 0);
  const before = repo.transactions;
  for (let i = 0; i < 5; i++) {
    repo.append('a', 'usage', { i });
    repo.append('b', 'status', { i });
  }
  assert.deepEqual((await repo.list('a')).map((e) => [e.seq, e.data.i]), [[1, undefined], [2, 0], [3, 1], [4, 2], [5, 3], [6, 4]], 'pending events are read, in order');
  assert.deepEqual((await repo.list('a', 3)).map((e) => e.seq), [4, 5, 6]);
  assert.equal(await repo.flush(5000), 0);
  assert.equal(repo.transactions - before, 1, 'ten events, one batch');
  assert.deepEqual(await stored(s.store, 'a'), [[1, 'status'], ...[2, 3, 4, 5, 6].map((n) => [n, 'usage'])]);
  assert.deepEqual((await repo.list('b')).map((e) => e.seq), [1, 2, 3, 4, 5, 6], 'read from the table once written');
  // Stored and pending together, each once.
  repo.append('a', 'status', { status: 'ended' });
  assert.deepEqual((await repo.list('a')).map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual((await repo.listOfType('a', 'usage')).map((e) => e.data.i), [0, 1, 2, 3, 4]);
  repo.append('a', 'usage', { i: 5 });
  assert.equal((await repo.listOfType('a', 'usage')).length, 6, 'a cached type stays current');
  assert.equal(await repo.flush(5000), 0);
});

storeTest('a read that overlaps a batch being written misses nothing and repeats nothing', async (s) => {
  await addCalls(s.store, 'a');
  const repo = repoOn(s);
  const reads: Array<Promise<StoredEvent[]>> = [];
  for (let i = 0; i < 40; i++) {
    repo.append('a', 'transcript', { i });
    reads.push(repo.list('a'));
    if (i % 7 === 0) await tick(); // a batch goes out while reads are in flight
  }
  const results = await Promise.all(reads);
  // Each read has every event appended before it began, and those appended while it ran: no gap, no repeat.
  results.forEach((events, i) => {
    assert.ok(events.length >= i + 1, `read ${i} has ${events.length} events`);
    assert.deepEqual(events.map((e) => e.seq), Array.from({ length: events.length }, (_, k) => k + 1), `read ${i}`);
  });
  assert.equal(await repo.flush(5000), 0);
});

storeTest('after a restart a call is numbered on from its stored events; an unknown call\'s event is dropped, the others written', async (s) => {
  await addCalls(s.store, 'a');
  const first = repoOn(s);
  first.append('a', 'status', {});
  first.append('a', 'usage', {});
  assert.equal(await first.flush(5000), 0);
  const logs: string[] = [];
  const again = repoOn(s, logs); // a new process: no counter in memory
  const numbered: number[] = [];
  again.onNumbered = (ev) => numbered.push(ev.seq);
  again.append('a', 'carrier.status', {});
  again.append('nope', 'status', {});
  again.append('a', 'records.complete', {});
  assert.equal(await again.flush(5000), 0);
  assert.deepEqual(numbered.filter((n) => n > 2), [3, 4], 'published once numbered, after the stored ones');
  assert.deepEqual(await stored(s.store, 'a'), [[1, 'status'], [2, 'usage'], [3, 'carrier.status'], [4, 'records.complete']]);
  assert.deepEqual(await stored(s.store, 'nope'), []);
  assert.ok(logs.some((l) => /dropped/.test(l)), logs.join('\n'));
});

const pgOnly = TEST_DATABASE_URL ? undefined : 'PostgreSQL: TEST_DATABASE_URL is not set (scripts/test-postgres.sh)';

/** A PostgreSQL database of its own, with `nodes` query layers on it (one per simulated node). */
async function pgNodes(nodes: number): Promise<{ stores: SqlStore[]; close(): Promise<void> }> {
  const fresh = await freshPostgresDatabase();
  const stores: SqlStore[] = [];
  for (let i = 0; i < nodes; i++) stores.push(await openPostgresStore(fresh.url, { max: 3 }));
  return {
    stores,
    async close() {
      for (const st of stores) await st.close();
      await fresh.drop();
    },
  };
}

test('[postgres] a batch that fails (the table unreachable) is retried, in order, and later batches wait behind it', { skip: pgOnly }, async () => {
  const { stores, close } = await pgNodes(1);
  try {
    const store = stores[0]!;
    await addCalls(store, 'a');
    const logs: string[] = [];
    const repo = new EventsRepo(store, (m) => void logs.push(m), { retryMs: 20 });
    const timelineDelayed: Array<[string, number]> = [];
    repo.onDelayedWrite = (callId, n) => {
      timelineDelayed.push([callId, n]);
      repo.append(callId, 'store.delayed', { events: n });
    };
    repo.append('a', 'status', {});
    assert.equal(await repo.flush(5000), 0);
    await sql`ALTER TABLE call_events RENAME TO call_events_away`.execute(store.db);
    for (let i = 0; i < 3; i++) {
      repo.append('a', 'transcript', { i });
      await tick(); // one batch per turn: three batches queued behind the failing first
    }
    await new Promise((r) => setTimeout(r, 100)); // a few tries fail
    assert.equal(repo.pendingCount, 3);
    assert.ok(logs.some((l) => /deferred/.test(l)), logs.join('\n'));
    await sql`ALTER TABLE call_events_away RENAME TO call_events`.execute(store.db);
    assert.equal(await repo.flush(5000), 0);
    assert.deepEqual(await stored(store, 'a'), [[1, 'status'], [2, 'transcript'], [3, 'transcript'], [4, 'transcript'], [5, 'store.delayed']], 'in order, no gap, and the record says they were late');
    assert.deepEqual(timelineDelayed, [['a', 3]]);
  } finally {
    await close();
  }
});

test('[postgres] two nodes appending to one call: the stored timeline has no gap and no duplicate', { skip: pgOnly }, async () => {
  const { stores, close } = await pgNodes(2);
  try {
    await addCalls(stores[0]!, 'a');
    const logs: string[] = [];
    const owner = new EventsRepo(stores[0]!, (m) => void logs.push(m), { retryMs: 20 });
    const other = new EventsRepo(stores[1]!, (m) => void logs.push(m), { retryMs: 20 });
    owner.append('a', 'status', { by: 'owner' });
    owner.append('a', 'usage', { by: 'owner' });
    assert.equal(await owner.flush(5000), 0);
    // A callback reaches the other node: it numbers on from the table (3)...
    other.append('a', 'carrier.status', { by: 'other' });
    assert.equal(await other.flush(5000), 0);
    // ...while the owner's counter still says 3: its insert clashes, and its events move after the stored ones.
    const mine = owner.append('a', 'transcript', { by: 'owner' });
    owner.append('a', 'transcript', { by: 'owner' });
    assert.equal(mine.seq, 3);
    assert.equal(await owner.flush(5000), 0);
    const rows = await stores[0]!.db.selectFrom('call_events').select(['seq', 'data']).where('call_id', '=', 'a').orderBy('seq').execute();
    assert.deepEqual(rows.map((r) => [r.seq, JSON.parse(r.data).by]), [[1, 'owner'], [2, 'owner'], [3, 'other'], [4, 'owner'], [5, 'owner']]);
    assert.equal(mine.seq, 4, 'the event object carries its stored number');
    assert.ok(logs.some((l) => /renumbered/.test(l)), logs.join('\n'));
    // Both nodes read the same timeline.
    assert.deepEqual((await other.list('a')).map((e) => e.seq), [1, 2, 3, 4, 5]);
    assert.deepEqual((await owner.list('a')).map((e) => e.seq), [1, 2, 3, 4, 5]);
    // Appending at once from both, many times: still no gap and no duplicate.
    for (let i = 0; i < 20; i++) {
      owner.append('a', 'usage', { i });
      other.append('a', 'usage', { i });
      if (i % 5 === 0) await tick();
    }
    assert.equal(await owner.flush(5000), 0);
    assert.equal(await other.flush(5000), 0);
    const seqs = (await stored(stores[0]!, 'a')).map(([seq]) => seq);
    assert.deepEqual(seqs, Array.from({ length: 45 }, (_, k) => k + 1));
  } finally {
    await close();
  }
});

// That an event is in the table when onStored tells it, across nodes: test/unit/cluster-live-path.test.ts.
storeTest('onStored tells each batch once it is in the table, in order; afterStored and afterNumbered wait for the call\'s events', async (s) => {
  await addCalls(s.store, 'a');
  const repo = repoOn(s);
  const told: number[] = [];
  repo.onStored = (evs) => void told.push(...evs.map((e) => e.seq));
  const order: string[] = [];
  for (let i = 0; i < 3; i++) repo.append('a', 'usage', { i });
  repo.afterNumbered('a', () => order.push('numbered'));
  repo.afterStored('a', () => order.push(`stored after ${told.length}`));
  assert.deepEqual(told, [], 'nothing is stored in the turn it was appended');
  repo.append('a', 'records.complete', {}); // appended after the wait began: waited for too
  assert.equal(await repo.flush(5000), 0);
  assert.deepEqual(told, [1, 2, 3, 4]);
  assert.deepEqual(order, ['numbered', 'stored after 4']);
  let now = false;
  repo.afterStored('a', () => (now = true));
  assert.ok(now, 'a call with nothing pending is stored at once');
});
