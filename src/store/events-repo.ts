import { writerOf, type Db } from './database.js';
import { isTransient, type StoreWriter } from './write-queue.js';
import { sqliteStore, type SqlStore } from './sql/sql-store.js';
import { maxStoredSeq, PgEventWriter } from './events-pg-writer.js';

export interface StoredEvent {
  callId: string;
  seq: number;
  at: string;
  type: string;
  data: Record<string, unknown>;
}

/** Called once a backlog is written: which call had how many events written late, and how late. */
export type DelayedWriteListener = (callId: string, events: number, delayMs: number) => void;

type Failed = Array<readonly [StoredEvent, Error]>;

/**
 * Append-only timeline storage, on SQLite or PostgreSQL (docs/store.md, "Call events"). Events are not
 * written one by one as they happen: each is held in memory (reads see it at once) and the events of one
 * turn of the event loop are written together right after it (`setImmediate`). A call's start or end makes
 * a burst of events (status, carrier, engine, media, transcript...); written one insert and one commit
 * each they were the biggest blocking chunks on the event loop that carries every live call's audio. A
 * crash loses at most the events of the turn in flight. Shutdown writes what is held (`flush`).
 *
 * On SQLite a batch is one transaction through the connection's StoreWriter: better-sqlite3 is synchronous
 * and waiting on a lock (a backup, a `sqlite3` shell) would stall the event loop, so a batch that finds the
 * database locked is queued and retried in the background, in order. On PostgreSQL a batch is one
 * multi-row INSERT, sent asynchronously, batches one at a time and retried in order (events-pg-writer.ts).
 * Either way reads (`list`, `listOfType`, async) see the events not yet written as if they were stored.
 *
 * Sequence numbers are allocated here, in memory, on the node appending: the node that placed a call owns
 * it (its webhooks and media reach that node), so one counter per call is enough. The counter starts from
 * the table's largest seq for the call the first time this process appends to it (after a restart, or a
 * call placed elsewhere): on SQLite that is read at once; on PostgreSQL the read is async, and the call's
 * events wait for it, unnumbered (seq 0), before they are held and published (`onNumbered`). The unique key
 * (call_id, seq) guards the rest: if another node appended to the call meanwhile, the insert clashes and
 * this node's pending events of the call are numbered after the stored ones (logged), so the stored
 * timeline has no gap and no duplicate; a live follower on this node saw them under their first numbers.
 * What is told to other nodes is told once stored (`onStored`), under the numbers it is stored with.
 */
export interface EventsRepoOptions {
  /** PostgreSQL: how long a failed batch or counter read waits before it is tried again. */
  retryMs?: number;
  /**
   * PostgreSQL: resolves once the call's own row is in `calls` (call_events references it, and the calls
   * repository writes asynchronously too). A batch waits for it for each of its calls before it is sent.
   */
  callStored?: (callId: string) => Promise<void>;
}

export class EventsRepo {
  private readonly nextSeq = new Map<string, number>();
  /** The query layer for reads (on SQLite, over the same connection). */
  private readonly store: SqlStore;
  /** SQLite only: the connection, its writer, and what runs synchronously on it. */
  private readonly sqlite: { db: Db; writer: StoreWriter; maxSeq: (callId: string) => number; insertTxn: (batch: StoredEvent[], failed: Failed) => void } | undefined;
  private readonly pg: PgEventWriter | undefined;
  /** Events not yet written, oldest first (all calls, one queue: each call's order is kept). */
  private pending: StoredEvent[] = [];
  /** The tail of `pending` not yet handed to the writer: the next batch. */
  private unsent: StoredEvent[] = [];
  /** PostgreSQL: events of calls whose counter is being read from the table, in append order. */
  private readonly unnumbered = new Map<string, StoredEvent[]>();
  private readonly counterLoads = new Set<Promise<void>>();
  /** Reads in flight per call: each collects the call's events written while it waits (so none falls between). */
  private readonly readers = new Map<string, Set<StoredEvent[]>>();
  private flushScheduled = false;
  private batches = 0;
  /** Calls forgotten while events of theirs were pending: their counters go once those are written. */
  private readonly forgotten = new Set<string>();
  /** How many events of each call are in `pending` (a read of a call with none skips the scan). */
  private readonly pendingPerCall = new Map<string, number>();
  /** Events written late since the backlog began, per call, reported once it is gone. */
  private late = new Map<string, number>();
  private pendingSince = 0;
  /** A batch was held back and the events have not all been written since. */
  private backlog = false;
  /**
   * Decoded events per (call, type), for `listOfType`: the daily-spend check prices every call of the
   * day from its usage events at each new call, and decoding them again each time cost ~0.1 ms per
   * call-minute on the event loop (120 ms at 1,000 calls). A call's events are appended by the node that
   * owns it, through this repository, so an entry stays current by appending what `append` holds.
   * Bounded by events held.
   */
  private readonly byType = new Map<string, StoredEvent[]>();
  private cachedEvents = 0;
  onDelayedWrite: DelayedWriteListener | undefined;
  /** Told of each event once it has its number (at once, except a call whose counter PostgreSQL is still reading). */
  onNumbered: ((ev: StoredEvent) => void) | undefined;
  /**
   * Told of each batch's events once they are in the table, in order (those dropped as never storable left
   * out): what another node reads from the table from then on includes them (the cross-node bus publishes here).
   */
  onStored: ((evs: StoredEvent[]) => void) | undefined;
  /** Callbacks waiting for all of a call's events so far to be numbered, or to be stored (`afterNumbered`, `afterStored`). */
  private readonly numberedWaiters = new Map<string, Array<() => void>>();
  private readonly storedWaiters = new Map<string, Array<() => void>>();

