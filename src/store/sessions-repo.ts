import type { SqlStore } from './sql/sql-store.js';

export interface SessionRow {
  idHash: string;
  createdAt: string;
  expiresAt: string;
  tokenFingerprint: string;
  revokedAt: string | null;
}

/**
 * Browser sessions (the sign-in cookie). Rows are found by the SHA-256 of the cookie's value: the
 * database never holds a value a browser could present. Revoked and expired rows stay until pruned, so
 * "why was I signed out" has an answer. One query each, on either database (sql/sql-store.ts).
 */
export class SessionsRepo {
  constructor(private readonly store: SqlStore) {}

  async insert(r: Omit<SessionRow, 'revokedAt'>): Promise<void> {
    await this.store.db.insertInto('sessions').values({ id_hash: r.idHash, created_at: r.createdAt, expires_at: r.expiresAt, token_fingerprint: r.tokenFingerprint }).execute();
  }

  async find(idHash: string): Promise<SessionRow | undefined> {
    return this.store.db
      .selectFrom('sessions')
      .select(['id_hash as idHash', 'created_at as createdAt', 'expires_at as expiresAt', 'token_fingerprint as tokenFingerprint', 'revoked_at as revokedAt'])
      .where('id_hash', '=', idHash)
      .executeTakeFirst();
  }

  /** Ends every session still open; returns how many. */
  async revokeAll(at: string): Promise<number> {
    const r = await this.store.db.updateTable('sessions').set({ revoked_at: at }).where('revoked_at', 'is', null).where('expires_at', '>', at).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** Forgets sessions that expired before `before` (ISO time). */
  async prune(before: string): Promise<number> {
    const r = await this.store.db.deleteFrom('sessions').where('expires_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
