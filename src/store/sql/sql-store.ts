import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type CompiledQuery } from 'kysely';
import pg from 'pg';
import type { Db } from '../database.js';
import { pgMigrations } from './pg-migrations.js';
import type { Tables } from './tables.js';

export type Dialect = 'sqlite' | 'postgres';

/** What a query yielded by an `atomically` body comes back as. */
export interface TxResult {
  rows: unknown[];
  changes: number;
}

/**
 * The one query layer over either database (docs/store.md): repositories build their queries with
 * `db` and run them the same way on both; `dialect` is there for the few places that must differ.
 */
export interface SqlStore {
  readonly db: Kysely<Tables>;
  readonly dialect: Dialect;
  /**
   * The SQLite connection under the store (SQLite only). For the few writes that must be queued
   * synchronously through its StoreWriter, with the repository's view of what is still queued (calls-repo.ts).
   */
  readonly sqlite?: Db;
  /**
   * Runs a write whose effect decides who acts next (a claim: a conditional update) and returns how many
   * rows it changed. Never queued: on SQLite it goes around the write queue, which would answer "changed"
   * for a write it merely queued, so with the database locked it throws (a transient error, write-queue.ts
   * `isTransient`) and the caller tries again later. On PostgreSQL it is an ordinary statement.
   */
  decide(query: { compile(): CompiledQuery }): Promise<number>;
  /**
   * Runs `body` as one transaction. The body is a generator that yields its queries and is handed each
   * one's result (`rows`, and `changes` for a write), so the same body runs on both databases: on SQLite
   * synchronously inside one BEGIN IMMEDIATE (around the write queue, like `decide`: with the database
   * locked it throws a transient error and nothing is written), with nothing else able to run in between;
   * on PostgreSQL as an async transaction on one pooled connection. The body holds no other await: what it
   * needs from elsewhere is read before it starts. On PostgreSQL, concurrent bodies are kept apart by
   * the rows they lock (`forUpdate`, only on PostgreSQL: SQLite's write lock already covers the whole body).
   */
  atomically<T>(body: () => Generator<{ compile(): CompiledQuery }, T, TxResult>): Promise<T>;
  /** Ends the query layer; closes PostgreSQL's pool (an SQLite connection is closed by its opener). */
  close(): Promise<void>;
}

/**
 * The query layer over an SQLite connection opened by openDatabase. Kysely's SQLite driver prepares and
 * runs each statement on this connection, so its writes go through the connection's StoreWriter like any
 * other (never waiting on a lock). Kysely's transactions (`begin` ... `commit` as separate statements,
 * with the event loop free in between) are NOT used on SQLite: another write made in between would join
 * the transaction, and a queued `begin` would leave the statements after it outside one. Repositories
 * that need several statements to be atomic say so in their interface and use `atomically` below.
 */
export function sqliteStore(conn: Db): SqlStore {
  // Kysely's destroy() closes the database it was given: hand it one whose close does nothing, since the
  // connection belongs to openDatabase's caller (the knowledge index and webhook receipts share it).
  const database = { prepare: (q: string) => conn.prepare(q), close: () => undefined };
  const decide = async (query: { compile(): CompiledQuery }) => {
    const c = query.compile();
    return Database.prototype.prepare.call(conn, c.sql).run(c.parameters as unknown[]).changes;
  };
  const atomically = async <T>(body: () => Generator<{ compile(): CompiledQuery }, T, TxResult>): Promise<T> => {
    const run = () => {
      const it = body();
      let step = it.next();
      while (!step.done) {
        const c = step.value.compile();
        const stmt = Database.prototype.prepare.call(conn, c.sql);
        const params = c.parameters as unknown[];
        step = it.next(stmt.reader ? { rows: stmt.all(params), changes: 0 } : { rows: [], changes: stmt.run(params).changes });
      }
      return step.value;
    };
    return (Database.prototype.transaction.call(conn, run) as unknown as { immediate: () => T }).immediate();
  };
  return { db: new Kysely<Tables>({ dialect: new SqliteDialect({ database }) }), dialect: 'sqlite', sqlite: conn, decide, atomically, close: async () => undefined };
}

/** The query layer over PostgreSQL at `url` (postgres://...), with its schema brought up to date. */
export async function openPostgresStore(url: string, o: { max?: number; log?: (msg: string, fields: Record<string, unknown>) => void } = {}): Promise<SqlStore> {
  const pool = new pg.Pool({ connectionString: url, max: o.max ?? 10 });
  // An idle pooled connection that breaks (the server restarted, a proxy dropped it) is an 'error' event on
  // the pool: unhandled, it would end the process. The pool replaces the connection; the next query retries.
  pool.on('error', (err) => o.log?.('PostgreSQL: an idle connection failed; the pool replaces it', { err: err.message }));
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migratePostgres(db);
  } catch (err) {
    await db.destroy();
    throw new Error(`PostgreSQL store at ${redactUrl(url)}: could not connect and migrate: ${(err as Error).message}`, { cause: err });
  }
  const decide = async (query: { compile(): CompiledQuery }) => Number((await db.executeQuery(query.compile())).numAffectedRows ?? 0n);
  const atomically = <T>(body: () => Generator<{ compile(): CompiledQuery }, T, TxResult>): Promise<T> =>
    db.transaction().execute(async (trx) => {
      const it = body();
      let step = it.next();
      while (!step.done) {
        const r = await trx.executeQuery(step.value.compile());
        step = it.next({ rows: r.rows as unknown[], changes: Number(r.numAffectedRows ?? 0n) });
      }
      return step.value;
    });
  return { db, dialect: 'postgres', decide, atomically, close: () => db.destroy() };
}

/** Which database DATABASE_URL names: unset or empty is SQLite in DATA_DIR (as before this existed). */
export function databaseKind(url: string | undefined): Dialect {
  if (!url) return 'sqlite';
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgres';
  throw new Error(`DATABASE_URL must be a postgres:// or postgresql:// URL (or unset for SQLite in DATA_DIR); got ${redactUrl(url)}`);
}

/** The URL without its password, for logs and errors. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/**
 * Applies PostgreSQL's migrations, each in its own transaction. An advisory lock makes nodes starting
 * together apply them one at a time (the second finds them applied) instead of racing on CREATE TABLE.
 */
async function migratePostgres(db: Kysely<Tables>): Promise<void> {
  await db.connection().execute(async (c) => {
    await sql`SELECT pg_advisory_lock(7416001)`.execute(c);
    try {
      await sql`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`.execute(c);
      const applied = new Set((await sql<{ version: number }>`SELECT version FROM schema_migrations`.execute(c)).rows.map((r) => r.version));
      for (const m of pgMigrations) {
        if (applied.has(m.version)) continue;
        await sql`BEGIN`.execute(c);
        try {
          await sql.raw(m.sql).execute(c);
          await sql`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${m.version}, ${m.name}, ${new Date().toISOString()})`.execute(c);
          await sql`COMMIT`.execute(c);
        } catch (err) {
          await sql`ROLLBACK`.execute(c);
          throw new Error(`migration ${m.version} (${m.name}): ${(err as Error).message}`, { cause: err });
        }
      }
    } finally {
      await sql`SELECT pg_advisory_unlock(7416001)`.execute(c);
    }
  });
}
