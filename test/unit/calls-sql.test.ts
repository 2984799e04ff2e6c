// The calls repository on both databases (test/store-backends.ts), its running cost against the cost
// breakdown's arithmetic, and the caps check across two nodes on PostgreSQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { storeTest, freshPostgresDatabase, TEST_DATABASE_URL } from '../store-backends.js';
import { CALL_LEASE_MS, CallsRepo, newCallRow, type CallRow } from '../../src/store/calls-repo.js';
import { openPostgresStore } from '../../src/store/sql/sql-store.js';
import { CallCaps } from '../../src/calls/caps.js';
import { CallLeases } from '../../src/store/call-leases.js';
import { callPricer } from '../../src/calls/call-cost.js';
import { computeCost } from '../../src/records/cost.js';
import { loadPriceTable } from '../../src/records/pricing.js';
import type { StoredEvent } from '../../src/store/events-repo.js';

const NOW = new Date('2026-03-02T15:00:00Z');
const PER_MINUTE = 0.014;
const prices = loadPriceTable(undefined);

const newCall = (to: string, over: Partial<CallRow> = {}, at = NOW): CallRow => ({
  ...newCallRow({ to, from: '+14155550100', clientId: 'raju', clientName: 'Raju Dental', instructions: 'Confirm the 3pm cleaning', provider: 'openai', carrier: 'twilio', carrierCallId: null, direction: 'outbound' }, at),
  ...over,
});

storeTest('calls: insert, update, look-ups, history filters, live list, counts and deletion with its tombstone', async ({ store }) => {
  const calls = new CallsRepo(store, { nodeId: 'n1' });
  const a = newCall('+14155550123', { metadataJson: JSON.stringify({ campaignAttempt: 'c1:0:1' }) }, new Date(NOW.getTime() - 2000));
  const b = newCall('+14155550124', { direction: 'inbound', from: '+14155559999', clientId: null, clientName: null, instructions: 'Take a message' }, new Date(NOW.getTime() - 1000));
  const c = newCall('+14155550125', {}, NOW);
  for (const r of [a, b, c]) calls.insert(r);
  calls.update(a.id, { status: 'dialing', carrierCallId: 'CA-a' });
  calls.update(a.id, { status: 'ended', endReason: 'callee-hangup', endedAt: NOW.toISOString() });
  calls.update(b.id, { status: 'talking' });
  await calls.settled();

  // Another node (or a restart): nothing in memory, everything from the table.
  const other = new CallsRepo(store);
  const stored = (await other.get(a.id))!;
  assert.equal(other.selects, 1);
  assert.equal(stored.status, 'ended');
  assert.equal(stored.endReason, 'callee-hangup');
  assert.equal(stored.nodeId, 'n1');
  assert.ok(stored.leaseUntil! > stored.createdAt, 'the placing node holds a lease');
  assert.equal((await other.getByCarrierId('CA-a'))?.id, a.id);
  assert.equal(await other.getByCarrierId('CA-none'), undefined);
  assert.equal(await other.idForCampaignAttempt('c1:0:1'), a.id);
  assert.equal(await other.idForCampaignAttempt('c1:0:2'), undefined);

  const ids = (rows: CallRow[]) => rows.map((r) => r.id);
  assert.deepEqual(ids(await other.list(10)), [c.id, b.id, a.id], 'newest first');
  const page1 = await other.list(2);
  assert.deepEqual(ids(await other.list(10, { createdAt: page1[1]!.createdAt, id: page1[1]!.id })), [a.id], 'the cursor continues after the page');
  assert.deepEqual(ids(await other.list(10, undefined, { status: 'live' })), [c.id, b.id]);
  assert.deepEqual(ids(await other.list(10, undefined, { status: 'ended', endReason: 'callee-hangup' })), [a.id]);
  assert.deepEqual(ids(await other.list(10, undefined, { direction: 'inbound' })), [b.id]);
  assert.deepEqual(ids(await other.list(10, undefined, { text: 'raju dental' })), [c.id, a.id], 'text search is case-insensitive on both databases');
  assert.deepEqual(ids(await other.list(10, undefined, { text: '5559999' })), [b.id], "an inbound call's caller is searched");
  assert.deepEqual(ids(await other.list(10, undefined, { text: '3%' })), [], "LIKE's wildcards are taken literally");
  assert.deepEqual(ids(await other.list(10, undefined, { goalMet: 'none' })), [c.id, b.id, a.id]);
  assert.deepEqual(ids(await other.listLive()).sort(), [b.id, c.id].sort());
  assert.equal(await other.countCreatedSince('2026-03-02T00:00:00.000Z'), 3);

  assert.equal(await other.delete(a.id, 0.25), true);
  assert.equal(await other.delete(a.id, 0.25), false, 'gone');
  assert.equal(await other.get(a.id), undefined);
  assert.equal(await other.countCreatedSince('2026-03-02T00:00:00.000Z'), 3, 'a deleted call still counts towards the day');
  assert.deepEqual(await other.deletedSince('2026-03-02T00:00:00.000Z'), { count: 1, costUsd: 0.25 });
});

