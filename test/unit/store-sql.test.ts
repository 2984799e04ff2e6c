// The query layer (src/store/sql) and the repositories on it, on SQLite and on PostgreSQL (test/store-backends.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { RefusalsRepo } from '../../src/store/refusals-repo.js';
import { IdempotencyRepo } from '../../src/store/idempotency-repo.js';
import { ScheduledCallsRepo } from '../../src/store/scheduled-calls-repo.js';
import { CampaignsRepo } from '../../src/store/campaigns-repo.js';
import { WebhookReceiptsRepo } from '../../src/store/webhook-receipts-repo.js';
import type { Campaign } from '../../src/campaigns/campaign-schema.js';
import { databaseKind, openPostgresStore, redactUrl } from '../../src/store/sql/sql-store.js';
import { pgMigrations } from '../../src/store/sql/pg-migrations.js';
import { parseSettings } from '../../src/config/settings.js';
import { freshPostgresDatabase, storeTest, TEST_DATABASE_URL } from '../store-backends.js';

const refusal = (at: string, rule = 'do-not-call') => ({ at, to: '+14155550123', clientId: null, rule, message: `refused at ${at}` });

storeTest('refusals: ids in order, newest first, paged by id, counted since a time', async ({ store }) => {
  const repo = new RefusalsRepo(store);
  const made = [];
  for (let i = 0; i < 5; i++) made.push(await repo.insert(refusal(`2026-03-0${i + 1}T12:00:00.000Z`, i % 2 ? 'calling-hours' : 'do-not-call')));
  assert.deepEqual(made.map((r) => r.id), [1, 2, 3, 4, 5]);
  const page = await repo.list(2);
  assert.deepEqual(page.map((r) => r.id), [5, 4]);
  assert.deepEqual(page[0], { id: 5, at: '2026-03-05T12:00:00.000Z', to: '+14155550123', clientId: null, rule: 'do-not-call', message: 'refused at 2026-03-05T12:00:00.000Z' });
  assert.deepEqual((await repo.list(10, 4)).map((r) => r.id), [3, 2, 1]);
  assert.deepEqual(await repo.list(10, 1), []);
  assert.equal(await repo.countSince('2026-03-03T12:00:00.000Z'), 3);
  assert.equal(await repo.countSince('2027-01-01T00:00:00.000Z'), 0);
});

storeTest('idempotency keys: claimed once, even by claims made at the same moment; stored answers read back; release and purge', async ({ store }) => {
  const repo = new IdempotencyRepo(store);
  const at = new Date('2026-03-01T00:00:00Z');
  const claims = await Promise.all(Array.from({ length: 8 }, () => repo.claim('k', 'hash', at)));
  assert.equal(claims.filter(Boolean).length, 1, 'one claim of eight wins');
  assert.deepEqual(await repo.get('k'), { bodyHash: 'hash', createdAt: at.toISOString(), response: null });
  await repo.complete('k', 201, { id: 'c1', n: [1, 2] });
  assert.deepEqual((await repo.get('k'))!.response, { status: 201, body: { id: 'c1', n: [1, 2] } });
  await repo.release('k');
  assert.equal(await repo.get('k'), undefined);
  assert.equal(await repo.claim('k', 'hash2', at), true, 'a released key can be claimed again');
  await repo.claim('later', 'h', new Date('2026-03-02T00:00:00Z'));
  await repo.purge(new Date('2026-03-01T12:00:00Z'));
  assert.equal(await repo.get('k'), undefined, 'purged');
  assert.ok(await repo.get('later'), 'kept');
});

test('DATABASE_URL: unset is SQLite; postgres:// is PostgreSQL; anything else is refused, without the password', () => {
  assert.equal(databaseKind(undefined), 'sqlite');
  assert.equal(databaseKind(''), 'sqlite');
  assert.equal(databaseKind('postgres://u:p@h/db'), 'postgres');
  assert.equal(databaseKind('postgresql://h/db'), 'postgres');
  assert.throws(() => databaseKind('mysql://u:secret@h/db'), (e: Error) => /postgres:\/\//.test(e.message) && !e.message.includes('secret'));
  assert.equal(redactUrl('postgres://user:secret@host:5432/db'), 'postgres://user:***@host:5432/db');
  assert.equal(parseSettings({ DATABASE_URL: '' }).DATABASE_URL, undefined);
  assert.equal(parseSettings({ DATABASE_URL: 'postgres://h/db' }).DATABASE_URL, 'postgres://h/db');
  assert.throws(() => parseSettings({ DATABASE_URL: 'sqlite:///x.db' }), /DATABASE_URL/);
});

test('PostgreSQL migrations: nodes starting together apply each once, and a restart applies none', { skip: TEST_DATABASE_URL ? undefined : 'PostgreSQL: TEST_DATABASE_URL is not set (scripts/test-postgres.sh)' }, async () => {
  const fresh = await freshPostgresDatabase();
  try {
    const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore(fresh.url, { max: 2 })));
    const versions = await sql<{ version: number }>`SELECT version FROM schema_migrations ORDER BY version`.execute(stores[0].db);
    assert.deepEqual(versions.rows.map((r) => r.version), pgMigrations.map((m) => m.version));
    await Promise.all(stores.map((s) => s.close()));
    const again = await openPostgresStore(fresh.url, { max: 1 });
    const tables = await sql<{ n: number }>`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`.execute(again.db);
    assert.equal(tables.rows[0].n, 12, 'the store\'s 11 tables and schema_migrations');
    await again.close();
  } finally {
    await fresh.drop();
  }
});

