import { fromDb, toDb, type CallRow } from './call-rows.js';
import type { CallsRepo } from './calls-repo.js';

/**
 * Other nodes' calls whose lease ran out (docs/store.md, "Leases"): found and ended here, on the calls
 * table through the repository's store. PostgreSQL only; on SQLite there is one node and nothing to do.
 */
export class CallLeases {
  constructor(private readonly calls: CallsRepo) {}

  /** Other nodes' calls not ended whose lease has run out: their node stopped renewing it (it died, or is cut off from the database). */
  async listExpired(): Promise<CallRow[]> {
    const { store, nodeId } = this.calls;
    if (store.dialect === 'sqlite') return [];
    const now = new Date(this.calls.nowMs()).toISOString();
    let q = store.db.selectFrom('calls').selectAll().where('status', '!=', 'ended').where('lease_until', '<', now).where('node_id', 'is not', null);
    if (nodeId) q = q.where('node_id', '!=', nodeId);
    return (await q.execute()).map(fromDb);
  }

  /**
   * Ends another node's call whose lease ran out, if it still has (one statement: of several nodes
   * sweeping at once, exactly one gets the row back, and a node that renewed meanwhile keeps its call).
   * Returns the ended row, or undefined when the call was not this node's to end after all.
   */
  async endExpired(id: string, patch: Pick<CallRow, 'endReason' | 'endedAt' | 'error'>): Promise<CallRow | undefined> {
    const { store } = this.calls;
    if (store.dialect === 'sqlite') return undefined;
    const now = new Date(this.calls.nowMs()).toISOString();
    const set = toDb({ status: 'ended', ...patch, updatedAt: new Date().toISOString() });
    const raw = await store.db
      .updateTable('calls')
      .set(set as never)
      .where('id', '=', id)
      .where('status', '!=', 'ended')
      .where('lease_until', '<', now)
      .returningAll()
      .executeTakeFirst();
    if (!raw) return undefined;
    const row = fromDb(raw as Record<string, unknown>);
    // A copy read earlier (an ended row kept after an API read) is replaced by the ended row.
    this.calls.replaceKept(row);
    return { ...row };
  }
}
