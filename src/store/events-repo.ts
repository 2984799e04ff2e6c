import { writerOf, type Db } from './database.js';
import type { StoreWriter } from './write-queue.js';

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
 * Append-only timeline storage. Each event is written as it happens, so a crash loses at most the
 * event in flight, unless the database is locked by another connection (a backup, a `sqlite3` shell):
 * better-sqlite3 is synchronous, and waiting on the lock would stall the event loop, every live call's
 * audio with it. Timeline writes therefore never wait: like every write on the connection they go
 * through its StoreWriter, which queues a write that finds the database locked and retries it in the
 * background, in order; reads here see the pending events as if they were stored. A crash during a lock
 * loses the events still pending.
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
    db: Db,
    private readonly log: (msg: string, fields: Record<string, unknown>) => void = () => undefined,
  ) {
    this.writer = writerOf(db);
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
    let r;
    try {
      r = this.writer.run(() => this.insertStmt.run(callId, seq, at, type, JSON.stringify(data)), {
        label: `timeline ${type}`,
        onWritten: () => this.written(ev),
        onDropped: (err) => {
          this.log('timeline event dropped: cannot be stored', { callId, seq, type, err: err.message });
          this.uncache(typeKey(callId, type));
          this.written(ev, true);
        },
      });
    } catch (err) {
      this.nextSeq.set(callId, seq);
      throw err;
    }
    this.byType.get(typeKey(callId, type))?.push(ev);
    if (this.byType.has(typeKey(callId, type))) this.cachedEvents++;
    if (r.deferred) {
      if (!this.pending.length && !this.late.size) {
        this.pendingSince = Date.now();
        this.log('timeline write deferred: database locked', { callId, type });
      }
      this.pending.push(ev);
    }
    return ev;
  }

  private written(ev: StoredEvent, dropped = false): void {
    const i = this.pending.indexOf(ev);
    if (i < 0) return;
    this.pending.splice(i, 1);
    if (!dropped) this.late.set(ev.callId, (this.late.get(ev.callId) ?? 0) + 1);
    if (this.pending.length) return;
    const late = this.late;
    this.late = new Map();
    const delayMs = Date.now() - this.pendingSince;
    for (const [callId, n] of late) {
      try {
        this.onDelayedWrite?.(callId, n, delayMs);
      } catch (err) {
        this.log('could not note a delayed write', { callId, err: (err as Error).message });
      }
    }
  }

  list(callId: string, afterSeq = 0): StoredEvent[] {
    return this.withPending(decode(this.listStmt.all(callId, afterSeq)), (e) => e.callId === callId && e.seq > afterSeq);
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
    events = this.withPending(decode(this.listOfTypeStmt.all(callId, type)), (e) => e.callId === callId && e.type === type);
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
  private withPending(stored: StoredEvent[], belongs: (e: StoredEvent) => boolean): StoredEvent[] {
    return this.pending.length === 0 ? stored : stored.concat(this.pending.filter(belongs));
  }

  /** How many events wait for the database. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Frees the per-call counter once a call has ended (it is rebuilt from the table if needed). */
  forget(callId: string): void {
    // Pending events are not in the table yet: the counter must survive until they are.
    if (!this.pending.some((e) => e.callId === callId)) this.nextSeq.delete(callId);
  }

  /**
   * Writes the backlog (every queued write on the connection, in order) now, waiting on the lock up to
   * `waitMs` (at shutdown, when no call is live). Returns the number of events still not written.
   */
  flush(waitMs = 0): number {
    this.writer.flush(waitMs);
    return this.pending.length;
  }
}

/** Every usage event of ~1,500 calls of 1 min (about 35 MB of heap); past it the least recently read calls go. */
const MAX_CACHED_EVENTS = 100_000;
const typeKey = (callId: string, type: string) => `${callId}\u0000${type}`;

function decode(rows: unknown[]): StoredEvent[] {
  return (rows as Array<Omit<StoredEvent, 'data'> & { data: string }>).map((r) => ({ ...r, data: JSON.parse(r.data) }));
}
