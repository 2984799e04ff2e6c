import type { Db } from './database.js';
import type { Refusal } from '../shared/api-types.js';

export type { Refusal };

/** The dial policy's audit trail: every call it refused, newest first. */
export class RefusalsRepo {
  private readonly insertStmt;
  private readonly listStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare('INSERT INTO call_refusals (at, to_number, client_id, rule, message) VALUES (?, ?, ?, ?, ?)');
    this.listStmt = db.prepare('SELECT id, at, to_number AS "to", client_id AS clientId, rule, message FROM call_refusals WHERE id < ? ORDER BY id DESC LIMIT ?');
  }

  insert(r: Omit<Refusal, 'id'>): Refusal {
    const info = this.insertStmt.run(r.at, r.to, r.clientId, r.rule, r.message);
    return { id: Number(info.lastInsertRowid), ...r };
  }

  /** Refusals at or after `iso` (the overview's "refused today"). */
  countSince(iso: string): number {
    return this.db.prepare('SELECT COUNT(*) FROM call_refusals WHERE at >= ?').pluck().get(iso) as number;
  }

  list(limit: number, beforeId = Number.MAX_SAFE_INTEGER): Refusal[] {
    return this.listStmt.all(beforeId, limit) as Refusal[];
  }
}
