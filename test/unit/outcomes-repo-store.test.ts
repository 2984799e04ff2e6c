// Call outcomes on both databases (test/store-backends.ts): the request, the result and the webhook's state
// as the API reads them, the outcomes a restart must still work out; deleting the call deletes its outcome;
// and on PostgreSQL, a call's events and outcome wait for its row when the calls repository's insert is slow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { CallsRepo, newCallRow, type CallRow } from '../../src/store/calls-repo.js';
import { EventsRepo } from '../../src/store/events-repo.js';
import { OutcomesRepo } from '../../src/store/outcomes-repo.js';
import { openPostgresStore } from '../../src/store/sql/sql-store.js';
import { freshPostgresDatabase, storeTest, TEST_DATABASE_URL } from '../store-backends.js';

const call = (instructions = 'Ask the opening hours.'): CallRow =>
  newCallRow({ to: '+14155550123', from: '+14155550100', clientId: null, clientName: null, instructions, provider: 'openai', carrier: 'twilio', carrierCallId: null, direction: 'outbound' }, new Date());

storeTest('an outcome: registered, computed, its webhook state; read back as the API shows it', async (s) => {
  const calls = new CallsRepo(s.store);
  const outcomes = new OutcomesRepo(s.store, { callStored: (id) => calls.stored(id) });
  const a = call();
  const old = call('Placed before outcomes existed.');
  calls.insert(a);
  calls.insert(old);
  outcomes.register(a.id, { goal: 'Find the hours', schema: { type: 'object', properties: { hours: { type: 'string' } } } });
  // Read at once: the write is seen, whichever database.
  assert.deepEqual(await outcomes.request(a.id), { goal: 'Find the hours', schema: { type: 'object', properties: { hours: { type: 'string' } } } });
  assert.deepEqual(await outcomes.get(a.id, a.instructions), { status: 'pending', goal: 'Find the hours', summary: null, goalMet: null, fields: [], webhook: { status: 'not-configured', attempts: 0 } });
  assert.equal(await outcomes.get(old.id, old.instructions), undefined, 'a call without an outcome row has no outcome');
  assert.equal(await outcomes.request(old.id), undefined);

  calls.update(a.id, { status: 'ended', endReason: 'callee-hangup', endedAt: new Date().toISOString() });
  await calls.settled();
  assert.deepEqual((await outcomes.pendingForEnded()).map((p) => p.callId), [a.id], 'an ended call whose outcome is pending');

  outcomes.setResult(a.id, 'computed', { summary: 'Open at nine.', goalMet: 'achieved', fields: [{ name: 'hours', value: '9-5', citation: null }] });
  outcomes.setWebhook(a.id, { status: 'delivered', attempts: 1, deliveredAt: '2026-01-01T00:00:00.000Z' });
  const got = await outcomes.get(a.id, a.instructions);
  assert.equal(got?.status, 'computed');
  assert.equal(got?.summary, 'Open at nine.');
  assert.equal(got?.goalMet, 'achieved');
  assert.deepEqual(got?.fields, [{ name: 'hours', value: '9-5', citation: null }]);
  assert.deepEqual(got?.webhook, { status: 'delivered', attempts: 1, deliveredAt: '2026-01-01T00:00:00.000Z' });
  assert.deepEqual(await outcomes.pendingForEnded(), [], 'worked out');
  assert.deepEqual((await calls.list(10, undefined, { goalMet: 'achieved' })).map((r) => r.id), [a.id], 'the history filter reads the stored verdict');

  await outcomes.settled();
  assert.equal(await calls.delete(a.id, 0), true);
  assert.equal(await outcomes.get(a.id, a.instructions), undefined, 'deleted with its call');
});

storeTest("a node starting beside live ones resumes only the outcomes left behind: its own, no node's, another node's long after it ended; each claimed once", async (s) => {
  const mine = new CallsRepo(s.store, { nodeId: 'node-a' });
  const theirs = new CallsRepo(s.store, { nodeId: 'node-b' });
  const outcomes = new OutcomesRepo(s.store, { callStored: (id) => (mine.kept(id) ? mine : theirs).stored(id) });
  const t0 = new Date('2026-12-06T10:00:00.000Z');
  const own = call();
  const justEnded = call();
  const longAgo = call();
  mine.insert(own);
  theirs.insert(justEnded);
  theirs.insert(longAgo);
  for (const c of [own, justEnded, longAgo]) outcomes.register(c.id, { goal: null, schema: null });
  mine.update(own.id, { status: 'ended', endedAt: t0.toISOString() });
  theirs.update(justEnded.id, { status: 'ended', endedAt: new Date(t0.getTime() - 60_000).toISOString() });
  theirs.update(longAgo.id, { status: 'ended', endedAt: new Date(t0.getTime() - 30 * 60_000).toISOString() });
  await Promise.all([mine.settled(), theirs.settled(), outcomes.settled()]);

  const found = await outcomes.pendingForEnded({ nodeId: 'node-a', now: t0, othersAfterMs: 20 * 60_000 });
  assert.deepEqual(found.map((p) => p.callId).sort(), [own.id, longAgo.id].sort(), "node-b's call that ended a minute ago is node-b's to work out");
  // Two nodes read the same left-behind outcome: one claim wins.
  const left = found.find((p) => p.callId === longAgo.id)!;
  const claims = await Promise.all([outcomes.claimPending(left.callId, left.updatedAt, t0), outcomes.claimPending(left.callId, left.updatedAt, new Date(t0.getTime() + 5))]);
  assert.deepEqual(claims.filter(Boolean).length, 1, `exactly one claim: ${claims}`);
  outcomes.setResult(own.id, 'computed', { summary: 'ok', goalMet: 'achieved', fields: [] });
  await outcomes.settled();
  const own2 = (await outcomes.pendingForEnded({ nodeId: 'node-a', now: t0, othersAfterMs: 20 * 60_000 })).find((p) => p.callId === own.id);
  assert.equal(own2, undefined, 'worked out: no longer pending');
});

