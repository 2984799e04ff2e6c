import Database from 'better-sqlite3';
import type { Db } from './database.js';
import type { ScheduledCallStatus } from '../shared/scheduled-call-types.js';

/** A stored scheduled call: the request it will place, as JSON the scheduler validated when it was made. */
export interface ScheduledRow {
  id: string;
  createdAt: string;
  scheduledAt: string;
  status: ScheduledCallStatus;
  request: Record<string, unknown>;
  to: string;
  clientId: string | null;
  callId: string | null;
  reason: string | null;
  updatedAt: string;
}

const SELECT = `SELECT id, created_at AS createdAt, scheduled_at AS scheduledAt, status, request, to_number AS "to", client_id AS clientId, call_id AS callId, reason, updated_at AS updatedAt FROM scheduled_calls`;
type Raw = Omit<ScheduledRow, 'request'> & { request: string };
const parse = (r: Raw | undefined): ScheduledRow | undefined => r && { ...r, request: JSON.parse(r.request) as Record<string, unknown> };

/**
 * The scheduled_calls table. Times are stored as UTC ISO strings, so text order is time order.
 *
 * A status change that decides who acts (claiming a due call, cancelling one) is a conditional update
 * that must be known to have happened before anyone acts on it. The connection's writer would queue it
 * while the database is locked and answer "changed" for it (see database.ts); these updates go around
 * the writer instead, on the raw statement, so a locked database makes them fail now (the scheduler
 * tries again later) and a success means this process, and no other, holds the row.
 */
export class ScheduledCallsRepo {
  private readonly insertStmt;
  private readonly byId;
  private readonly dueStmt;
  private readonly nextStmt;
  private readonly inStatus;
  private readonly all;
  private readonly transitionStmt;
  private readonly finishStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare('INSERT INTO scheduled_calls (id, created_at, scheduled_at, status, request, to_number, client_id, call_id, reason, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)');
    this.byId = db.prepare(`${SELECT} WHERE id = ?`);
    this.dueStmt = db.prepare(`${SELECT} WHERE status = 'scheduled' AND scheduled_at <= ? ORDER BY scheduled_at, id`);
    this.nextStmt = db.prepare(`SELECT MIN(scheduled_at) FROM scheduled_calls WHERE status = 'scheduled'`).pluck();
    this.inStatus = db.prepare(`${SELECT} WHERE status = ? ORDER BY scheduled_at, id LIMIT ?`);
    this.all = db.prepare(`${SELECT} ORDER BY scheduled_at DESC, id LIMIT ?`);
    const raw = (sql: string): Database.Statement<unknown[]> => Database.prototype.prepare.call(db, sql);
    this.transitionStmt = raw('UPDATE scheduled_calls SET status = ?, reason = COALESCE(?, reason), updated_at = ? WHERE id = ? AND status = ?');
    this.finishStmt = db.prepare('UPDATE scheduled_calls SET status = ?, call_id = COALESCE(?, call_id), reason = ?, updated_at = ? WHERE id = ?');
  }

  insert(r: Omit<ScheduledRow, 'status' | 'callId' | 'reason' | 'updatedAt'>): void {
    this.insertStmt.run(r.id, r.createdAt, r.scheduledAt, 'scheduled', JSON.stringify(r.request), r.to, r.clientId, r.createdAt);
  }

  get(id: string): ScheduledRow | undefined {
    return parse(this.byId.get(id) as Raw | undefined);
  }

  /** Waiting calls whose time is at or before `now`, earliest first. */
  due(now: Date): ScheduledRow[] {
    return (this.dueStmt.all(now.toISOString()) as Raw[]).map((r) => parse(r)!);
  }

  /** The earliest time a waiting call is due, if any. */
  nextDueAt(): Date | undefined {
    const at = this.nextStmt.get() as string | null;
    return at ? new Date(at) : undefined;
  }

  /** Calls in one status, earliest first (for `scheduled`: what dials next); or all of them, latest first. */
  list(status: ScheduledCallStatus | undefined, limit: number): ScheduledRow[] {
    const rows = status ? this.inStatus.all(status, limit) : this.all.all(limit);
    return (rows as Raw[]).map((r) => parse(r)!);
  }

  /**
   * Moves a row from one status to another if, and only if, it is in `from` now. True: this caller made
   * the change. False: the row is gone, in another status, or the database is locked (try again later).
   */
  transition(id: string, from: ScheduledCallStatus, to: ScheduledCallStatus, now: Date, reason?: string): boolean {
    try {
      return this.transitionStmt.run(to, reason ?? null, now.toISOString(), id, from).changes === 1;
    } catch (err) {
      if (/^SQLITE_(BUSY|LOCKED)/.test(String((err as { code?: unknown }).code))) return false;
      throw err;
    }
  }

  /** Records what came of a claimed call (placed, refused, failed): only its claimer writes this. */
  finish(id: string, status: ScheduledCallStatus, now: Date, o: { callId?: string; reason?: string } = {}): void {
    this.finishStmt.run(status, o.callId ?? null, o.reason ?? null, now.toISOString(), id);
  }
}
