import { writerOf, type Db } from './database.js';
import { isTransient, type StoreWriter } from './write-queue.js';

export interface StoredEvent {
  callId: string;
  seq: number;
  at: string;
  type: string;
  data: Record<string, unknown>;
}

/** Called once a backlog is written: which call had how many events written late, and how late. */
export type DelayedWriteListener = (callId: string, events: number, delayMs: number) => void;

/**
 * Append-only timeline storage. Events are not written one by one as they happen: each is held in memory
 * (reads see it at once) and the events of one turn of the event loop are written together, in one
 * transaction, right after it (`setImmediate`). A call's start or end makes a burst of events (status,
 * carrier, engine, media, transcript...); written one insert and one commit each, synchronously, they were
 * the biggest blocking chunks on the event loop that carries every live call's audio. A crash loses at
 * most the events of the turn in flight. Shutdown writes what is held (`flush`).
 *
 * The database may also be locked by another connection (a backup, a `sqlite3` shell): better-sqlite3 is
 * synchronous, and waiting on the lock would stall the event loop. Timeline writes therefore never wait:
 * like every write on the connection they go through its StoreWriter, which queues a write that finds the
 * database locked and retries it in the background, in order; reads here see the pending events as if
 * they were stored. A crash during a lock loses the events still pending.
 */
export class EventsRepo {
  private readonly nextSeq = new Map<string, number>();
  private readonly insertStmt;
  private readonly maxSeqStmt;
  private readonly listStmt;
  private readonly listOfTypeStmt;
  private readonly writer: StoreWriter;
  /** Events not yet written, oldest first (all calls, one queue: each call's order is kept). */
  private pending: StoredEvent[] = [];
  /** The tail of `pending` not yet handed to the writer: the next batch. */
  private unsent: StoredEvent[] = [];
  private flushScheduled = false;
  private batches = 0;
  /** Calls forgotten while events of theirs were pending: their counters go once those are written. */
  private readonly forgotten = new Set<string>();
  private readonly insertTxn: (batch: StoredEvent[], failed: Array<readonly [StoredEvent, Error]>) => void;
  /** How many events of each call are in `pending` (a read of a call with none skips the scan). */
  private readonly pendingPerCall = new Map<string, number>();
  /** Events written late since the backlog began, per call, reported once it is gone. */
  private late = new Map<string, number>();
  private pendingSince = 0;
  /**
   * Decoded events per (call, type), for `listOfType`: the daily-spend check prices every call of the
   * day from its usage events at each new call, and decoding them again each time cost ~0.1 ms per
   * call-minute on the event loop (120 ms at 1,000 calls). This repository is the only writer of the
   * table, so an entry stays current by appending what `append` writes. Bounded by events held.
   */
  private readonly byType = new Map<string, StoredEvent[]>();
  private cachedEvents = 0;
  onDelayedWrite: DelayedWriteListener | undefined;

  constructor(
    private readonly db: Db,
    private readonly log: (msg: string, fields: Record<string, unknown>) => void = () => undefined,
  ) {
    this.writer = writerOf(db);
    // Runs inside the writer (a transaction of the writer's own backlog makes it a savepoint).
    this.insertTxn = db.transaction((batch: StoredEvent[], failed: Array<readonly [StoredEvent, Error]>) => {
      for (const ev of batch) {
        try {
          this.insertStmt.run(ev.callId, ev.seq, ev.at, ev.type, JSON.stringify(ev.data));
        } catch (err) {
          if (isTransient(err)) throw err;
          failed.push([ev, err as Error]);
        }
      }
    }) as (batch: StoredEvent[], failed: Array<readonly [StoredEvent, Error]>) => void;
    this.insertStmt = db.prepare('INSERT INTO call_events (call_id, seq, at, type, data) VALUES (?, ?, ?, ?, ?)');
    this.maxSeqStmt = db.prepare('SELECT COALESCE(MAX(seq), 0) FROM call_events WHERE call_id = ?').pluck();
    this.listStmt = db.prepare('SELECT call_id AS callId, seq, at, type, data FROM call_events WHERE call_id = ? AND seq > ? ORDER BY seq');
    this.listOfTypeStmt = db.prepare('SELECT call_id AS callId, seq, at, type, data FROM call_events WHERE call_id = ? AND type = ? ORDER BY seq');
  }

