// The databases a store test runs on: SQLite always; PostgreSQL when TEST_DATABASE_URL names a server
// where the test may create databases (scripts/test-postgres.sh starts a throwaway one and prints it).
// Each PostgreSQL test gets a database of its own, dropped after, so tests never see each other's rows.
import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Db } from '../src/store/database.js';
import { openPostgresStore, sqliteStore, type SqlStore } from '../src/store/sql/sql-store.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
const PG_SKIP = 'PostgreSQL: TEST_DATABASE_URL is not set (run scripts/test-postgres.sh and export the URL it prints to run this on PostgreSQL too)';

export interface OpenStore {
  store: SqlStore;
  /** The SQLite connection under the store (SQLite only): for what the tests look at directly. */
  sqlite?: Db;
  close(): Promise<void>;
}

/** A fresh, empty PostgreSQL database on the test server; returns its URL and how to drop it. */
export async function freshPostgresDatabase(adminUrl = TEST_DATABASE_URL!): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `cw_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

async function open(kind: 'sqlite' | 'postgres'): Promise<OpenStore> {
  if (kind === 'sqlite') {
    const sqlite = openDatabase(':memory:');
    const store = sqliteStore(sqlite);
    return { store, sqlite, close: async () => { await store.close(); sqlite.close(); } };
  }
  const fresh = await freshPostgresDatabase();
  const store = await openPostgresStore(fresh.url, { max: 4 });
  return { store, close: async () => { await store.close(); await fresh.drop(); } };
}

/** Registers `name` once per database: "[sqlite] name" and "[postgres] name" (skipped, saying why, without a server). */
export function storeTest(name: string, fn: (s: OpenStore) => Promise<void>): void {
  for (const kind of ['sqlite', 'postgres'] as const) {
    const skip = kind === 'postgres' && !TEST_DATABASE_URL ? PG_SKIP : undefined;
    test(`[${kind}] ${name}`, { skip }, async () => {
      const s = await open(kind);
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    });
  }
}