storeTest("calls: today's spend is one sum over the running cost, equal to pricing every call from its usage events (live, ended, deleted)", async ({ store }) => {
  let clock = NOW.getTime();
  const calls = new CallsRepo(store, { pricer: callPricer(prices, PER_MINUTE), now: () => clock });
  const usage: Record<string, StoredEvent[]> = {};
  const report = (id: string, meters: Record<string, number>) => {
    const data = { provider: 'openai', model: 'gpt-realtime', meters };
    (usage[id] ??= []).push({ seq: usage[id].length + 1, at: new Date(clock).toISOString(), type: 'usage', data } as unknown as StoredEvent);
    calls.addUsage(id, data);
  };
  const at = (ms: number) => new Date(NOW.getTime() + ms).toISOString();
  const started = new Date(NOW.getTime() - 600_000);
  // Ended, answered, with usage in several batches and one after its end (the outcome's model).
  const ended = newCall('+14155550131', {}, started);
  // Live and answered: its carrier minutes grow with the clock.
  const live = newCall('+14155550132', {}, started);
  // Live, not answered yet.
  const ringing = newCall('+14155550133', {}, started);
  // Ended with the carrier's own price.
  const priced = newCall('+14155550134', {}, started);
  // Deleted: its cost stays in the day's spend.
  const deleted = newCall('+14155550135', {}, started);
  // Yesterday's: not today's spend.
  const yesterday = newCall('+14155550136', { createdAt: '2026-03-01T23:00:00.000Z' }, started);
  for (const r of [ended, live, ringing, priced, deleted, yesterday]) calls.insert(r);
  for (const r of [ended, live, priced, deleted, yesterday]) calls.update(r.id, { status: 'talking', answeredAt: at(-500_000) });
  for (let i = 0; i < 3; i++) {
    for (const r of [ended, live, ringing, deleted, yesterday]) report(r.id, { audio_input: 800 + i, audio_output: 400, text_input: 200 * i });
    await new Promise((r) => setImmediate(r)); // one write of the cost per call per turn
  }
  calls.update(ended.id, { status: 'ended', endReason: 'callee-hangup', endedAt: at(-100_000) });
  calls.update(priced.id, { status: 'ended', endReason: 'callee-hangup', endedAt: at(-200_000), carrierDurationSec: 301, carrierPrice: -0.09, carrierPriceUnit: 'USD' });
  calls.update(deleted.id, { status: 'ended', endReason: 'callee-hangup', endedAt: at(-300_000) });
  report(ended.id, { text_input: 1500, text_output: 300 });
  await calls.settled();
  const deletedRow = (await calls.get(deleted.id))!;
  const deletedCost = computeCost(deletedRow, usage[deleted.id]!, prices, PER_MINUTE, clock).total;
  assert.equal(await calls.delete(deleted.id, deletedCost), true);

  clock += 125_000; // the live call's carrier minutes have grown since its last refresh
  const day = '2026-03-02T00:00:00.000Z';
  const replay = async () => {
    let total = deletedCost;
    for (const r of await calls.listCreatedSince(day)) total += computeCost(r, usage[r.id] ?? [], prices, PER_MINUTE, clock).total;
    return total;
  };
  const expected = await replay();
  assert.ok(expected > deletedCost + 0.05, `a spend worth comparing: ${expected}`);
  const caps = new CallCaps({ MAX_CALLS_PER_DAY: 0, MAX_CONCURRENT_CALLS: 0, MAX_COST_PER_DAY_USD: 100 }, calls);
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-5, `${what}: ${a} against ${b}`);
  close(await caps.spentToday(new Date(clock)), expected, 'this node (its live calls priced to the moment)');
  // Another node sees the table only: equal once the live call's cost was refreshed (its lease renewal).
  // SQLite is one node: it renews nothing (nothing reads a lease there) and prices its live calls itself.
  assert.equal(calls.renewLeases() > 0, store.dialect === 'postgres');
  await calls.settled();
  if (store.dialect === 'postgres') close(await new CallsRepo(store).spentSince(day), expected, 'the table alone, after the renewal');
});

