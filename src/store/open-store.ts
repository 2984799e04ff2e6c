import type { FastifyBaseLogger } from 'fastify';
import type { Settings } from '../config/settings.js';
import type { Db } from './database.js';
import { databaseKind, openPostgresStore, redactUrl, sqliteStore, type SqlStore } from './sql/sql-store.js';

/**
 * The server's query layer, chosen by DATABASE_URL: unset, the SQLite connection in DATA_DIR (as before);
 * postgres://…, PostgreSQL, migrated at start, holding every record (calls, their events and outcomes
 * included) except the knowledge index, which stays in each node's SQLite by design (docs/store.md).
 */
export async function openStore(s: Pick<Settings, 'DATABASE_URL'>, sqlite: Db, log: FastifyBaseLogger): Promise<SqlStore> {
  if (databaseKind(s.DATABASE_URL) === 'sqlite') return sqliteStore(sqlite);
  const store = await openPostgresStore(s.DATABASE_URL!, { log: (msg, fields) => log.warn({ event: 'store.connection', ...fields }, msg) });
  log.info(
    { event: 'store.postgres', database: redactUrl(s.DATABASE_URL!) },
    'DATABASE_URL: every record is kept in PostgreSQL (calls, their events and outcomes, campaigns, scheduled calls, refusals, sessions, idempotency keys, webhook receipts); only the knowledge index stays in SQLite in DATA_DIR, per node (docs/store.md)',
  );
  warnOfSqliteCalls(sqlite, log);
  return store;
}

/**
 * Before calls moved to PostgreSQL with the rest, a server with DATABASE_URL kept them in its SQLite file.
 * They are not copied over (docs/store.md says how to keep them): say so, rather than let them seem lost.
 */
function warnOfSqliteCalls(sqlite: Db, log: FastifyBaseLogger): void {
  let count = 0;
  try {
    count = (sqlite.prepare('SELECT count(*) AS n FROM calls').get() as { n: number }).n;
  } catch {
    return; // no calls table: nothing was ever kept there
  }
  if (count > 0) {
    log.warn(
      { event: 'store.sqliteCallsLeft', calls: count },
      `DATA_DIR's SQLite file holds ${count} call(s) from before calls were kept in PostgreSQL; they are not shown, counted in the caps or copied over (docs/store.md, "Calls kept in SQLite before")`,
    );
  }
}