  /**
   * `target`: the SQLite connection (openDatabase: its writes go through its StoreWriter), or a PostgreSQL
   * query layer (openPostgresStore). `retryMs`: PostgreSQL, how long a failed batch or counter read waits before it is tried again.
   */
  constructor(
    target: Db | SqlStore,
    private readonly log: (msg: string, fields: Record<string, unknown>) => void = () => undefined,
    private readonly o: EventsRepoOptions = {},
  ) {
    // The query layer over SQLite stands for its connection: writes go through the connection's StoreWriter.
    if ('dialect' in target && target.sqlite) target = target.sqlite;
    if ('dialect' in target) {
      if (target.dialect !== 'postgres') throw new Error('EventsRepo on SQLite takes the connection itself (openDatabase), so its writes go through the StoreWriter');
      this.store = target;
      this.sqlite = undefined;
      this.pg = new PgEventWriter(target, { settle: (b, f, l) => this.settle(b, f, l), renumber: (c, m) => this.renumber(c, m), deferred: (b, e) => this.noteDeferred(b, 'database unavailable', e), callStored: o.callStored }, o.retryMs ?? 1000);
      return;
    }
    const db = target;
    this.store = sqliteStore(db);
    this.pg = undefined;
    const insertStmt = db.prepare('INSERT INTO call_events (call_id, seq, at, type, data) VALUES (?, ?, ?, ?, ?)');
    const maxSeqStmt = db.prepare('SELECT COALESCE(MAX(seq), 0) FROM call_events WHERE call_id = ?').pluck();
    // Runs inside the writer (a transaction of the writer's own backlog makes it a savepoint).
    const insertTxn = db.transaction((batch: StoredEvent[], failed: Failed) => {
      for (const ev of batch) {
        try {
          insertStmt.run(ev.callId, ev.seq, ev.at, ev.type, JSON.stringify(ev.data));
        } catch (err) {
          if (isTransient(err)) throw err;
          failed.push([ev, err as Error]);
        }
      }
    }) as (batch: StoredEvent[], failed: Failed) => void;
    this.sqlite = { db, writer: writerOf(db), maxSeq: (callId) => maxSeqStmt.get(callId) as number, insertTxn };
  }

  /**
   * Holds an event for the next batch and returns it. Its `seq` is final on return, except on PostgreSQL
   * for a call this process has not numbered yet (0 until the counter is read; `onNumbered` says when).
   */
  append(callId: string, type: string, data: Record<string, unknown>, at = new Date().toISOString()): StoredEvent {
    let seq = this.nextSeq.get(callId);
    const ev = { callId, seq: 0, at, type, data };
    const waiting = this.unnumbered.get(callId);
    if (waiting) {
      waiting.push(ev);
      return ev;
    }
    // While a call has events pending its counter is kept (see forget), so the table's max is only read for a call with none.
    if (seq === undefined) {
      if (!this.sqlite) {
        this.loadCounter(callId, ev);
        return ev;
      }
      seq = this.sqlite.maxSeq(callId) + 1;
    }
    ev.seq = seq;
    this.hold(ev);
    return ev;
  }

