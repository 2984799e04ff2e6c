// PostgreSQL writes that fail for a passing reason (a dropped connection, a failover, a deadlock) are tried
// again; those that would fail again (a constraint, bad data) are not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTransient, withRetries } from '../../src/store/sql/transient.js';
import { CallsRepo, newCallRow } from '../../src/store/calls-repo.js';
import { storeTest } from '../store-backends.js';

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

test('which failures are worth another try', () => {
  for (const err of [new Error('Connection terminated unexpectedly'), Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), pgError('57P01'), pgError('08006'), pgError('40001'), pgError('40P01'), pgError('53300')]) {
    assert.equal(isTransient(err), true, err.message);
  }
  for (const err of [pgError('23505'), pgError('23503'), pgError('22P02'), pgError('42P01')]) assert.equal(isTransient(err), false, err.message);
});

test('a write is tried again while it fails transiently, in order, and given up on a lasting failure', async () => {
  let tries = 0;
  const retried: number[] = [];
  const ok = await withRetries(
    async () => {
      if (++tries < 3) throw pgError('57P01'); // "terminating connection due to administrator command": a failover
      return 'written';
    },
    { delaysMs: [1, 1, 1], onRetry: (_e, n) => retried.push(n) },
  );
  assert.equal(ok, 'written');
  assert.deepEqual(retried, [1, 2]);

  let constraintTries = 0;
  await assert.rejects(
    withRetries(async () => {
      constraintTries++;
      throw pgError('23503');
    }, { delaysMs: [1, 1] }),
    /23503/,
  );
  assert.equal(constraintTries, 1, 'a constraint failure is not tried again');

  let downTries = 0;
  await assert.rejects(
    withRetries(async () => {
      downTries++;
      throw new Error('Connection terminated');
    }, { delaysMs: [1, 1] }),
    /Connection terminated/,
  );
  assert.equal(downTries, 3, 'given up after the last pause');
});

storeTest('PostgreSQL: a call write cut by a dropped connection is tried again, not lost, and the call\'s later writes wait behind it', async (s) => {
  if (s.sqlite) return; // SQLite writes run at once (the StoreWriter queues them while the database is locked)
  let cut = 0;
  const db = new Proxy(s.store.db, {
    get(target, prop) {
      if (prop === 'executeQuery') {
        return (...args: unknown[]) => (cut-- > 0 ? Promise.reject(new Error('Connection terminated unexpectedly')) : (target.executeQuery as (...a: unknown[]) => unknown).apply(target, args));
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v; // Kysely's private fields need the real instance
    },
  });
  const logs: string[] = [];
  const calls = new CallsRepo({ ...s.store, db } as typeof s.store, { nodeId: 'node-a', retryDelaysMs: [5, 5, 5], log: (m) => void logs.push(m) });
  const row = newCallRow({ to: '+14155550123', from: '+14155550100', clientId: null, clientName: null, instructions: 'x', provider: 'openai', carrier: 'twilio', carrierCallId: null, direction: 'outbound' }, new Date());
  calls.insert(row);
  await calls.settled();
  cut = 2; // the next write fails twice, then goes through; the one after it waits its turn
  calls.update(row.id, { status: 'answered', answeredAt: new Date().toISOString() });
  calls.update(row.id, { status: 'ended', endReason: 'callee-hangup', endedAt: new Date().toISOString() });
  await calls.settled();
  const stored = await new CallsRepo(s.store).get(row.id);
  assert.equal(stored?.status, 'ended');
  assert.ok(stored?.answeredAt, 'the write that failed twice is in too');
  assert.ok(logs.some((l) => /trying again/.test(l)), logs.join('\n'));
});
