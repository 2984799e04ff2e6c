import type { FastifyBaseLogger } from 'fastify';
import type { Settings } from '../config/settings.js';
import type { Db } from './database.js';
import { databaseKind, openPostgresStore, redactUrl, sqliteStore, type SqlStore } from './sql/sql-store.js';

/**
 * The server's query layer, chosen by DATABASE_URL: unset, the SQLite connection in DATA_DIR (as before);
 * postgres://…, PostgreSQL, migrated at start, holding every record (calls, their events and outcomes
 * included) except the knowledge index, which stays in each node's SQLite by design (docs/store.md).
 * Multi-node mode is not complete yet, and the log says so at start.
 */
export async function openStore(s: Pick<Settings, 'DATABASE_URL'>, sqlite: Db, log: FastifyBaseLogger): Promise<SqlStore> {
  if (databaseKind(s.DATABASE_URL) === 'sqlite') return sqliteStore(sqlite);
  const store = await openPostgresStore(s.DATABASE_URL!, { log: (msg, fields) => log.warn({ event: 'store.connection', ...fields }, msg) });
  log.warn(
    { event: 'store.partial', database: redactUrl(s.DATABASE_URL!) },
    'DATABASE_URL: calls (with their caps check), their events and outcomes, sign-in sessions, idempotency keys, refusals, scheduled calls, campaigns and webhook receipts are kept in PostgreSQL; only the knowledge index stays in SQLite in DATA_DIR, per node; multi-node mode is not complete yet (docs/store.md)',
  );
  return store;
}
