// PostgreSQL writes that fail for a passing reason (a dropped connection, a failover, a deadlock) are tried
// again; those that would fail again (a constraint, bad data) are not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTransient, withRetries } from '../../src/store/sql/transient.js';

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
