import type { SqlStore } from './sql/sql-store.js';
import type { Refusal } from '../shared/api-types.js';

export type { Refusal };

/** The dial policy's audit trail: every call it refused, newest first. */
export class RefusalsRepo {
  constructor(private readonly store: SqlStore) {}

  /**
   * Records a refusal. The id is the database's; on SQLite, while the database is locked and the insert
   * waits in the write queue, it is not known yet and is 0 (the refusal is still recorded, in order).
   */
  async insert(r: Omit<Refusal, 'id'>): Promise<Refusal> {
    const row = { at: r.at, to_number: r.to, client_id: r.clientId, rule: r.rule, message: r.message };
    if (this.store.dialect === 'postgres') {
      const { id } = await this.store.db.insertInto('call_refusals').values(row).returning('id').executeTakeFirstOrThrow();
      return { id, ...r };
    }
    // No RETURNING on SQLite: a statement that returns rows is a read to the driver, and would bypass the write queue.
    const info = await this.store.db.insertInto('call_refusals').values(row).executeTakeFirst();
    return { id: Number(info.insertId ?? 0n), ...r };
  }

  /** Refusals at or after `iso` (the overview's "refused today"). */
  async countSince(iso: string): Promise<number> {
    const row = await this.store.db.selectFrom('call_refusals').select((eb) => eb.fn.countAll().as('n')).where('at', '>=', iso).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async list(limit: number, beforeId = Number.MAX_SAFE_INTEGER): Promise<Refusal[]> {
    const rows = await this.store.db
      .selectFrom('call_refusals')
      .select(['id', 'at', 'to_number', 'client_id', 'rule', 'message'])
      // PostgreSQL's id is an INTEGER: a larger bound would not fit the parameter's type.
      .where('id', '<', this.store.dialect === 'postgres' ? Math.min(beforeId, 2 ** 31 - 1) : beforeId)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: r.id, at: r.at, to: r.to_number, clientId: r.client_id, rule: r.rule, message: r.message })) as Refusal[];
  }
}
