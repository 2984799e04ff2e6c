import type { SqlStore } from './sql/sql-store.js';

/**
 * The carrier's callbacks already applied (webhook_receipts), so a retried or duplicated callback is
 * dropped. One insert decides: `on conflict do nothing` changes no row for a key already recorded, on
 * either database and on any node (PostgreSQL's unique key settles two nodes receiving the same retry).
 * On SQLite the insert goes through the write queue; while it waits, the queue's insert-or-ignore
 * bookkeeping (database.ts) answers a second claim of the same key as a duplicate, so nothing blocks on
 * a lock and a duplicate stays a duplicate.
 */
export class WebhookReceiptsRepo {
  constructor(private readonly store: SqlStore) {}

  /** True the first time `key` is seen (the callback should be applied), false for a duplicate. */
  async claim(key: string, at = new Date()): Promise<boolean> {
    const r = await this.store.db
      .insertInto('webhook_receipts')
      .values({ key, at: at.toISOString() })
      .onConflict((oc) => oc.column('key').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  /** Forgets receipts older than `before` (the carrier retries within hours; a week is ample). */
  async prune(before: Date): Promise<number> {
    const r = await this.store.db.deleteFrom('webhook_receipts').where('at', '<', before.toISOString()).executeTakeFirst();
    return Number(r.numDeletedRows ?? 0n);
  }
}
