import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/database.js';
import { EventsRepo } from '../../src/store/events-repo.js';
import { Timeline } from '../../src/records/timeline.js';

const tick = () => new Promise((r) => setImmediate(r));

function setup() {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'callwright-batch-')), 'db.sqlite'));
  const insertCall = db.prepare(
    "INSERT INTO calls (id, created_at, updated_at, to_number, instructions, provider, status, carrier, stream_secret) VALUES (?, 'now', 'now', '+1', 'x', 'openai', 'talking', 'twilio', 's')",
  );
  for (let i = 0; i < 10; i++) insertCall.run(`c${i}`);
  const repo = new EventsRepo(db);
  return { db, repo, timeline: new Timeline(repo) };
}

test("a burst of events (ten calls starting at once) is one transaction after the turn, not one per event; reads see them before", async () => {
  const { db, repo, timeline } = setup();
  const stored = () => db.prepare('SELECT count(*) FROM call_events').pluck().get() as number;
  const before = repo.transactions;
  for (let i = 0; i < 10; i++) for (const type of ['status', 'carrier.dialed', 'engine.ready', 'media.attached', 'greeting.start'] as const) timeline.append(`c${i}`, type, { i });
  assert.equal(stored(), 0, 'nothing written during the turn that made the events');
  assert.equal(repo.pendingCount, 50);
  assert.deepEqual((await timeline.list('c3')).map((e) => [e.seq, e.type]), [[1, 'status'], [2, 'carrier.dialed'], [3, 'engine.ready'], [4, 'media.attached'], [5, 'greeting.start']], 'reads see held events, in order');
  await tick();
  assert.equal(repo.transactions - before, 1, '50 events, one transaction');
  assert.equal(stored(), 50);
  assert.equal(repo.pendingCount, 0);
  // The next turn's events make the next batch, numbered on.
  timeline.append('c3', 'status', { status: 'ended' });
  await tick();
  assert.equal(repo.transactions - before, 2);
  assert.deepEqual((await timeline.list('c3')).map((e) => e.seq), [1, 2, 3, 4, 5, 6]);
});

test('shutdown writes what is held at once; an event of an unknown call is left out of its batch, the rest written', async () => {
  const { db } = setup();
  const logs: string[] = [];
  const r2 = new EventsRepo(db, (m) => logs.push(m));
  r2.append('c1', 'status', {});
  r2.append('nope', 'status', {}); // foreign key: never storable
  r2.append('c1', 'records.complete', {});
  assert.equal(await r2.flush(0), 0);
  assert.deepEqual(db.prepare("SELECT type FROM call_events WHERE call_id = 'c1' ORDER BY seq").pluck().all(), ['status', 'records.complete']);
  assert.ok(logs.some((l) => /dropped/.test(l)));
});
