import type { Selectable } from 'kysely';
import type { ScheduledCallStatus } from '../shared/scheduled-call-types.js';
import type { SqlStore } from './sql/sql-store.js';
import type { Tables } from './sql/tables.js';

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

const row = (r: Selectable<Tables['scheduled_calls']>): ScheduledRow => ({
  id: r.id,
  createdAt: r.created_at,
  scheduledAt: r.scheduled_at,
  status: r.status as ScheduledCallStatus,
  request: JSON.parse(r.request) as Record<string, unknown>,
  to: r.to_number,
  clientId: r.client_id,
  callId: r.call_id,
  reason: r.reason,
  updatedAt: r.updated_at,
});

/**
 * The scheduled_calls table. Times are stored as UTC ISO strings, so text order is time order.
 *
 * A status change that decides who acts (claiming a due call, cancelling one) is a conditional update
 * that must be known to have happened before anyone acts on it: it runs through the store's `decide`,
 * never through SQLite's write queue (which would answer "changed" for a write it only queued), so a
 * locked database makes it fail now (the scheduler tries again later) and a success means this caller,
 * and no other (on any node sharing the database), holds the row.
 */
export class ScheduledCallsRepo {
  constructor(private readonly store: SqlStore) {}

  private get db() {
    return this.store.db;
  }

  async insert(r: Omit<ScheduledRow, 'status' | 'callId' | 'reason' | 'updatedAt'>): Promise<void> {
    await this.db
      .insertInto('scheduled_calls')
      .values({ id: r.id, created_at: r.createdAt, scheduled_at: r.scheduledAt, status: 'scheduled', request: JSON.stringify(r.request), to_number: r.to, client_id: r.clientId, call_id: null, reason: null, updated_at: r.createdAt })
      .execute();
  }

  async get(id: string): Promise<ScheduledRow | undefined> {
    const r = await this.db.selectFrom('scheduled_calls').selectAll().where('id', '=', id).executeTakeFirst();
    return r && row(r);
  }

  /** Waiting calls whose time is at or before `now`, earliest first. */
  async due(now: Date): Promise<ScheduledRow[]> {
    const rows = await this.db.selectFrom('scheduled_calls').selectAll().where('status', '=', 'scheduled').where('scheduled_at', '<=', now.toISOString()).orderBy('scheduled_at').orderBy('id').execute();
    return rows.map(row);
  }

  /** The earliest time a waiting call is due, if any. */
  async nextDueAt(): Promise<Date | undefined> {
    const r = await this.db.selectFrom('scheduled_calls').select((eb) => eb.fn.min('scheduled_at').as('at')).where('status', '=', 'scheduled').executeTakeFirst();
    return r?.at ? new Date(r.at) : undefined;
  }

  /** Calls in one status, earliest first (for `scheduled`: what dials next); or all of them, latest first. */
  async list(status: ScheduledCallStatus | undefined, limit: number): Promise<ScheduledRow[]> {
    const q = this.db.selectFrom('scheduled_calls').selectAll();
    const rows = status
      ? await q.where('status', '=', status).orderBy('scheduled_at').orderBy('id').limit(limit).execute()
      : await q.orderBy('scheduled_at', 'desc').orderBy('id').limit(limit).execute();
    return rows.map(row);
  }

  /**
   * Moves a row from one status to another if, and only if, it is in `from` now. True: this caller made
   * the change. False: the row is gone, in another status, or the database is locked (try again later).
   */
  async transition(id: string, from: ScheduledCallStatus, to: ScheduledCallStatus, now: Date, reason?: string): Promise<boolean> {
    const q = this.db
      .updateTable('scheduled_calls')
      .set((eb) => ({ status: to, reason: eb.fn.coalesce(eb.val(reason ?? null), eb.ref('reason')), updated_at: now.toISOString() }))
      .where('id', '=', id)
      .where('status', '=', from);
    try {
      return (await this.store.decide(q)) === 1;
    } catch (err) {
      if (/^SQLITE_(BUSY|LOCKED)/.test(String((err as { code?: unknown }).code))) return false;
      throw err;
    }
  }

  /** Records what came of a claimed call (placed, refused, failed): only its claimer writes this. */
  async finish(id: string, status: ScheduledCallStatus, now: Date, o: { callId?: string; reason?: string } = {}): Promise<void> {
    await this.db
      .updateTable('scheduled_calls')
      .set((eb) => ({ status, call_id: eb.fn.coalesce(eb.val(o.callId ?? null), eb.ref('call_id')), reason: o.reason ?? null, updated_at: now.toISOString() }))
      .where('id', '=', id)
      .execute();
  }
}