storeTest('scheduled calls: due in time order, claimed by exactly one of many conditional updates, finished with what came of them', async ({ store }) => {
  const repo = new ScheduledCallsRepo(store);
  const base = { createdAt: '2026-05-04T09:00:00.000Z', request: { to: '+14155550123', instructions: 'x' }, to: '+14155550123', clientId: null };
  await repo.insert({ ...base, id: 'b', scheduledAt: '2026-05-04T10:00:02.000Z' });
  await repo.insert({ ...base, id: 'a', scheduledAt: '2026-05-04T10:00:01.000Z', clientId: 'raju' });
  await repo.insert({ ...base, id: 'c', scheduledAt: '2026-05-05T10:00:00.000Z' });
  assert.equal((await repo.nextDueAt())!.toISOString(), '2026-05-04T10:00:01.000Z');
  assert.deepEqual((await repo.due(new Date('2026-05-04T10:00:02.000Z'))).map((r) => r.id), ['a', 'b']);
  const a = (await repo.get('a'))!;
  assert.deepEqual(a, { id: 'a', createdAt: base.createdAt, scheduledAt: '2026-05-04T10:00:01.000Z', status: 'scheduled', request: base.request, to: base.to, clientId: 'raju', callId: null, reason: null, updatedAt: base.createdAt });
  const now = new Date('2026-05-04T10:00:03.000Z');
  const claims = await Promise.all(Array.from({ length: 6 }, () => repo.transition('a', 'scheduled', 'dialing', now)));
  assert.equal(claims.filter(Boolean).length, 1, 'one claim of six wins');
  await repo.finish('a', 'placed', now, { callId: 'call-1' });
  await repo.transition('b', 'scheduled', 'cancelled', now, 'cancelled by a user');
  assert.equal(await repo.transition('b', 'scheduled', 'dialing', now), false, 'a cancelled row cannot be claimed');
  assert.deepEqual(await repo.get('a').then((r) => [r!.status, r!.callId, r!.reason]), ['placed', 'call-1', null]);
  assert.deepEqual(await repo.get('b').then((r) => [r!.status, r!.reason]), ['cancelled', 'cancelled by a user']);
  assert.deepEqual((await repo.list(undefined, 10)).map((r) => r.id), ['c', 'b', 'a'], 'all of them, latest first');
  assert.deepEqual((await repo.list('scheduled', 10)).map((r) => r.id), ['c']);
  assert.equal((await repo.nextDueAt())!.toISOString(), '2026-05-05T10:00:00.000Z');
  assert.equal(await repo.get('nope'), undefined);
});