storeTest('a write the table refuses (no such call) is not fatal and leaves no row', async (s) => {
  const logs: string[] = [];
  const outcomes = new OutcomesRepo(s.store, { log: (m) => void logs.push(m) });
  try {
    outcomes.register('nope', { goal: null, schema: null });
  } catch (err) {
    // SQLite runs the write at once and throws to the caller, as before (CallOutcomes.register logs it).
    assert.ok(s.sqlite, `only SQLite throws: ${(err as Error).message}`);
  }
  await outcomes.settled();
  if (!s.sqlite) assert.ok(logs.some((l) => /could not write a call outcome/.test(l)), logs.join('\n'));
  assert.equal(await outcomes.get('nope', 'x'), undefined);
});

test(
  "[postgres] a call's events and outcome wait for its row while the calls repository's insert is held up",
  { skip: TEST_DATABASE_URL ? undefined : 'PostgreSQL: TEST_DATABASE_URL is not set' },
  async () => {
    const fresh = await freshPostgresDatabase();
    const main = await openPostgresStore(fresh.url, { max: 4 });
    // The calls repository on a pool of one connection, kept busy: its insert waits behind the sleep.
    const slow = await openPostgresStore(fresh.url, { max: 1 });
    try {
      const calls = new CallsRepo(slow);
      const logs: string[] = [];
      const log = (m: string) => void logs.push(m);
      const waited = new EventsRepo(main, log, { retryMs: 20, callStored: (id) => calls.stored(id) });
      const unordered = new EventsRepo(main, log, { retryMs: 20 });
      const outcomes = new OutcomesRepo(main, { log, callStored: (id) => calls.stored(id) });
      const busy = sql`SELECT pg_sleep(0.5)`.execute(slow.db);
      const a = call();
      const b = call();
      calls.insert(a);
      calls.insert(b);
      waited.append(a.id, 'status', { status: 'queued' });
      outcomes.register(a.id, { goal: 'g', schema: null });
      // The control: without the wait, the unknown call's events are tried twice and dropped.
      unordered.append(b.id, 'status', { status: 'queued' });
      await busy;
      assert.equal(await waited.flush(5000), 0);
      await unordered.flush(5000);
      await outcomes.settled();
      const stored = await main.db.selectFrom('call_events').select(['call_id', 'type']).execute();
      assert.deepEqual(stored, [{ call_id: a.id, type: 'status' }], logs.join('\n'));
      assert.deepEqual(await outcomes.request(a.id), { goal: 'g', schema: null });
      assert.ok(!logs.some((l) => /could not write a call outcome/.test(l)), logs.join('\n'));
    } finally {
      await slow.close();
      await main.close();
      await fresh.drop();
    }
  },
);

storeTest('PostgreSQL: an outcome write cut by a dropped connection is tried again, not lost', async (s) => {
  if (s.sqlite) return; // SQLite writes run at once on the connection (the StoreWriter queues them while locked)
  const calls = new CallsRepo(s.store);
  const a = call();
  calls.insert(a);
  await calls.settled();
  let cut = 1;
  const db = new Proxy(s.store.db, {
    get(target, prop) {
      if (prop === 'executeQuery') {
        return (...args: unknown[]) => {
          if (cut-- > 0) return Promise.reject(new Error('Connection terminated unexpectedly'));
          return (target.executeQuery as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v; // Kysely's private fields need the real instance
    },
  });
  const logs: string[] = [];
  const outcomes = new OutcomesRepo({ ...s.store, db } as typeof s.store, { retryDelaysMs: [5, 5], log: (m) => void logs.push(m) });
  outcomes.register(a.id, { goal: 'Find the hours', schema: null });
  await outcomes.settled();
  assert.deepEqual(await new OutcomesRepo(s.store).request(a.id), { goal: 'Find the hours', schema: null }, 'written on the second try');
  assert.ok(logs.some((l) => /trying again/.test(l)), logs.join('\n'));
});
