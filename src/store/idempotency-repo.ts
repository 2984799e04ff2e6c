import type { SqlStore } from './sql/sql-store.js';

/** A key as stored: the request it was first used with, and the answer once there is one. */
export interface IdempotencyRecord {
  bodyHash: string;
  createdAt: string;
  /** The stored answer (null while the first request is still being handled). */
  response: { status: number; body: unknown } | null;
}

/** The idempotency_keys table (SQLite migration 10): one row per Idempotency-Key seen in the last TTL. */
export class IdempotencyRepo {
  constructor(private readonly store: SqlStore) {}

  /**
   * Claims the key for a request; false when it is already taken (see `get`). One statement that either
   * inserts or does nothing, so of two claims racing on any node exactly one wins; on SQLite the store
   * keeps that true while the database is locked and the insert waits in the write queue (database.ts).
   */
  async claim(key: string, bodyHash: string, at: Date): Promise<boolean> {
    const r = await this.store.db
      .insertInto('idempotency_keys')
      .values({ key, body_hash: bodyHash, created_at: at.toISOString() })
      .onConflict((oc) => oc.column('key').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async get(key: string): Promise<IdempotencyRecord | undefined> {
    const row = await this.store.db.selectFrom('idempotency_keys').select(['body_hash', 'created_at', 'status', 'response']).where('key', '=', key).executeTakeFirst();
    if (!row) return undefined;
    return { bodyHash: row.body_hash, createdAt: row.created_at, response: row.status !== null && row.response !== null ? { status: row.status, body: JSON.parse(row.response) } : null };
  }

  async complete(key: string, status: number, body: unknown): Promise<void> {
    await this.store.db.updateTable('idempotency_keys').set({ status, response: JSON.stringify(body) }).where('key', '=', key).execute();
  }

  /** Forgets a key whose request placed nothing, so the same key can try again. */
  async release(key: string): Promise<void> {
    await this.store.db.deleteFrom('idempotency_keys').where('key', '=', key).execute();
  }

  /** Forgets keys first used before `before`. */
  async purge(before: Date): Promise<void> {
    await this.store.db.deleteFrom('idempotency_keys').where('created_at', '<', before.toISOString()).execute();
  }
}
