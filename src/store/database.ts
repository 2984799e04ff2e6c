import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrations } from './migrations.js';
import { StoreWriter } from './write-queue.js';

export type Db = Database.Database;

/** Waiting on another connection's lock is allowed only before the server serves anything. */
const STARTUP_BUSY_TIMEOUT_MS = 5000;
const writers = new WeakMap<Db, StoreWriter>();

/**
 * Opens (creating if needed) the SQLite database and brings its schema up to date. Once open, the
 * connection never waits on a lock (busy_timeout 0): every write made through it, by any repository,
 * goes through one StoreWriter (write-queue.ts), which queues what finds the database locked and retries
 * it in the background, in order. Reads need no lock in WAL mode.
 */
export function openDatabase(file: string, o: { log?: (msg: string, fields: Record<string, unknown>) => void } = {}): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  // WAL: readers (API, event replay) never block the writer (live calls); NORMAL sync is durable
  // across a process crash, which is the failure the timeline must survive.
  db.pragma(`busy_timeout = ${STARTUP_BUSY_TIMEOUT_MS}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  migrate(db);
  db.pragma('busy_timeout = 0');
  const writer = new StoreWriter(db, o.log);
  writers.set(db, writer);
  routeWritesThrough(db, writer);
  return db;
}

/** The connection's writer (repositories make their writes, and see what is queued, through it). */
export function writerOf(db: Db): StoreWriter {
  const w = writers.get(db);
  if (!w) throw new Error('not a connection opened by openDatabase');
  return w;
}

/**
 * Every statement's `run` and every transaction on this connection go through the writer, so code that
 * prepares its own statements (the webhook receipts, the knowledge index) never blocks on a lock either.
 * A write the writer had to queue returns a stand-in result: `lastInsertRowid` 0, and `changes` 1, except
 * for INSERT OR IGNORE, where it is 0 when the row's primary key is already stored or queued (so a
 * duplicate stays a duplicate while the database is locked). A queued transaction returns undefined.
 */
function routeWritesThrough(db: Db, writer: StoreWriter): void {
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => wrapStatement(db, writer, prepare(sql), sql)) as Db['prepare'];
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: (...args: unknown[]) => unknown) => {
    const txn = transaction(fn);
    const through =
      (variant: (...args: unknown[]) => unknown) =>
      (...args: unknown[]) => {
        const r = writer.run(() => variant(...args), { label: 'transaction' });
        return r.deferred ? undefined : r.value;
      };
    return Object.assign(through(txn), { default: through(txn.default), deferred: through(txn.deferred), immediate: through(txn.immediate), exclusive: through(txn.exclusive) });
  }) as Db['transaction'];
}

/**
 * Per connection: the rows that queued insert-or-ignore writes will add (table and key), and each such
 * statement's key reader. Shared by every statement on the connection: the query layer prepares its
 * statement anew for each query, so two claims of one key are two statements and must see each other.
 */
const ignoreState = new WeakMap<Db, { pending: Set<string>; keys: Map<string, ReturnType<typeof insertOrIgnoreKey>> }>();

function wrapStatement(db: Db, writer: StoreWriter, stmt: Database.Statement, sql: string): Database.Statement {
  if (stmt.reader) return stmt;
  let state = ignoreState.get(db);
  if (!state) ignoreState.set(db, (state = { pending: new Set(), keys: new Map() }));
  // Only inserts are remembered: the cache stays as small as the number of distinct insert statements.
  if (!state.keys.has(sql) && /^\s*INSERT\b/i.test(sql)) state.keys.set(sql, insertOrIgnoreKey(db, sql));
  const ignoreKey = state.keys.get(sql);
  const pendingKeys = state.pending;
  const run = (...given: unknown[]): Database.RunResult => {
    // The query layer (Kysely) binds its parameters as one array; hand-written statements as arguments.
    const args = given.length === 1 && Array.isArray(given[0]) ? (given[0] as unknown[]) : given;
    const key = ignoreKey?.(args);
    const r = writer.run(() => stmt.run(...given), { label: sql.trim().slice(0, 60), onWritten: () => key && pendingKeys.delete(key), onDropped: () => key && pendingKeys.delete(key) });
    if (!r.deferred) return r.value;
    if (key === undefined) return { changes: 1, lastInsertRowid: 0 };
    if (pendingKeys.has(key) || ignoreKey!.stored(args)) return { changes: 0, lastInsertRowid: 0 };
    pendingKeys.add(key);
    return { changes: 1, lastInsertRowid: 0 };
  };
  const proxy: Database.Statement = new Proxy(stmt, {
    get(target, prop) {
      if (prop === 'run') return run;
      const v = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      // Chainable setters (pluck, bind...) return the statement: hand back the wrapper instead.
      return (...a: unknown[]) => {
        const out = (v as (...x: unknown[]) => unknown).apply(target, a);
        return out === target ? proxy : out;
      };
    },
  });
  return proxy;
}

/**
 * For `INSERT OR IGNORE INTO t (cols) VALUES (?, ...)`, or the query layer's spelling of the same,
 * `insert into "t" ("cols") values (?, ...) on conflict ("pk") do nothing`, on a table with a primary key
 * among the columns: the key of a row from its arguments, and whether it is already stored. Undefined for
 * any other SQL.
 */
function insertOrIgnoreKey(db: Db, sql: string): ((args: unknown[]) => string | undefined) & { stored(args: unknown[]): boolean } | undefined {
  const m = /^\s*INSERT\s+(OR\s+IGNORE\s+)?INTO\s+"?(\w+)"?\s*\(([^)]*)\)\s*VALUES\s*\(([^)]*)\)\s*(ON\s+CONFLICT\s*(?:\([^)]*\))?\s*DO\s+NOTHING)?\s*$/i.exec(sql);
  if (!m || (!m[1] && !m[5])) return undefined;
  const [, , table, colList, valueList] = m;
  const cols = colList!.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
  if (!valueList!.split(',').every((v) => v.trim() === '?')) return undefined;
  const pk = (db.pragma(`table_info(${table})`) as Array<{ name: string; pk: number }>).filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
  const positions = pk.map((c) => cols.indexOf(c.name));
  if (!pk.length || positions.some((p) => p < 0)) return undefined;
  const exists = db.prepare(`SELECT 1 FROM ${table} WHERE ${pk.map((c) => `${c.name} = ?`).join(' AND ')}`).pluck();
  const keyOf = (args: unknown[]) => JSON.stringify([table, ...positions.map((p) => args[p])]);
  return Object.assign(keyOf, { stored: (args: unknown[]) => exists.get(...positions.map((p) => args[p])) !== undefined });
}

function migrate(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
    })();
  }
}
