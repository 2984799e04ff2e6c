import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { openDatabase } from '../../src/store/database.js';
import { sqliteStore } from '../../src/store/sql/sql-store.js';
import { ScheduledCallsRepo } from '../../src/store/scheduled-calls-repo.js';
import { CallScheduler, type Clock } from '../../src/calls/scheduler.js';
import { CallRequestError, type CreateCallInput } from '../../src/calls/call-request.js';

/** A clock the test moves: timers fire only when `advance` passes their time. */
class FakeClock implements Clock {
  private timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;
  constructor(public t: number) {}
  now = () => new Date(this.t);
  setTimer = (fn: () => void, ms: number) => {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimer = (h: unknown) => void this.timers.delete(h as number);
  /** Moves time on, firing each timer that comes due, in time order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = [...this.timers.entries()].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = end;
  }
}

const T0 = Date.parse('2026-05-04T10:00:00Z');
const silent = { info() {}, warn() {}, error() {} };
const request = (at: number, extra: Partial<CreateCallInput> = {}): CreateCallInput => ({ to: '+14155550123', instructions: 'Book a table for two.', scheduledAt: new Date(at).toISOString(), ...extra });

function setup(o: { file?: string; clock?: FakeClock; dial?: (input: CreateCallInput) => Promise<{ id: string }>; checkAhead?: (input: CreateCallInput, at: Date) => Promise<void> } = {}) {
  const db = openDatabase(o.file ?? ':memory:');
  const repo = new ScheduledCallsRepo(sqliteStore(db));
  const clock = o.clock ?? new FakeClock(T0);
  const dialled: CreateCallInput[] = [];
  const scheduler = new CallScheduler({
    repo,
    clock,
    dial: o.dial ?? (async (input) => (dialled.push(input), { id: `call-${dialled.length}` })),
    checkAhead: o.checkAhead ?? (async () => undefined),
    maxAheadMs: 30 * 86_400_000,
    graceMs: 15 * 60_000,
    log: silent,
  });
  return { db, repo, clock, scheduler, dialled };
}

const tmpDb = () => join(mkdtempSync(join(tmpdir(), 'cw-sched-')), 'callwright.db');

test('a scheduled call dials once, at its time, with the request it was given (and no scheduledAt)', async () => {
  const { scheduler, clock, dialled } = setup();
  await scheduler.start();
  const s = await scheduler.schedule(request(T0 + 2000, { clientId: 'raju' }));
  assert.equal(s.status, 'scheduled');
  assert.equal(s.scheduledAt, '2026-05-04T10:00:02.000Z');
  assert.deepEqual((await scheduler.list('scheduled', 10)).map((x) => x.id), [s.id]);
  clock.advance(1999);
  await scheduler.idle();
  assert.equal(dialled.length, 0, 'not before its time');
  clock.advance(1);
  await scheduler.idle();
  assert.equal(dialled.length, 1);
  assert.deepEqual(dialled[0], { to: '+14155550123', instructions: 'Book a table for two.', clientId: 'raju' });
  const after = (await scheduler.get(s.id))!;
  assert.equal(after.status, 'placed');
  assert.equal(after.callId, 'call-1');
  clock.advance(3_600_000);
  await scheduler.idle();
  assert.equal(dialled.length, 1, 'never twice');
  assert.deepEqual(await scheduler.list('scheduled', 10), []);
  await scheduler.stop();
});

test('scheduledAt must be in the future and within the limit; a refusal ahead of time stores nothing', async () => {
  const { scheduler } = setup({
    checkAhead: async (input) => {
      if (input.to === '+14155550199') throw new CallRequestError(403, 'to', 'to: is on the do-not-call list (DNC_FILE)', undefined, { rule: 'do-not-call' });
    },
  });
  const fails = async (r: CreateCallInput, field: string | undefined, re: RegExp) => {
    await assert.rejects(scheduler.schedule(r), (e: CallRequestError) => e.field === field && re.test(e.message));
  };
  await fails(request(T0), 'scheduledAt', /not in the future/);
  await fails(request(T0 - 60_000), 'scheduledAt', /not in the future/);
  await fails(request(T0 + 31 * 86_400_000), 'scheduledAt', /more than 30 days ahead \(SCHEDULE_MAX_DAYS\)/);
  await fails(request(T0 + 60_000, { to: '+14155550199' }), 'to', /do-not-call/);
  assert.deepEqual(await scheduler.list(undefined, 10), []);
  assert.equal((await scheduler.schedule(request(T0 + 30 * 86_400_000))).status, 'scheduled', 'the limit itself is allowed');
});

test('caps and the dial policy are checked when it dials: a refusal then is recorded on it', async () => {
  const { scheduler, clock } = setup({
    dial: async () => {
      throw new CallRequestError(429, undefined, 'the daily call cap (MAX_CALLS_PER_DAY 1) is reached', undefined, { rule: 'max-calls-per-day' });
    },
  });
  await scheduler.start();
  const s = await scheduler.schedule(request(T0 + 5000));
  clock.advance(5000);
  await scheduler.idle();
  const after = (await scheduler.get(s.id))!;
  assert.equal(after.status, 'refused');
  assert.equal(after.reason, 'refused when it was due: the daily call cap (MAX_CALLS_PER_DAY 1) is reached');
  assert.equal(after.callId, null);
});

test('durable across a restart: due while the server was down, dialled on start within the grace window, else missed', async () => {
  const file = tmpDb();
  const clock = new FakeClock(T0);
  const first = setup({ file, clock });
  await first.scheduler.start();
  const soon = await first.scheduler.schedule(request(T0 + 2000));
  const early = await first.scheduler.schedule(request(T0 + 60_000));
  await first.scheduler.stop();
  first.db.close();

  // Down for 20 minutes: both calls are found 19-20 min late, past the 15 min grace window: missed.
  clock.advance(20 * 60_000);
  const second = setup({ file, clock });
  await second.scheduler.start();
  await second.scheduler.idle();
  assert.equal(second.dialled.length, 0);
  const missed = (await second.scheduler.get(soon.id))!;
  assert.equal(missed.status, 'missed');
  assert.match(missed.reason!, /^Callwright was not running at 2026-05-04T10:00:02.000Z; it found this call 20 min late, past the 15 min grace window \(SCHEDULE_GRACE_MINUTES\), so it was not dialled$/);
  assert.equal((await second.scheduler.get(early.id))!.status, 'missed');

  const later = await second.scheduler.schedule(request(clock.t + 2000));
  await second.scheduler.stop();
  second.db.close();
  clock.advance(5 * 60_000); // down again, for less than the grace window
  const third = setup({ file, clock });
  await third.scheduler.start();
  await third.scheduler.idle();
  assert.equal(third.dialled.length, 1, 'dialled on start');
  assert.equal((await third.scheduler.get(later.id))!.status, 'placed');
  await third.scheduler.stop();
});

test('a call left mid-dial by a crash is marked failed on start, never dialled again', async () => {
  const file = tmpDb();
  const clock = new FakeClock(T0);
  const first = setup({ file, clock, dial: () => new Promise(() => undefined) }); // the process "dies" mid-dial
  await first.scheduler.start();
  const s = await first.scheduler.schedule(request(T0 + 1000));
  clock.advance(1000);
  assert.equal((await first.scheduler.get(s.id))!.status, 'dialing');
  first.db.close();

  const second = setup({ file, clock });
  await second.scheduler.start();
  await second.scheduler.idle();
  const after = (await second.scheduler.get(s.id))!;
  assert.equal(after.status, 'failed');
  assert.match(after.reason!, /stopped while this call was being dialled; it is not dialled again/);
  assert.equal(second.dialled.length, 0);
  await second.scheduler.stop();
});

test('cancel: a waiting call never dials; a second cancel or an unknown id is refused', async () => {
  const { scheduler, clock, dialled } = setup();
  await scheduler.start();
  const s = await scheduler.schedule(request(T0 + 1000));
  const cancelled = await scheduler.cancel(s.id);
  assert.equal(cancelled.status, 'cancelled');
  assert.equal(cancelled.reason, 'cancelled by a user');
  clock.advance(10_000);
  await scheduler.idle();
  assert.equal(dialled.length, 0);
  await assert.rejects(scheduler.cancel(s.id), (e: CallRequestError) => e.status === 409 && /is cancelled: only a waiting call can be cancelled/.test(e.message));
  await assert.rejects(scheduler.cancel('3f1c1b7e-0000-4000-8000-000000000000'), (e: CallRequestError) => e.status === 404);
});

test('two schedulers on one database (two processes) dial a due call once between them', async () => {
  const file = tmpDb();
  const clock = new FakeClock(T0);
  const a = setup({ file, clock });
  const b = setup({ file, clock });
  await a.scheduler.start();
  await b.scheduler.start();
  await a.scheduler.schedule(request(T0 + 1000));
  await b.scheduler.schedule(request(T0 + 1000));
  // Both wake at once and both list both rows: a's list is stale by the time it reaches the row b
  // claimed meanwhile, so only the conditional claim keeps it from dialling that row a second time.
  clock.advance(1000);
  await Promise.all([a.scheduler.idle(), b.scheduler.idle()]);
  assert.equal(a.dialled.length + b.dialled.length, 2, 'two calls, each dialled once');
  assert.equal(await a.repo.transition((await a.repo.list('placed', 10))[0]!.id, 'scheduled', 'dialing', clock.now()), false, 'a placed row cannot be claimed');
  await a.scheduler.stop();
  await b.scheduler.stop();
});

test('a stored request the schema no longer accepts is marked failed with the field, not dialled', async () => {
  const { scheduler, repo, clock, dialled } = setup();
  await repo.insert({ id: 'old-1', createdAt: new Date(T0).toISOString(), scheduledAt: new Date(T0 + 1000).toISOString(), request: { to: '+14155550123', instructions: 'x', provider: 'retired-engine' }, to: '+14155550123', clientId: null });
  await scheduler.start();
  await scheduler.idle();
  clock.advance(1000);
  await scheduler.idle();
  assert.equal(dialled.length, 0);
  const row = (await scheduler.get('old-1'))!;
  assert.equal(row.status, 'failed');
  assert.match(row.reason!, /^could not be placed: the stored request is not valid any more \(provider: /);
});

test('a row written behind its back (another process, or an insert that waited on a lock) is found within a minute', async () => {
  const { scheduler, repo, clock, dialled } = setup();
  await scheduler.start();
  await scheduler.idle();
  await repo.insert({ id: 'other-1', createdAt: new Date(T0).toISOString(), scheduledAt: new Date(T0 + 1000).toISOString(), request: { to: '+14155550123', instructions: 'x' }, to: '+14155550123', clientId: null });
  clock.advance(59_999);
  await scheduler.idle();
  assert.equal(dialled.length, 0);
  clock.advance(1);
  await scheduler.idle();
  assert.equal(dialled.length, 1);
  assert.equal((await scheduler.get('other-1'))!.status, 'placed');
  await scheduler.stop();
});
