import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * DATA_DIR holds call records, recordings, transcripts and the API token: owner-only. The folder (and
 * its sub-folders) become 0700 and every file in them 0600, including files an older version or another
 * tool left with wider modes. The database file is created 0600 before SQLite opens it, because SQLite
 * gives its -wal and -shm files the database file's mode.
 */
export function secureDataDir(dir: string, dbFile = 'callwright.db'): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const db = join(dir, dbFile);
  if (!existsSync(db)) closeSync(openSync(db, 'a', 0o600));
  tighten(dir, 3);
}

function tighten(dir: string, depth: number): void {
  chmodSync(dir, 0o700);
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    // Symlinks are left alone: chmod would follow them out of DATA_DIR.
    if (st.isSymbolicLink()) continue;
    if (st.isDirectory()) {
      if (depth > 0) tighten(p, depth - 1);
    } else if (st.isFile() && (st.mode & 0o077) !== 0) {
      chmodSync(p, 0o600);
    }
  }
}