  /** Numbers the call's waiting events once its largest stored seq is read (retried while PostgreSQL cannot answer). */
  private loadCounter(callId: string, first: StoredEvent): void {
    this.unnumbered.set(callId, [first]);
    const load = async (): Promise<void> => {
      for (;;) {
        try {
          const max = await maxStoredSeq(this.store, callId);
          const waiting = this.unnumbered.get(callId)!;
          this.unnumbered.delete(callId);
          let seq = this.nextSeq.get(callId) ?? max + 1;
          for (const ev of waiting) {
            ev.seq = seq++;
            this.hold(ev);
          }
          this.wake(this.numberedWaiters, callId);
          return;
        } catch (err) {
          this.log('timeline: could not read a call\'s last event number; trying again', { callId, err: (err as Error).message });
          await new Promise((r) => setTimeout(r, this.o.retryMs ?? 1000).unref());
        }
      }
    };
    const p = load().finally(() => this.counterLoads.delete(p));
    this.counterLoads.add(p);
  }

  /** A numbered event: readable at once, written with the turn's batch, then told to `onNumbered`. */
  private hold(ev: StoredEvent): void {
    const { callId } = ev;
    this.nextSeq.set(callId, ev.seq + 1);
    const cached = this.byType.get(typeKey(callId, ev.type));
    if (cached) {
      cached.push(ev);
      this.cachedEvents++;
    }
    this.pending.push(ev);
    this.pendingPerCall.set(callId, (this.pendingPerCall.get(callId) ?? 0) + 1);
    this.unsent.push(ev);
    // Inside a transaction of the caller's (an import, a test's bulk load) the events belong to it.
    if (this.sqlite?.db.inTransaction) this.writeHeld();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.writeHeld);
    }
    this.onNumbered?.(ev);
  }

  /** The events held since the last batch, in batches of at most MAX_BATCH. */
  private readonly writeHeld = (): void => {
    this.flushScheduled = false;
    while (this.unsent.length) {
      const batch = this.unsent.length <= MAX_BATCH ? this.unsent : this.unsent.slice(0, MAX_BATCH);
      this.unsent = batch === this.unsent ? [] : this.unsent.slice(MAX_BATCH);
      this.batches++;
      if (this.pg) this.pg.write(batch);
      else this.writeSqliteBatch(batch);
    }
  };

  /** SQLite: one transaction through the writer (queued if the database is locked). */
  private writeSqliteBatch(batch: StoredEvent[]): void {
    const { writer, insertTxn } = this.sqlite!;
    // An event that can never be stored (its call is unknown) is left out and reported, rather than losing
    // the others with it; a lock or a full disk fails the whole batch, so the writer retries it, in order.
    const insertAll = (): Failed => {
      const failed: Failed = [];
      insertTxn(batch, failed);
      return failed;
    };
    let r;
    try {
      r = writer.run(insertAll, {
        label: `timeline ${batch.length} events`,
        onWritten: (failed) => this.settle(batch, failed, true),
        onDropped: (err) => this.settle(batch, batch.map((ev) => [ev, err] as const), true),
      });
    } catch (err) {
      // Not a lock (the writer queues those) and not one event (insertAll keeps those apart): nothing of the batch could be written.
      this.settle(batch, batch.map((ev) => [ev, err as Error] as const), false);
      return;
    }
    if (!r.deferred) return this.settle(batch, r.value, false);
    this.noteDeferred(batch, 'database locked');
  }

  /** The first batch held back since the backlog began: when it began, and one log line. */
  private noteDeferred(batch: StoredEvent[], why: string, err?: Error): void {
    if (this.backlog) return;
    this.backlog = true;
    this.pendingSince = Date.now();
    this.log(`timeline write deferred: ${why}`, { events: batch.length, callId: batch[0]!.callId, ...(err ? { err: err.message } : {}) });
  }

  /** The batch is written (except `failed`, dropped with a log line); `late` when a lock or failure held it back. */
  private settle(batch: StoredEvent[], failed: ReadonlyArray<readonly [StoredEvent, Error]>, late: boolean): void {
    const dropped = new Set(failed.map(([ev]) => ev));
    for (const [ev, err] of failed) {
      this.log('timeline event dropped: cannot be stored', { callId: ev.callId, seq: ev.seq, type: ev.type, err: err.message });
      this.uncache(typeKey(ev.callId, ev.type));
    }
    // Batches settle in the order they were made, and they were appended in that order: the batch leads `pending`.
    for (const ev of batch) {
      const n = this.pendingPerCall.get(ev.callId)! - 1;
      if (n) this.pendingPerCall.set(ev.callId, n);
      else this.pendingPerCall.delete(ev.callId);
      if (!dropped.has(ev)) for (const seen of this.readers.get(ev.callId) ?? []) seen.push(ev);
    }
    if (this.pending[0] === batch[0] && this.pending[batch.length - 1] === batch[batch.length - 1]) this.pending.splice(0, batch.length);
    else {
      const done = new Set(batch);
      this.pending = this.pending.filter((e) => !done.has(e));
    }
    if (late) for (const ev of batch) if (!dropped.has(ev)) this.late.set(ev.callId, (this.late.get(ev.callId) ?? 0) + 1);
    for (const callId of this.forgotten) {
      if (this.pendingPerCall.has(callId) || this.unnumbered.has(callId)) continue;
      this.nextSeq.delete(callId);
      this.forgotten.delete(callId);
    }
    const stored = dropped.size ? batch.filter((ev) => !dropped.has(ev)) : batch;
    if (stored.length) {
      try {
        this.onStored?.(stored);
      } catch (err) {
        this.log('could not pass on stored events', { callId: stored[0]!.callId, err: (err as Error).message });
      }
    }
    if (this.storedWaiters.size) for (const callId of new Set(batch.map((ev) => ev.callId))) if (this.isStored(callId)) this.wake(this.storedWaiters, callId);
    if (!this.pending.length) this.backlog = false;
    if (this.pending.length || !this.late.size) return;
    const lateCalls = this.late;
    this.late = new Map();
    const delayMs = Date.now() - this.pendingSince;
    for (const [callId, n] of lateCalls) {
      try {
        this.onDelayedWrite?.(callId, n, delayMs);
      } catch (err) {
        this.log('could not note a delayed write', { callId, err: (err as Error).message });
      }
    }
  }

  /** Calls `fn` once every event of the call appended so far has its number (at once if none waits for one). */
  afterNumbered(callId: string, fn: () => void): void {
    if (!this.unnumbered.has(callId)) return fn();
    this.waitOn(this.numberedWaiters, callId, fn);
  }

  /**
   * Calls `fn` once every event of the call appended so far is in the table (or dropped as never storable);
   * at once if none is pending. Events appended meanwhile are waited for too.
   */
  afterStored(callId: string, fn: () => void): void {
    if (this.isStored(callId)) return fn();
    this.waitOn(this.storedWaiters, callId, fn);
  }

  private isStored(callId: string): boolean {
    return !this.pendingPerCall.has(callId) && !this.unnumbered.has(callId);
  }

  private waitOn(waiters: Map<string, Array<() => void>>, callId: string, fn: () => void): void {
    const list = waiters.get(callId);
    if (list) list.push(fn);
    else waiters.set(callId, [fn]);
  }

  private wake(waiters: Map<string, Array<() => void>>, callId: string): void {
    const list = waiters.get(callId);
    if (!list) return;
    waiters.delete(callId);
    for (const fn of list) {
      try {
        fn();
      } catch (err) {
        this.log('a timeline waiter failed', { callId, err: (err as Error).message });
      }
    }
  }

  /** PostgreSQL: another node stored events of the call up to `storedMax`; this node's pending ones follow them. */
  private renumber(callId: string, storedMax: number): boolean {
    const mine = this.pending.filter((e) => e.callId === callId);
    if (!mine.length || mine[0]!.seq > storedMax) return false;
    const from = mine[0]!.seq;
    let seq = storedMax + 1;
    for (const ev of mine) ev.seq = seq++;
    this.nextSeq.set(callId, seq);
    this.log('timeline events renumbered: another node appended to this call', { callId, events: mine.length, from, to: storedMax + 1 });
    return true;
  }

  /** The call's events after `afterSeq`, stored and pending, in order. */
  async list(callId: string, afterSeq = 0): Promise<StoredEvent[]> {
    return this.read(callId, (e) => e.seq > afterSeq, () =>
      this.store.db.selectFrom('call_events').select(COLUMNS).where('call_id', '=', callId).where('seq', '>', afterSeq).orderBy('seq').execute(),
    );
  }

  /** One call's events of one type (e.g. its usage, for pricing), pending ones included. */
  async listOfType(callId: string, type: string): Promise<StoredEvent[]> {
    const key = typeKey(callId, type);
    let events = this.byType.get(key);
    if (events) {
      // Most recently used last: the oldest entries go first when the cache is full.
      this.byType.delete(key);
      this.byType.set(key, events);
      return events.slice();
    }
    events = await this.read(callId, (e) => e.type === type, () =>
      this.store.db.selectFrom('call_events').select(COLUMNS).where('call_id', '=', callId).where('type', '=', type).orderBy('seq').execute(),
    );
    this.uncache(key); // a read of the same key that finished first
    this.byType.set(key, events);
    this.cachedEvents += events.length;
    for (const k of this.byType.keys()) {
      if (this.cachedEvents <= MAX_CACHED_EVENTS || k === key) break;
      this.uncache(k);
    }
    return events.slice();
  }

  /**
   * Whether the call has an event of `type`, stored or pending. Read from the table every time (not through
   * `listOfType`'s cache, kept current only for calls this node appends to): the call may be another node's.
   */
  async has(callId: string, type: string): Promise<boolean> {
    const found = await this.read(callId, (e) => e.type === type, () =>
      this.store.db.selectFrom('call_events').select(COLUMNS).where('call_id', '=', callId).where('type', '=', type).limit(1).execute(),
    );
    return found.length > 0;
  }

  /**
   * The stored rows with the pending events that `belongs` keeps. Events move from pending to the table
   * while the query runs (a batch written meanwhile), so the pending ones are taken before and after it,
   * with those written in between: none is missed, and one seen twice counts once.
   */
  private async read(callId: string, belongs: (e: StoredEvent) => boolean, query: () => Promise<Row[]>): Promise<StoredEvent[]> {
    const before = this.pendingOf(callId, belongs);
    const written: StoredEvent[] = [];
    let mine = this.readers.get(callId);
    if (!mine) this.readers.set(callId, (mine = new Set()));
    mine.add(written);
    let rows: Row[];
    try {
      rows = await query();
    } finally {
      mine.delete(written);
      if (!mine.size) this.readers.delete(callId);
    }
    const stored = rows.map((r) => ({ callId: r.call_id, seq: r.seq, at: r.at, type: r.type, data: JSON.parse(r.data) as Record<string, unknown> }));
    const extra = [...before, ...written.filter(belongs), ...this.pendingOf(callId, belongs)];
    if (!extra.length) return stored;
    const bySeq = new Map<number, StoredEvent>();
    for (const ev of stored) bySeq.set(ev.seq, ev);
    for (const ev of extra) if (!bySeq.has(ev.seq)) bySeq.set(ev.seq, ev);
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  private pendingOf(callId: string, belongs: (e: StoredEvent) => boolean): StoredEvent[] {
    return this.pendingPerCall.has(callId) ? this.pending.filter((e) => e.callId === callId && belongs(e)) : [];
  }

  private uncache(key: string): void {
    this.cachedEvents -= this.byType.get(key)?.length ?? 0;
    this.byType.delete(key);
  }

  /** How many events wait for the database (held for the next batch, queued behind a lock or a failure, or not numbered yet). */
  get pendingCount(): number {
    let n = this.pending.length;
    for (const evs of this.unnumbered.values()) n += evs.length;
    return n;
  }

  /** Frees the per-call counter once a call has ended (it is rebuilt from the table if needed). */
  forget(callId: string): void {
    // Pending events are not in the table yet: the counter must survive until they are.
    if (!this.pendingPerCall.has(callId) && !this.unnumbered.has(callId)) this.nextSeq.delete(callId);
    else this.forgotten.add(callId);
  }

  /** Batches made for timeline events so far (one transaction, or one INSERT, each; for tests and benchmarks). */
  get transactions(): number {
    return this.batches;
  }

  /**
   * Writes the events held and the backlog now, waiting up to `waitMs` (at shutdown, when no call is
   * live): on SQLite every queued write on the connection, in order, waiting on the lock; on PostgreSQL the
   * batches in flight. Returns the number of events still not written.
   */
  async flush(waitMs = 0): Promise<number> {
    // Writing the backlog may add an event (`store.delayed`): that one is written too.
    if (this.sqlite) {
      const { writer } = this.sqlite;
      for (let i = 0; i < 3 && (this.unsent.length || writer.pendingCount); i++) {
        this.writeHeld();
        if (writer.flush(waitMs)) break;
      }
      return this.pending.length;
    }
    const deadline = Date.now() + waitMs;
    for (let i = 0; i < 3 && (this.unsent.length || this.pending.length || this.unnumbered.size); i++) {
      const left = deadline - Date.now();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), Math.max(0, left)).unref()));
      const done = (async () => {
        await Promise.all(this.counterLoads);
        this.writeHeld();
        await this.pg!.idle();
        return true as const;
      })();
      const finished = await Promise.race([done, timeout]);
      clearTimeout(timer);
      if (!finished) break;
    }
    return this.pendingCount;
  }
}

type Row = { call_id: string; seq: number; at: string; type: string; data: string };
const COLUMNS = ['call_id', 'seq', 'at', 'type', 'data'] as const;

/** Events per transaction: a burst bigger than this (a backlog of thousands) is written in several, each a short block. */
const MAX_BATCH = 256;
/** Every usage event of ~1,500 calls of 1 min (about 35 MB of heap); past it the least recently read calls go. */
const MAX_CACHED_EVENTS = 100_000;
const typeKey = (callId: string, type: string) => `${callId}\u0000${type}`;
