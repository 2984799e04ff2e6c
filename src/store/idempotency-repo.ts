import type { Db } from './database.js';

/** A key as stored: the request it was first used with, and the answer once there is one. */
export interface IdempotencyRecord {
  bodyHash: string;
  createdAt: string;
  /** The stored answer (null while the first request is still being handled). */
  response: { status: number; body: unknown } | null;
}

/** The idempotency_keys table (migration 7): one row per Idempotency-Key seen in the last TTL. */
export class IdempotencyRepo {
  private readonly claimStmt;
  private readonly getStmt;
  private readonly completeStmt;
  private readonly releaseStmt;
  private readonly purgeStmt;

  constructor(db: Db) {
    // OR IGNORE: the key's first request claims it; the store keeps that true while the database is locked.
    this.claimStmt = db.prepare('INSERT OR IGNORE INTO idempotency_keys (key, body_hash, created_at) VALUES (?, ?, ?)');
    this.getStmt = db.prepare('SELECT body_hash AS bodyHash, created_at AS createdAt, status, response FROM idempotency_keys WHERE key = ?');
    this.completeStmt = db.prepare('UPDATE idempotency_keys SET status = ?, response = ? WHERE key = ?');
    this.releaseStmt = db.prepare('DELETE FROM idempotency_keys WHERE key = ?');
    this.purgeStmt = db.prepare('DELETE FROM idempotency_keys WHERE created_at < ?');
  }

  /** Claims the key for a request; false when it is already taken (see `get`). */
  claim(key: string, bodyHash: string, at: Date): boolean {
    return this.claimStmt.run(key, bodyHash, at.toISOString()).changes === 1;
  }

  get(key: string): IdempotencyRecord | undefined {
    const row = this.getStmt.get(key) as { bodyHash: string; createdAt: string; status: number | null; response: string | null } | undefined;
    if (!row) return undefined;
    return { bodyHash: row.bodyHash, createdAt: row.createdAt, response: row.status !== null && row.response !== null ? { status: row.status, body: JSON.parse(row.response) } : null };
  }

  complete(key: string, status: number, body: unknown): void {
    this.completeStmt.run(status, JSON.stringify(body), key);
  }

  /** Forgets a key whose request placed nothing, so the same key can try again. */
  release(key: string): void {
    this.releaseStmt.run(key);
  }

  /** Forgets keys first used before `before`. */
  purge(before: Date): void {
    this.purgeStmt.run(before.toISOString());
  }
}