  append(callId: string, type: string, data: Record<string, unknown>, at = new Date().toISOString()): StoredEvent {
    let seq = this.nextSeq.get(callId);
    // While a call has events pending its counter is kept (see forget), so the table's max is only read for a call with none.
    if (seq === undefined) seq = (this.maxSeqStmt.get(callId) as number) + 1;
    this.nextSeq.set(callId, seq + 1);
    const ev = { callId, seq, at, type, data };
    const key = typeKey(callId, type);
    const cached = this.byType.get(key);
    if (cached) {
      cached.push(ev);
      this.cachedEvents++;
    }
    this.pending.push(ev);
    this.pendingPerCall.set(callId, (this.pendingPerCall.get(callId) ?? 0) + 1);
    this.unsent.push(ev);
    // Inside a transaction of the caller's (an import, a test's bulk load) the events belong to it.
    if (this.db.inTransaction) this.writeHeld();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.writeHeld);
    }
    return ev;
  }

  /** The events held since the last batch, in one transaction (through the writer: queued if the database is locked). */
  private readonly writeHeld = (): void => {
    this.flushScheduled = false;
    while (this.unsent.length) {
      const batch = this.unsent.length <= MAX_BATCH ? this.unsent : this.unsent.slice(0, MAX_BATCH);
      this.unsent = batch === this.unsent ? [] : this.unsent.slice(MAX_BATCH);
      this.writeBatch(batch);
    }
  };

  private writeBatch(batch: StoredEvent[]): void {
    this.batches++;
    let r;
    try {
      r = this.writer.run(() => this.insertAll(batch), {
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
    if (!this.late.size && this.pending.length === batch.length + this.unsent.length) {
      this.pendingSince = Date.now();
      this.log('timeline write deferred: database locked', { events: batch.length, callId: batch[0]!.callId });
    }
  }

  /**
   * One transaction for the batch. An event that can never be stored (its call is unknown) is left out
   * and reported, rather than losing the others with it; a lock or a full disk fails the whole batch, so
   * the writer retries it, in order.
   */
  private insertAll(batch: StoredEvent[]): Array<readonly [StoredEvent, Error]> {
    const failed: Array<readonly [StoredEvent, Error]> = [];
    this.insertTxn(batch, failed);
    return failed;
  }

  /** The batch is written (except `failed`, dropped with a log line); `late` when a lock held it back. */
  private settle(batch: StoredEvent[], failed: ReadonlyArray<readonly [StoredEvent, Error]>, late: boolean): void {
    for (const [ev, err] of failed) {
      this.log('timeline event dropped: cannot be stored', { callId: ev.callId, seq: ev.seq, type: ev.type, err: err.message });
      this.uncache(typeKey(ev.callId, ev.type));
    }
    // Batches settle in the order they were made, and they were appended in that order: the batch leads `pending`.
    for (const ev of batch) {
      const n = this.pendingPerCall.get(ev.callId)! - 1;
      if (n) this.pendingPerCall.set(ev.callId, n);
      else this.pendingPerCall.delete(ev.callId);
    }
    if (this.pending[0] === batch[0] && this.pending[batch.length - 1] === batch[batch.length - 1]) this.pending.splice(0, batch.length);
    else {
      const done = new Set(batch);
      this.pending = this.pending.filter((e) => !done.has(e));
    }
    if (late) {
      const dropped = new Set(failed.map(([ev]) => ev));
      for (const ev of batch) if (!dropped.has(ev)) this.late.set(ev.callId, (this.late.get(ev.callId) ?? 0) + 1);
    }
    for (const callId of this.forgotten) {
      if (this.pendingPerCall.has(callId)) continue;
      this.nextSeq.delete(callId);
      this.forgotten.delete(callId);
    }
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

  list(callId: string, afterSeq = 0): StoredEvent[] {
    return this.withPending(callId, decode(this.listStmt.all(callId, afterSeq)), (e) => e.callId === callId && e.seq > afterSeq);
  }

  /** One call's events of one type (e.g. its usage, for pricing), deferred ones included. */
  listOfType(callId: string, type: string): StoredEvent[] {
    const key = typeKey(callId, type);
    let events = this.byType.get(key);
    if (events) {
      // Most recently used last: the oldest entries go first when the cache is full.
      this.byType.delete(key);
      this.byType.set(key, events);
      return events.slice();
    }
    events = this.withPending(callId, decode(this.listOfTypeStmt.all(callId, type)), (e) => e.callId === callId && e.type === type);
    this.byType.set(key, events);
    this.cachedEvents += events.length;
    for (const k of this.byType.keys()) {
      if (this.cachedEvents <= MAX_CACHED_EVENTS || k === key) break;
      this.uncache(k);
    }
    return events.slice();
  }

  private uncache(key: string): void {
    this.cachedEvents -= this.byType.get(key)?.length ?? 0;
    this.byType.delete(key);
  }

  /** Events deferred by a locked database follow the stored ones: readers see every event, in order. */
  private withPending(callId: string, stored: StoredEvent[], belongs: (e: StoredEvent) => boolean): StoredEvent[] {
    return this.pendingPerCall.has(callId) ? stored.concat(this.pending.filter(belongs)) : stored;
  }

  /** How many events wait for the database (held for the next batch, or queued behind a lock). */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Frees the per-call counter once a call has ended (it is rebuilt from the table if needed). */
  forget(callId: string): void {
    // Pending events are not in the table yet: the counter must survive until they are.
    if (!this.pendingPerCall.has(callId)) this.nextSeq.delete(callId);
    else this.forgotten.add(callId);
  }

  /** Transactions made for timeline events so far (one per batch; for tests and benchmarks). */
  get transactions(): number {
    return this.batches;
  }

  /**
   * Writes the events held and the backlog (every queued write on the connection, in order) now, waiting on the lock up to
   * `waitMs` (at shutdown, when no call is live). Returns the number of events still not written.
   */
  flush(waitMs = 0): number {
    // Writing the backlog may add an event (`store.delayed`): that one is written too.
    for (let i = 0; i < 3 && (this.unsent.length || this.writer.pendingCount); i++) {
      this.writeHeld();
      if (this.writer.flush(waitMs)) break;
    }
    return this.pending.length;
  }
}

/** Events per transaction: a burst bigger than this (a backlog of thousands) is written in several, each a short block. */
const MAX_BATCH = 256;
/** Every usage event of ~1,500 calls of 1 min (about 35 MB of heap); past it the least recently read calls go. */
const MAX_CACHED_EVENTS = 100_000;
const typeKey = (callId: string, type: string) => `${callId}\u0000${type}`;

function decode(rows: unknown[]): StoredEvent[] {
  return (rows as Array<Omit<StoredEvent, 'data'> & { data: string }>).map((r) => ({ ...r, data: JSON.parse(r.data) }));
}
