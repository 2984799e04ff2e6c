import type { FastifyBaseLogger } from 'fastify';
import type { Settings } from '../config/settings.js';
import type { Db } from './database.js';
import { databaseKind, openPostgresStore, redactUrl, sqliteStore, type SqlStore } from './sql/sql-store.js';

/**
 * The server's query layer, chosen by DATABASE_URL: unset, the SQLite connection in DATA_DIR (as before);
 * postgres://…, PostgreSQL, migrated at start. The conversion is under way (docs/store.md): the
 * repositories on the query layer so far (sessions, idempotency keys, refusals, scheduled calls,
 * campaigns, webhook receipts) follow DATABASE_URL; the others still use the SQLite connection: calls and
 * call events (both repositories run on either database, but they follow DATABASE_URL only together with
 * outcomes, whose rows refer to calls), outcomes, and the knowledge index. So with PostgreSQL the store is
 * split, and the log says so at start.
 */
export async function openStore(s: Pick<Settings, 'DATABASE_URL'>, sqlite: Db, log: FastifyBaseLogger): Promise<SqlStore> {
  if (databaseKind(s.DATABASE_URL) === 'sqlite') return sqliteStore(sqlite);
  const store = await openPostgresStore(s.DATABASE_URL!, { log: (msg, fields) => log.warn({ event: 'store.connection', ...fields }, msg) });
  log.warn(
    { event: 'store.partial', database: redactUrl(s.DATABASE_URL!) },
    'DATABASE_URL: sign-in sessions, idempotency keys, refusals, scheduled calls, campaigns and webhook receipts are kept in PostgreSQL; calls (with their caps check), their events and outcomes, and the knowledge index are still kept in SQLite in DATA_DIR, calls and events until outcomes move with them (multi-node mode is not complete yet, docs/store.md)',
  );
  return store;
}
