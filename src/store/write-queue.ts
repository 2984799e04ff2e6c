import type Database from 'better-sqlite3';

/** Errors after which the same write can succeed later: another connection holds the lock, the disk is full. */
const TRANSIENT = /^SQLITE_(BUSY|LOCKED|FULL|IOERR)/;
const RETRY_FIRST_MS = 25;
const RETRY_MAX_MS = 1000;
/**
 * The longest the backlog may hold the event loop in one go once the lock is released. Two seconds of a
 * busy server's writes made at once stalled live audio by ~12 ms more than the same load unlocked
 * (`npm run bench -- --only store`); in slices, with the event loop free between them, audio frames
 * go out in between.
 */
const SLICE_MS = 4;

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
        this.writeBacklog(Infinity);
      } finally {
        this.db.pragma('busy_timeout = 0');
      }
    }
    if (this.queue.length) this.scheduleRetry();
    return this.queue.length;
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => this.continueBacklog(), this.retryDelayMs);
    this.retryTimer.unref();
  }

  /** One slice of the backlog; the next one right after the event loop's other work, or later if still locked. */
  private continueBacklog(): void {
    this.retryTimer = undefined;
    const left = this.writeBacklog(SLICE_MS);
    if (left === 'blocked') {
      this.retryDelayMs = Math.min(RETRY_MAX_MS, this.retryDelayMs * 2);
      this.scheduleRetry();
      return;
    }
    this.retryDelayMs = RETRY_FIRST_MS;
    if (left === 'more') {
      // A write made from a listener meanwhile may have armed the backoff timer: the next slice goes now.
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.continueBacklog(), 0);
      this.retryTimer.unref();
    }
  }

  /**
   * Makes the queued writes, in order, in one transaction when it can, for at most `sliceMs` (the rest
   * stays queued, in order). Says whether the queue is now empty (`done`), has more (`more`), or could
   * not be written for the lock (`blocked`).
   */
  private writeBacklog(sliceMs: number): 'done' | 'more' | 'blocked' {
    const batch = this.queue;
    if (!batch.length) return 'done';
    const written: Array<[Queued, unknown]> = [];
    this.executing = true;
    try {
      const started = performance.now();
      const values = this.db.transaction(() => {
        const out: unknown[] = [];
        for (const q of batch) {
          out.push(q.write());
          if (performance.now() - started >= sliceMs) break;
        }
        return out;
      })();
      values.forEach((v, i) => written.push([batch[i]!, v]));
      this.queue = batch.slice(values.length);
    } catch (err) {
      if (isTransient(err)) {
        this.executing = false;
        return 'blocked';
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
    if (this.queue.length === 0) return 'done';
    return written.length ? 'more' : 'blocked';
  }

  private notify(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log('store write listener failed', { err: (err as Error).message });
    }
  }
}
