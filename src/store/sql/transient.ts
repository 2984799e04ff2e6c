/**
 * Retrying a PostgreSQL write that failed for a reason that passes (a failover, a dropped connection, a
 * server restarting, a deadlock), not one that will fail again (a constraint, bad data). The writes that
 * use it are queued per call, so while one waits the call's later writes wait behind it, in order.
 */

/** PostgreSQL's SQLSTATE of a failed query (undefined for a failure below SQL: a refused or dropped connection). */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Whether trying again may succeed: no SQLSTATE at all (the connection), connection exceptions (08),
 * insufficient resources (53), operator intervention such as a shutdown or a failover (57), a transaction
 * rolled back for serialization or a deadlock (40).
 */
export function isTransient(err: unknown): boolean {
  const code = sqlState(err);
  return code === undefined || /^(08|53|57|40)/.test(code);
}

/** The pauses between tries: about two minutes in all, then the write is given up (and logged by the caller). */
export const RETRY_DELAYS_MS = [100, 250, 500, 1000, 2000, 4000, 8000, 15000, 30000, 60000];

/** Runs `write`, again after each of `delaysMs` while it fails transiently; the last error is thrown. */
export async function withRetries<T>(write: () => Promise<T>, o: { delaysMs?: readonly number[]; onRetry?: (err: Error, attempt: number) => void } = {}): Promise<T> {
  const delays = o.delaysMs ?? RETRY_DELAYS_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (attempt >= delays.length || !isTransient(err)) throw err;
      o.onRetry?.(err as Error, attempt + 1);
      await new Promise((r) => setTimeout(r, delays[attempt]).unref());
    }
  }
}
