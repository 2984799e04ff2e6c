import { sqliteStore } from '../../src/store/sql/sql-store.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/database.js';
import { CallsRepo, newCallRow } from '../../src/store/calls-repo.js';

test("a live call's row is read from memory, not the table, through the webhook and status paths; what is read is current and stored", async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'callwright-kept-')), 'db.sqlite');
  const db = openDatabase(file);
  const calls = new CallsRepo(sqliteStore(db));
  const row = newCallRow({ to: '+14155550123', from: '+14155550100', clientId: null, clientName: null, instructions: 'x', provider: 'openai', carrier: 'twilio', carrierCallId: null, direction: 'outbound' }, new Date());
  calls.insert(row);
  // About what one call's start and end read: status and AMD callbacks, TwiML, stream, ending, records.
  for (const status of ['dialing', 'ringing', 'answered', 'talking'] as const) {
    assert.equal((await calls.get(row.id))!.status !== status, true);
    calls.update(row.id, { status });
  }
  calls.update(row.id, { carrierCallId: 'CA' + 'f'.repeat(32) });
  for (let i = 0; i < 20; i++) {
    assert.equal((await calls.get(row.id))!.status, 'talking');
    assert.equal((await calls.getByCarrierId('CA' + 'f'.repeat(32)))!.id, row.id);
  }
  const copy = (await calls.get(row.id))!;
  copy.status = 'ended'; // a reader's copy is its own
  assert.equal((await calls.get(row.id))!.status, 'talking');
  assert.equal(calls.selects, 0, 'no SELECT for a kept row');
  calls.update(row.id, { status: 'ended', endReason: 'callee-hangup' });
  const fresh = new CallsRepo(sqliteStore(db));
  const stored = (await fresh.get(row.id))!;
  assert.equal(fresh.selects, 1);
  assert.deepEqual(stored, (await calls.get(row.id)), 'the kept row is the stored row');
});
