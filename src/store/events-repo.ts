import type { Db } from './database.js';

export interface StoredEvent {
  callId: string;
  seq: number;
  at: string;
  type: string;
  data: Record<string, unknown>;
}

/** Errors after which the same write can succeed later: another connection holds the lock, the disk is full. */
const TRANSIENT = /^SQLITE_(BUSY|LOCKED|FULL|IOERR)/;
const RETRY_FIRST_MS = 25;
const RETRY_MAX_MS = 1000;
/** The connection's usual busy timeout, restored after each timeline write (see database.ts). */
const CONNECTION_BUSY_TIMEOUT_MS = 5000;

/** Called once a backlog is written: which call had how many events written late, and how late. */
export type DelayedWriteListener = (callId: string, events: number, delayMs: number) => void;

/**
 * Append-only timeline storage. Each event is written as it happens, so a crash loses at most the
 * event in flight, unless the database is locked by another connection (a backup, a `sqlite3` shell):
 * better-sqlite3 is synchronous, and waiting on the lock would stall the event loop, every live call's
 * audio with it. Timeline writes therefore never wait: a write that finds the database locked is kept
 * in memory, in order, and retried in the background (with backoff) until it goes through; reads see
 * the pending events as if they were stored. A crash during a lock loses the events still pending.
 */
export class EventsRepo {
  private readonly nextSeq = new Map<string, number>();
  private readonly insertStmt;
  private readonly maxSeqStmt;
  private readonly listStmt;
  private readonly listOfTypeStmt;
  private readonly insertMany;
  /** Events not yet written, oldest first (all calls, one queue: each call's order is kept). */
  private pending: StoredEvent[] = [];
  private pendingSince = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = RETRY_FIRST_MS;
  onDelayedWrite: DelayedWriteListener | undefined;

  constructor(
    private readonly db: Db,
    private readonly log: (msg: string, fields: Record<string, unknown>) => void = () => undefined,
  ) {
    this.insertStmt = db.prepare('INSERT INTO call_events (call_id, seq, at, type, data) VALUES (?, ?, ?, ?, ?)');
    this.maxSeqStmt = db.prepare('SELECT COALESCE(MAX(seq), 0) FROM call_events WHERE call_id = ?').pluck();
    this.listStmt = db.prepare('SELECT call_id AS callId, seq, at, type, data FROM call_events WHERE call_id = ? AND seq > ? ORDER BY seq');
    this.listOfTypeStmt = db.prepare('SELECT call_id AS callId, seq, at, type, data FROM call_events WHERE call_id = ? AND type = ? ORDER BY seq');
    this.insertMany = db.transaction((events: StoredEvent[]) => {
      for (const e of events) this.insertStmt.run(e.callId, e.seq, e.at, e.type, JSON.stringify(e.data));
    });
  }

  append(callId: string, type: string, data: Record<string, unknown>, at = new Date().toISOString()): StoredEvent {
    let seq = this.nextSeq.get(callId);
    if (seq === undefined) seq = (this.maxSeqStmt.get(callId) as number) + 1;
    this.nextSeq.set(callId, seq + 1);
    const ev = { callId, seq, at, type, data };
    if (this.pending.length > 0) {
      // Behind a backlog: written in order by the retry.
      this.pending.push(ev);
      return ev;
    }
    try {
      this.withoutWaiting(() => this.insertStmt.run(callId, seq, at, type, JSON.stringify(data)));
    } catch (err) {
      if (!isTransient(err)) {
        this.nextSeq.set(callId, seq);
        throw err;
      }
      this.pending.push(ev);
      this.pendingSince = Date.now();
      this.log('timeline write deferred: database locked', { callId, type, err: (err as Error).message });
      this.scheduleRetry();
    }
    return ev;
  }

  list(callId: string, afterSeq = 0): StoredEvent[] {
    return this.withPending(decode(this.listStmt.all(callId, afterSeq)), (e) => e.callId === callId && e.seq > afterSeq);
  }

  /** One call's events of one type (e.g. its usage, for pricing), deferred ones included. */
  listOfType(callId: string, type: string): StoredEvent[] {
    return this.withPending(decode(this.listOfTypeStmt.all(callId, type)), (e) => e.callId === callId && e.type === type);
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
   * Writes the backlog now, waiting on the lock up to `waitMs` (at shutdown, when no call is live).
   * Returns the number of events that could still not be written.
   */
  flush(waitMs = 0): number {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.pending.length) this.writeBacklog(waitMs);
    return this.pending.length;
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.writeBacklog(0)) {
        this.retryDelayMs = Math.min(RETRY_MAX_MS, this.retryDelayMs * 2);
        this.scheduleRetry();
      }
    }, this.retryDelayMs);
    this.retryTimer.unref();
  }

  /** Writes every pending event in one transaction; true when the backlog is gone. */
  private writeBacklog(waitMs: number): boolean {
    const batch = this.pending;
    const dropped = new Set<StoredEvent>();
    try {
      this.withoutWaiting(() => this.insertMany(batch), waitMs);
    } catch (err) {
      if (isTransient(err)) return false;
      // Something in the batch can never be written (e.g. a call that does not exist): write the
      // rest one by one and report what had to be dropped, rather than blocking every call behind it.
      const left = this.withoutWaiting(() => {
        for (const [i, e] of batch.entries()) {
          try {
            this.insertStmt.run(e.callId, e.seq, e.at, e.type, JSON.stringify(e.data));
          } catch (one) {
            if (isTransient(one)) return batch.slice(i);
            dropped.add(e);
            this.log('timeline event dropped: cannot be stored', { callId: e.callId, seq: e.seq, type: e.type, err: (one as Error).message });
          }
        }
        return [];
      }, waitMs);
      if (left.length) {
        this.pending = left;
        return false;
      }
    }
    this.pending = [];
    this.retryDelayMs = RETRY_FIRST_MS;
    const delayMs = Date.now() - this.pendingSince;
    const perCall = new Map<string, number>();
    for (const e of batch) if (!dropped.has(e)) perCall.set(e.callId, (perCall.get(e.callId) ?? 0) + 1);
    for (const [callId, n] of perCall) {
      try {
        this.onDelayedWrite?.(callId, n, delayMs);
      } catch (err) {
        this.log('could not note a delayed write', { callId, err: (err as Error).message });
      }
    }
    return true;
  }

  private withoutWaiting<T>(write: () => T, waitMs = 0): T {
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(waitMs))}`);
    try {
      return write();
    } finally {
      this.db.pragma(`busy_timeout = ${CONNECTION_BUSY_TIMEOUT_MS}`);
    }
  }
}

function isTransient(err: unknown): boolean {
  return TRANSIENT.test(String((err as { code?: unknown })?.code ?? ''));
}

function decode(rows: unknown[]): StoredEvent[] {
  return (rows as Array<Omit<StoredEvent, 'data'> & { data: string }>).map((r) => ({ ...r, data: JSON.parse(r.data) }));
}