storeTest('campaigns: claims from many nodes at once never pass the concurrency, each number once; leases, settling and orphans', async ({ store }) => {
  const repo = new CampaignsRepo(store);
  const t = (s: number) => new Date(Date.parse('2026-06-01T10:00:00Z') + s * 1000);
  const spec = { instructions: 'x', concurrency: 3, retries: { noAnswer: 0, busy: 0, backoffMinutes: 1 } } as unknown as Campaign['spec'];
  const c: Campaign = { id: 'camp-1', name: 'Reminders', status: 'active', createdAt: t(0).toISOString(), updatedAt: t(0).toISOString(), spec, total: 250 };
  await repo.insert(c, Array.from({ length: 250 }, (_, i) => ({ to: `+1415555${String(i).padStart(4, '0')}`, variables: { n: i }, timezone: null })));
  assert.deepEqual(await repo.progress(c.id), { total: 250, pending: 250, inFlight: 0, done: 0 });
  assert.equal((await repo.get(c.id))!.spec.concurrency, 3);
  assert.deepEqual((await repo.working()).map((x) => x.id), [c.id]);

  // Five nodes claim at the same moment: three numbers in all, none twice.
  const claims = await Promise.all(['n1', 'n2', 'n3', 'n4', 'n5'].map((node) => repo.claimDue(c.id, node, t(1), t(61), 3)));
  const all = claims.flat();
  assert.equal(all.length, 3);
  assert.equal(new Set(all.map((n) => n.index)).size, 3);
  assert.ok(all.every((n) => n.state === 'dialing' && n.attempts === 1));
  const [first] = all;
  const owner = ['n1', 'n2', 'n3', 'n4', 'n5'][claims.findIndex((cl) => cl.some((n) => n.index === first!.index))]!;

  assert.equal(await repo.markCalling(c.id, first!.index, 'someone-else', 'call-x', t(2)), false, 'only the owner writes');
  assert.equal(await repo.markCalling(c.id, first!.index, owner, 'call-1', t(2)), true);
  assert.deepEqual((await repo.number(c.id, first!.index))!.callIds, ['call-1']);
  assert.equal(await repo.release(c.id, first!.index, owner, { nextAt: t(100), now: t(3), detail: 'no answer', endReason: 'no-answer', uncount: false }), true);
  assert.equal((await repo.claimDue(c.id, owner, t(4), t(64), 3)).length, 1, 'a released slot is claimed again (not the released number: it waits)');
  assert.ok(!(await repo.claimDue(c.id, owner, t(99), t(159), 500, 500)).some((n) => n.index === first!.index), 'not before its backoff ends');
  const again = (await repo.claimDue(c.id, owner, t(101), t(161), 500)).map((n) => n.index);
  assert.deepEqual(again, [first!.index], 'due again after its backoff');
  assert.equal(await repo.markCalling(c.id, first!.index, owner, 'call-2', t(102)), true);
  const n = (await repo.number(c.id, first!.index))!;
  assert.deepEqual([n.callIds, n.attempts, n.endReason], [['call-1', 'call-2'], 2, 'no-answer']);
  assert.equal(await repo.finish(c.id, first!.index, owner, { outcome: 'answered' as never, endReason: 'callee-hangup', detail: null, now: t(103) }), true);
  assert.equal(await repo.finish(c.id, first!.index, owner, { outcome: 'answered' as never, endReason: 'callee-hangup', detail: null, now: t(103) }), false, 'finished once');

  // A node that died: its leases run out and another node adopts its numbers.
  const held = async (node: string) => (await repo.held(node)).length;
  const dead = ['n1', 'n2', 'n3', 'n4', 'n5'].find((x) => x !== owner && claims[['n1', 'n2', 'n3', 'n4', 'n5'].indexOf(x)]!.length > 0);
  if (dead) {
    const had = await held(dead);
    assert.equal(await repo.adoptOrphans('n9', t(30), t(90)), 0, 'leases still running');
    assert.ok((await repo.adoptOrphans('n9', t(62), t(122))) >= had);
    assert.equal(await held(dead), 0);
  }
  await repo.renewLeases('n9', t(200));
  assert.equal(await repo.setStatus(c.id, ['paused'], 'active', t(5)), false);
  assert.equal(await repo.setStatus(c.id, ['active'], 'cancelled', t(5)), true);
  const cancelled = await repo.cancelPending(c.id, t(6));
  const p = await repo.progress(c.id);
  assert.equal(cancelled, 0, 'every number was claimed');
  assert.equal(p.cancelled, undefined);
  assert.equal(p.total, 250);
  assert.equal(p.pending, 0);
  assert.deepEqual((await repo.claimDue(c.id, 'n9', t(300), t(360), 3)), [], 'a cancelled campaign claims nothing');
  assert.deepEqual((await repo.list(10)).map((x) => [x.id, x.status]), [[c.id, 'cancelled']]);
});

test('a PostgreSQL server that cannot be reached fails the start with the URL (not its password) and the reason', async () => {
  await assert.rejects(openPostgresStore('postgres://cw:hunter2@127.0.0.1:1/none', { max: 1 }), (e: Error) => {
    assert.match(e.message, /postgres:\/\/cw:\*\*\*@127\.0\.0\.1:1\/none/);
    assert.match(e.message, /ECONNREFUSED|connect/);
    assert.ok(!e.message.includes('hunter2'));
    return true;
  });
});

storeTest('webhook receipts: a key is applied once, even when claimed at the same moment; old receipts are pruned', async ({ store }) => {
  const repo = new WebhookReceiptsRepo(store);
  const claims = await Promise.all(Array.from({ length: 6 }, () => repo.claim('call-1:status:ringing', new Date('2026-03-01T00:00:00Z'))));
  assert.equal(claims.filter(Boolean).length, 1, 'one claim of six wins');
  assert.equal(await repo.claim('call-1:status:answered', new Date('2026-03-08T00:00:00Z')), true);
  assert.equal(await repo.claim('call-1:status:ringing'), false, 'a retry later is still a duplicate');
  assert.equal(await repo.prune(new Date('2026-03-05T00:00:00Z')), 1);
  assert.equal(await repo.claim('call-1:status:answered'), false, 'a recent receipt survives the prune');
});
