import type Database from 'better-sqlite3';

/** Errors after which the same write can succeed later: another connection holds the lock, the disk is full. */
const TRANSIENT = /^SQLITE_(BUSY|LOCKED|FULL|IOERR)/;
const RETRY_FIRST_MS = 25;
const RETRY_MAX_MS = 1000;

export function isTransient(err: unknown): boolean {
  return TRANSIENT.test(String((err as { code?: unknown })?.code ?? ''));
}

export interface WriteHooks<T> {
  /** Once the write is in the database (now, or later from the queue), with its result. */
  onWritten?(value: T): void;
  /** A queued write that turned out never to be possible (a constraint): it is dropped, not retried. */
  onDropped?(err: Error): void;
  /** Says what the write was, for the log. */
  label?: string;
}

type Queued = { write: () => unknown; hooks: WriteHooks<unknown> };
export type WriteOutcome<T> = { deferred: false; value: T } | { deferred: true };

/**
 * Every write on the server's connection goes through here. better-sqlite3 is synchronous, so a write
 * that waits on a lock held by another connection (a backup, a `sqlite3` shell, a second process) stalls
 * the event loop, and every live call's audio with it. The connection therefore has no busy timeout: a
 * write that finds the database locked, or that arrives while earlier writes wait, is queued and retried
 * in the background (with backoff) in the order it was made, so a later write never overtakes an earlier
 * one (a call's events never land before the call). Repositories keep what is queued visible to their
 * reads. A crash while writes wait loses them; shutdown waits for them (`flush`).
 */
export class StoreWriter {
  private queue: Queued[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = RETRY_FIRST_MS;
  /** True while a write runs: statements it runs are part of it, not new writes to queue. */
  executing = false;

  constructor(
    private readonly db: Database.Database,
    private readonly log: (msg: string, fields: Record<string, unknown>) => void = () => undefined,
  ) {}

  /** Runs the write now if nothing waits and the database is free; otherwise queues it. Never waits. */
  run<T>(write: () => T, hooks: WriteHooks<T> = {}): WriteOutcome<T> {
    if (this.executing || this.db.inTransaction) return { deferred: false, value: write() };
    if (this.queue.length === 0) {
      this.executing = true;
      try {
        return { deferred: false, value: write() };
      } catch (err) {
        if (!isTransient(err)) throw err;
        this.log('store write deferred: database locked', { write: hooks.label, err: (err as Error).message });
      } finally {
        this.executing = false;
      }
    }
    this.queue.push({ write, hooks: hooks as WriteHooks<unknown> });
    this.scheduleRetry();
    return { deferred: true };
  }

  /** How many writes wait for the database. */
  get pendingCount(): number {
    return this.queue.length;
  }

  /**
   * Writes the backlog now, waiting on the lock up to `waitMs` (at shutdown, when no call is live).
   * Returns the number of writes that could still not be made.
   */
  flush(waitMs = 0): number {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.queue.length) {
      this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(waitMs))}`);
      try {
        this.writeBacklog();
      } finally {
        this.db.pragma('busy_timeout = 0');
      }
    }
    if (this.queue.length) this.scheduleRetry();
    return this.queue.length;
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.writeBacklog()) this.retryDelayMs = RETRY_FIRST_MS;
      else {
        this.retryDelayMs = Math.min(RETRY_MAX_MS, this.retryDelayMs * 2);
        this.scheduleRetry();
      }
    }, this.retryDelayMs);
    this.retryTimer.unref();
  }

  /** Makes every queued write, in order, in one transaction when it can; true when the queue is empty. */
  private writeBacklog(): boolean {
    const batch = this.queue;
    if (!batch.length) return true;
    const written: Array<[Queued, unknown]> = [];
    this.executing = true;
    try {
      const values = this.db.transaction(() => batch.map((q) => q.write()))();
      batch.forEach((q, i) => written.push([q, values[i]]));
      this.queue = [];
    } catch (err) {
      if (isTransient(err)) {
        this.executing = false;
        return false;
      }
      // Something in the batch can never be written: make the others one by one, drop that one with
      // a log line, rather than holding every later write behind it.
      let i = 0;
      for (; i < batch.length; i++) {
        const q = batch[i]!;
        try {
          written.push([q, q.write()]);
        } catch (one) {
          if (isTransient(one)) break;
          this.log('store write dropped: cannot be stored', { write: q.hooks.label, err: (one as Error).message });
          this.notify(() => q.hooks.onDropped?.(one as Error));
        }
      }
      this.queue = batch.slice(i);
    } finally {
      this.executing = false;
    }
    for (const [q, v] of written) this.notify(() => q.hooks.onWritten?.(v));
    return this.queue.length === 0;
  }

  private notify(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log('store write listener failed', { err: (err as Error).message });
    }
  }
}
