// DELETE /api/calls/:id on a node that did not run the call, both on one PostgreSQL: refused while the node
// that ran it may still be writing its late records (recording, price, outcome), allowed once they are
// complete, or once the window for them has passed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/server/app.js';
import { parseSettings } from '../../src/config/settings.js';
import { CallsRepo, newCallRow } from '../../src/store/calls-repo.js';
import { EventsRepo } from '../../src/store/events-repo.js';
import { openPostgresStore } from '../../src/store/sql/sql-store.js';
import { freshPostgresDatabase, TEST_DATABASE_URL } from '../store-backends.js';

test("another node's ended call is deleted only once its records are complete, or long after it ended", { skip: TEST_DATABASE_URL ? false : 'TEST_DATABASE_URL is not set (scripts/test-postgres.sh)' }, async () => {
  const pg = await freshPostgresDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'callwright-delete-'));
  const app = await buildApp({ settings: parseSettings({ DATA_DIR: dir, CLIENTS_DIR: join(dir, 'clients'), DATABASE_URL: pg.url, NODE_ID: 'node-b', RATE_LIMIT_PER_MINUTE: '0', KNOWLEDGE_WATCH: 'false' }), apiToken: 'tok', logger: false });
  const other = await openPostgresStore(pg.url);
  try {
    const a = new CallsRepo(other, { nodeId: 'node-a' });
    const events = new EventsRepo(other);
    const now = Date.now();
    const ended = (minutesAgo: number) => {
      const row = newCallRow({ to: '+14155550123', from: '+14155550100', clientId: null, clientName: null, instructions: 'x', provider: 'openai', carrier: 'twilio', carrierCallId: null, direction: 'outbound' }, new Date(now - minutesAgo * 60_000 - 60_000));
      a.insert(row);
      a.update(row.id, { status: 'ended', endReason: 'callee-hangup', endedAt: new Date(now - minutesAgo * 60_000).toISOString() });
      return row.id;
    };
    const recent = ended(1);
    const old = ended(30);
    await a.settled();
    const del = (id: string) => app.server.inject({ method: 'DELETE', url: `/api/calls/${id}`, headers: { authorization: 'Bearer tok' } });

    const refused = await del(recent);
    assert.equal(refused.statusCode, 409, refused.body);
    assert.match(refused.json().error.message, /still arriving on node node-a/);
    assert.equal((await del(old)).statusCode, 200, 'ended half an hour ago: whatever became of node-a, nothing more comes');

    events.append(recent, 'records.complete', {});
    await events.flush(5000);
    const done = await del(recent);
    assert.equal(done.statusCode, 200, done.body);
  } finally {
    await app.close();
    await other.close();
    await pg.drop();
  }
});