test("calls stored before running costs (SQLite, a database from before migration 12) are priced from their usage events at start, so the day's spend counts them", async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { openDatabase } = await import('../../src/store/database.js');
  const { sqliteStore } = await import('../../src/store/sql/sql-store.js');
  const dir = mkdtempSync(join(tmpdir(), 'cw-unpriced-'));
  const db = openDatabase(join(dir, 'callwright.db'));
  try {
    const clock = NOW.getTime();
    const started = new Date(clock - 600_000);
    const old = newCall('+14155550141', { status: 'ended', endReason: 'callee-hangup', answeredAt: new Date(clock - 500_000).toISOString(), endedAt: new Date(clock - 100_000).toISOString() }, started);
    const quiet = newCall('+14155550142', { status: 'ended', endReason: 'no-answer', endedAt: new Date(clock - 500_000).toISOString() }, started);
    const meters = [{ audio_input: 900, audio_output: 450, text_input: 300 }, { text_input: 1200, text_output: 250 }];
    const usage = meters.map((m, i) => ({ seq: i + 1, at: NOW.toISOString(), type: 'usage', data: { provider: 'openai', model: 'gpt-realtime', meters: m } }) as unknown as StoredEvent);
    // As a database written before the running cost existed: rows with a NULL cost, events in the timeline.
    const setup = new CallsRepo(sqliteStore(db));
    setup.insert(old);
    setup.insert(quiet);
    await setup.settled();
    db.prepare('UPDATE calls SET cost_usd = NULL, usage_cost_usd = NULL').run();
    for (const e of usage) db.prepare("INSERT INTO call_events (call_id, seq, at, type, data) VALUES (?, ?, ?, 'usage', ?)").run(old.id, e.seq, e.at, JSON.stringify(e.data));

    const day = '2026-03-02T00:00:00.000Z';
    const calls = new CallsRepo(sqliteStore(db), { pricer: callPricer(prices, PER_MINUTE), now: () => clock });
    assert.equal(await calls.spentSince(day), 0, 'unpriced, the day would look free');
    assert.equal(await calls.priceUnpriced(), 2);
    await calls.settled();
    const expected = computeCost((await calls.get(old.id))!, usage, prices, PER_MINUTE, clock).total + computeCost((await calls.get(quiet.id))!, [], prices, PER_MINUTE, clock).total;
    assert.ok(expected > 0.01, `a cost worth comparing: ${expected}`);
    const fresh = new CallsRepo(sqliteStore(db), { pricer: callPricer(prices, PER_MINUTE), now: () => clock });
    assert.ok(Math.abs((await fresh.spentSince(day)) - expected) < 1e-5, `${await fresh.spentSince(day)} against ${expected}`);
    assert.equal(await fresh.priceUnpriced(), 0, 'priced once');
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

storeTest('calls: restart recovery ends the calls no live node holds, not another live node\'s (on SQLite, one node: every call not ended)', async ({ store }) => {
  const clock = NOW.getTime();
  const mine = new CallsRepo(store, { nodeId: 'a', now: () => clock });
  const theirs = new CallsRepo(store, { nodeId: 'b', now: () => clock });
  const own = newCall('+14155550151');
  const held = newCall('+14155550152');
  const expired = newCall('+14155550153');
  const ended = newCall('+14155550154', { status: 'ended' });
  mine.insert(own);
  mine.insert(ended);
  theirs.insert(held);
  theirs.insert({ ...expired });
  await Promise.all([mine.settled(), theirs.settled()]);
  await store.db.updateTable('calls').set({ lease_until: new Date(clock - 1).toISOString() }).where('id', '=', expired.id).execute();
  const ids = (await new CallsRepo(store, { nodeId: 'a', now: () => clock }).listOrphaned()).map((r) => r.id).sort();
  assert.deepEqual(ids, (store.dialect === 'sqlite' ? [own.id, held.id, expired.id] : [own.id, expired.id]).sort());
});

storeTest('calls: a lost node\'s calls (lease ran out) are ended by exactly one other node; a live lease, ended calls and own calls are untouched (SQLite: none)', async ({ store }) => {
  const clock = NOW.getTime();
  const a = new CallsRepo(store, { nodeId: 'a', now: () => clock });
  const b = new CallsRepo(store, { nodeId: 'b', now: () => clock });
  const c = new CallsRepo(store, { nodeId: 'c', now: () => clock });
  const lost = newCall('+14155550161');
  const live = newCall('+14155550162');
  const own = newCall('+14155550163');
  c.insert(lost);
  c.insert(live);
  a.insert(own);
  await Promise.all([a.settled(), c.settled()]);
  await store.db.updateTable('calls').set({ lease_until: new Date(clock - 1).toISOString() }).where('id', 'in', [lost.id, own.id]).execute();
  if (store.dialect === 'sqlite') {
    assert.deepEqual(await new CallLeases(a).listExpired(), [], 'one node: nothing is another node\'s');
    assert.equal(await new CallLeases(a).endExpired(lost.id, { endReason: 'node-lost', endedAt: NOW.toISOString(), error: 'x' }), undefined);
    return;
  }
  assert.deepEqual((await new CallLeases(a).listExpired()).map((r) => r.id), [lost.id], 'not its own call, not a call with a current lease');
  const patch = { endReason: 'node-lost' as const, endedAt: NOW.toISOString(), error: 'node c was lost' };
  const won = (await Promise.all([new CallLeases(a).endExpired(lost.id, patch), new CallLeases(b).endExpired(lost.id, patch)])).filter(Boolean);
  assert.equal(won.length, 1, 'two nodes sweeping at once: one ends the call');
  assert.equal(won[0]!.status, 'ended');
  assert.equal(won[0]!.endReason, 'node-lost');
  // The lost node was alive after all (cut off from the database) and moves its call on: ended stays ended.
  c.update(lost.id, { status: 'talking' });
  await c.settled();
  assert.equal((await new CallsRepo(store).get(lost.id))!.status, 'ended');
  assert.equal(await new CallLeases(a).endExpired(live.id, patch), undefined, 'a call whose node renews its lease is never ended');
  const stored = (await new CallsRepo(store).get(live.id))!;
  assert.equal(stored.status, 'queued');
  assert.deepEqual(await new CallLeases(b).listExpired().then((r) => r.map((x) => x.id)), [own.id], 'a\'s own expired call is b\'s to sweep, and the ended one is gone');
});

storeTest('calls: another node\'s live call is read from the table each time, so its end is seen (not a copy kept as first read)', async ({ store }) => {
  if (store.dialect === 'sqlite') return; // one node: every call is its own
  const a = new CallsRepo(store, { nodeId: 'a' });
  const b = new CallsRepo(store, { nodeId: 'b' });
  const call = newCall('+14155550171');
  a.insert(call);
  a.update(call.id, { status: 'talking' });
  await a.settled();
  assert.equal((await b.get(call.id))!.status, 'talking');
  a.update(call.id, { status: 'ended', endReason: 'callee-hangup', endedAt: NOW.toISOString() });
  await a.settled();
  assert.equal((await b.get(call.id))!.status, 'ended', 'node b sees the end node a wrote');
});

test('[postgres] caps across two nodes: concurrent admissions on two pools never exceed MAX_CONCURRENT_CALLS or MAX_CALLS_PER_DAY, and an expired lease stops counting', { skip: TEST_DATABASE_URL ? undefined : 'PostgreSQL: TEST_DATABASE_URL is not set' }, async () => {
  const fresh = await freshPostgresDatabase();
  const stores = [await openPostgresStore(fresh.url, { max: 4 }), await openPostgresStore(fresh.url, { max: 4 })];
  try {
    const settings = { MAX_CONCURRENT_CALLS: 2, MAX_CALLS_PER_DAY: 5, MAX_COST_PER_DAY_USD: 0 };
    const nodes = stores.map((s, i) => {
      const calls = new CallsRepo(s, { nodeId: `node-${i}` });
      return { calls, caps: new CallCaps(settings, calls) };
    });
    const now = new Date();
    const wave = async () => {
      const tries = nodes.flatMap((n) => Array.from({ length: 6 }, () => n.caps.admit(newCall('+14155550140', {}, now), () => 0, now)));
      return (await Promise.all(tries)).filter((r) => r === undefined).length;
    };
    const liveRows = async () => Number((await stores[0]!.db.selectFrom('calls').select((eb) => eb.fn.countAll().as('n')).where('status', '!=', 'ended').executeTakeFirstOrThrow()).n);
    assert.equal(await wave(), 2, 'twelve at once on two nodes: two admitted');
    assert.equal(await liveRows(), 2);

    // Both end; the next wave fills the lines again, within the day's five.
    for (const n of nodes) for (const r of await n.calls.listLive()) n.calls.update(r.id, { status: 'ended', endReason: 'callee-hangup', endedAt: new Date().toISOString() });
    await Promise.all(nodes.map((n) => n.calls.settled()));
    assert.equal(await wave(), 2);

    // A node crashes holding its two calls: while their lease holds they count, once expired they do not.
    assert.equal(await wave(), 0, 'the lines are full');
    await stores[0]!.db.updateTable('calls').set({ lease_until: new Date(now.getTime() - 1).toISOString() }).where('status', '!=', 'ended').execute();
    assert.equal(await wave(), 1, "the dead node's calls no longer count; the day allows one more (5 in all)");
    assert.equal(await wave(), 0, 'MAX_CALLS_PER_DAY reached');
    const total = Number((await stores[0]!.db.selectFrom('calls').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    assert.equal(total, 5, 'never more calls than the day allows');
    assert.ok(CALL_LEASE_MS >= 30_000);
  } finally {
    for (const s of stores) await s.close();
    await fresh.drop();
  }
});
