import { sql, type Expression, type SqlBool } from 'kysely';
import type { SqlStore } from './sql/sql-store.js';
import { fromDb, type CallFilter, type CallRow } from './call-rows.js';

/**
 * The calls table's queries that need nothing of CallsRepo's memory (kept rows, pending writes): the
 * history page, deletion with its tombstone, the tombstones' sum. CallsRepo adds what is not stored yet.
 */

/** One page of the history, newest first, as stored. */
export async function callsPage(store: SqlStore, limit: number, before: { createdAt: string; id: string } | undefined, filter: CallFilter): Promise<CallRow[]> {
  const like = store.dialect === 'postgres' ? 'ILIKE' : 'LIKE';
  let q = store.db.selectFrom('calls').selectAll();
  if (before) q = q.where((eb) => eb.or([eb('created_at', '<', before.createdAt), eb.and([eb('created_at', '=', before.createdAt), eb('id', '<', before.id)])]));
  if (filter.status === 'live') q = q.where('status', '!=', 'ended');
  else if (filter.status) q = q.where('status', '=', filter.status);
  if (filter.endReason) q = q.where('end_reason', '=', filter.endReason);
  if (filter.direction) q = q.where('direction', '=', filter.direction);
  if (filter.clientId) q = q.where('client_id', '=', filter.clientId);
  if (filter.goalMet === 'none') q = q.where('id', 'not in', (eb) => eb.selectFrom('call_outcomes').select('call_id').where('goal_met', 'is not', null));
  else if (filter.goalMet) q = q.where('id', 'in', (eb) => eb.selectFrom('call_outcomes').select('call_id').where('goal_met', '=', filter.goalMet as string));
  if (filter.text) {
    // Number (an inbound call's caller too), client or instructions, case-insensitive; LIKE's wildcards in the search are taken literally.
    const p = `%${filter.text.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
    const m = (col: string): Expression<SqlBool> => sql<SqlBool>`${sql.ref(col)} ${sql.raw(like)} ${p} ESCAPE '\\'`;
    q = q.where((eb) => eb.or([m('to_number'), eb.and([eb('direction', '=', 'inbound'), m('from_number')]), m('client_name'), m('client_id'), m('instructions')]));
  }
  return (await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute()).map(fromDb);
}

/** Deleted calls created since `iso`: how many, and what they cost (the daily caps still count them). */
export async function deletedSince(store: SqlStore, iso: string): Promise<{ count: number; costUsd: number }> {
  const r = await store.db
    .selectFrom('deleted_calls')
    .select((eb) => [eb.fn.countAll().as('count'), eb.fn.coalesce(eb.fn.sum<number>('cost_usd'), sql<number>`0`).as('costUsd')])
    .where('created_at', '>=', iso)
    .executeTakeFirstOrThrow();
  return { count: Number(r.count), costUsd: Number(r.costUsd) };
}

/** Deletes the call's row and every row that refers to it, in one transaction, leaving its tombstone. */
export async function deleteCallRows(store: SqlStore, row: Pick<CallRow, 'id' | 'createdAt'>, costUsd: number): Promise<void> {
  const refs = await referencingTables(store);
  const db = store.db;
  const id = row.id;
  const deletedAt = new Date().toISOString();
  await store.atomically(function* () {
    for (const r of refs) {
      const del = sql`DELETE FROM ${sql.table(r.tbl)} WHERE ${sql.ref(r.col)} = ${id}`.compile(db);
      yield { compile: () => del };
    }
    yield db.deleteFrom('calls').where('id', '=', id);
    yield db
      .insertInto('deleted_calls')
      .values({ id, created_at: row.createdAt, cost_usd: costUsd, deleted_at: deletedAt })
      .onConflict((oc) => oc.column('id').doUpdateSet({ created_at: row.createdAt, cost_usd: costUsd, deleted_at: deletedAt }));
  });
}

/** Tables with a foreign key to calls (read from the schema, so a later table is not forgotten). */
async function referencingTables(store: SqlStore): Promise<Array<{ tbl: string; col: string }>> {
  if (store.dialect === 'sqlite') {
    const r = await sql<{ tbl: string; col: string }>`SELECT m.name AS tbl, f."from" AS col FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table' AND f."table" = 'calls'`.execute(store.db);
    return r.rows;
  }
  const r = await sql<{ tbl: string; col: string }>`
    SELECT cl.relname AS tbl, a.attname AS col FROM pg_constraint c
    JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
    WHERE c.contype = 'f' AND c.confrelid = 'calls'::regclass AND cl.relnamespace = current_schema()::regnamespace`.execute(store.db);
  return r.rows;
}
