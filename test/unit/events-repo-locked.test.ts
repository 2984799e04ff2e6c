import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase } from '../../src/store/database.js';
import { EventsRepo } from '../../src/store/events-repo.js';
import { Timeline } from '../../src/records/timeline.js';
import { until } from '../e2e/helpers.js';

function setup() {
  const file = join(mkdtempSync(join(tmpdir(), 'callwright-lock-')), 'db.sqlite');
  const db = openDatabase(file);
  const insertCall = db.prepare(
    "INSERT INTO calls (id, created_at, updated_at, to_number, instructions, provider, status, carrier, stream_secret) VALUES (?, 'now', 'now', '+1', 'x', 'openai', 'talking', 'twilio', 's')",
  );
  for (const id of ['a', 'b']) insertCall.run(id);
  const logs: string[] = [];
  const repo = new EventsRepo(db, (msg) => logs.push(msg));
  return { file, db, repo, timeline: new Timeline(repo), logs };
}

/** Timeline events are written in batches, right after the turn of the event loop that made them. */
const tick = () => new Promise((r) => setImmediate(r));
const stored = (db: Database.Database, callId: string) => db.prepare('SELECT seq, type FROM call_events WHERE call_id = ? ORDER BY seq').all(callId) as Array<{ seq: number; type: string }>;

test('a database locked by another connection defers timeline writes without blocking; they land in order afterwards', async () => {
  const { file, db, timeline, repo } = setup();
  timeline.append('a', 'engine.ready', {});
  await tick();
  const other = new Database(file);
  other.exec('BEGIN IMMEDIATE'); // holds the write lock
  const live: number[] = [];
  timeline.subscribe('a', (e) => live.push(e.seq));
  const t0 = performance.now();
  for (let i = 0; i < 50; i++) {
    timeline.append('a', 'usage', { i });
    timeline.append('b', 'usage', { i });
  }
  assert.ok(performance.now() - t0 < 500, 'appending never waited on the lock');
  assert.equal(repo.pendingCount, 100);
  assert.equal(live.length, 50, 'subscribers saw every event live');
  assert.deepEqual((await timeline.list('a')).map((e) => e.seq), Array.from({ length: 51 }, (_, i) => i + 1), 'reads include the pending events');
  await new Promise((r) => setTimeout(r, 120)); // a few retries fail while the lock is held
  assert.equal(repo.pendingCount, 100);
  other.exec('COMMIT');
  await until('backlog written', () => repo.pendingCount === 0, 5000);
  const a = stored(db, 'a');
  assert.deepEqual(a.map((r) => r.seq), Array.from({ length: 52 }, (_, i) => i + 1), 'no gap, in order');
  assert.deepEqual(a.slice(1, 51).map((r) => r.type), Array(50).fill('usage'));
  assert.equal(a.at(-1)!.type, 'store.delayed', 'the record says the events were written late');
  const delayed = (await timeline.list('a')).at(-1)!;
  assert.equal(delayed.data.events, 50);
  assert.ok((delayed.data.delayMs as number) >= 100);
  assert.equal(stored(db, 'b').length, 51);
  other.close();
});

test('an event that can never be stored is dropped with a log line and does not hold back the others', async () => {
  const { file, db, timeline, repo, logs } = setup();
  const other = new Database(file);
  other.exec('BEGIN IMMEDIATE');
  timeline.append('a', 'carrier.dialed', {});
  timeline.append('no-such-call', 'dtmf', {}); // foreign key: can never be written
  timeline.append('a', 'engine.ready', {});
  await tick(); // the batch finds the database locked
  other.exec('COMMIT');
  await until('backlog written', () => repo.pendingCount === 0, 5000);
  assert.deepEqual(stored(db, 'a').map((r) => r.type), ['carrier.dialed', 'engine.ready', 'store.delayed']);
  assert.ok(logs.some((l) => /dropped/.test(l)));
  other.close();
});

test('at shutdown the backlog is written, waiting on the lock if it must', async () => {
  const { file, db, timeline } = setup();
  const other = new Database(file);
  other.exec('BEGIN IMMEDIATE');
  timeline.append('a', 'records.complete', {});
  assert.equal(await timeline.flush(0), 1, 'still locked');
  other.exec('COMMIT');
  assert.equal(await timeline.flush(1000), 0);
  assert.deepEqual(stored(db, 'a').map((r) => r.type), ['records.complete', 'store.delayed']);
  other.close();
});
