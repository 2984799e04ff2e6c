import type { Db } from './database.js';

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
 * "why was I signed out" has an answer.
 */
export class SessionsRepo {
  private readonly insertStmt;
  private readonly findStmt;
  private readonly revokeAllStmt;
  private readonly pruneStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare('INSERT INTO sessions (id_hash, created_at, expires_at, token_fingerprint) VALUES (?, ?, ?, ?)');
    this.findStmt = db.prepare('SELECT id_hash AS idHash, created_at AS createdAt, expires_at AS expiresAt, token_fingerprint AS tokenFingerprint, revoked_at AS revokedAt FROM sessions WHERE id_hash = ?');
    this.revokeAllStmt = db.prepare('UPDATE sessions SET revoked_at = ? WHERE revoked_at IS NULL AND expires_at > ?');
    this.pruneStmt = db.prepare('DELETE FROM sessions WHERE expires_at < ?');
  }

  insert(r: Omit<SessionRow, 'revokedAt'>): void {
    this.insertStmt.run(r.idHash, r.createdAt, r.expiresAt, r.tokenFingerprint);
  }

  find(idHash: string): SessionRow | undefined {
    return this.findStmt.get(idHash) as SessionRow | undefined;
  }

  /** Ends every session still open; returns how many. */
  revokeAll(at: string): number {
    return this.revokeAllStmt.run(at, at).changes;
  }

  /** Forgets sessions that expired before `before` (ISO time). */
  prune(before: string): number {
    return this.pruneStmt.run(before).changes;
  }
}
