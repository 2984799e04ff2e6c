import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isValidClientId } from '../clients/profile.js';
import type { KnowledgeLog } from './types.js';

export interface ClientsRescanOptions {
  clientsDir: string;
  /** Time between two checks. */
  intervalMs: number;
  /** Called for each client whose folder looks different from the last check (or is gone). */
  onClientChanged(clientId: string): void;
  log?: KnowledgeLog;
}

export interface ClientsRescan {
  /** Checks now, out of turn; resolves when the check (not the syncs it asks for) is done. */
  check(): Promise<void>;
  close(): void;
}

/** How long the start waits for the first listing of CLIENTS_DIR (a share that hangs must not hold it). */
const FIRST_SCAN_WAIT_MS = 5000;

/**
 * Keeps the index in step with CLIENTS_DIR where file watching cannot: a folder shared by several nodes
 * (NFS, SMB, a cloud file system), where a change made through another machine raises no event here.
 * Every `intervalMs` it lists each client's folder and stats its files; only a folder whose listing,
 * sizes, times or inodes differ from the last check is synced, so a quiet folder costs one readdir and
 * one stat per file, and nothing is read or hashed. The first check runs before `startClientsRescan`
 * resolves (unless the share takes longer than FIRST_SCAN_WAIT_MS), so that the start's full sync, which
 * comes after it, covers everything before it.
 */

export async function startClientsRescan(o: ClientsRescanOptions): Promise<ClientsRescan> {
  const dir = resolve(o.clientsDir);
  let last = new Map<string, string>();
  let closed = false;
  let running: Promise<void> | undefined;
  let failingSince: number | undefined;

  const scan = async (report: boolean): Promise<void> => {
    let now: Map<string, string>;
    try {
      now = await fingerprints(dir);
      // A share that is not mounted looks like an empty folder: that is not every client deleted at once.
      // (Deleting the last client through the API still reaches the other nodes by Redis, or at their start.)
      if (now.size === 0 && last.size > 0) throw new Error('CLIENTS_DIR lists no client folder any more (is the share mounted?)');
      if (failingSince !== undefined) o.log?.info({ clientsDir: dir }, 'knowledge: CLIENTS_DIR readable again; rescans resume');
      failingSince = undefined;
    } catch (err) {
      // A share that is down: keep what is indexed (searches go on), say so once, try again next time.
      if (failingSince === undefined) o.log?.warn({ err, clientsDir: dir }, 'knowledge: CLIENTS_DIR cannot be read; the index keeps what it has until it can');
      failingSince ??= Date.now();
      return;
    }
    if (report && !closed) {
      for (const [id, print] of now) if (last.get(id) !== print) o.onClientChanged(id);
      for (const id of last.keys()) if (!now.has(id)) o.onClientChanged(id);
    }
    last = now;
  };
  // One check at a time: on a slow share a check may outlast the interval.
  const check = () => (running ??= scan(true).finally(() => (running = undefined)));

  // The first listing is waited for (so the start's full sync comes after it), but at most
  // FIRST_SCAN_WAIT_MS: a hard-mounted share that stops answering must not hold the server's start.
  const first = (running = scan(false).finally(() => (running = undefined)));
  let waited: NodeJS.Timeout | undefined;
  await Promise.race([first, new Promise<void>((done) => (waited = setTimeout(done, FIRST_SCAN_WAIT_MS)))]);
  clearTimeout(waited);
  const timer = setInterval(() => void check(), o.intervalMs);
  timer.unref();
  return {
    check,
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}

/** Each client folder's listing with every entry's size, modification and change times and inode. */
async function fingerprints(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let clients;
  try {
    clients = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  for (const c of clients) {
    if (!c.isDirectory() || !isValidClientId(c.name)) continue;
    const folder = join(dir, c.name);
    const parts: string[] = [];
    let names: string[];
    try {
      names = (await readdir(folder)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    for (const name of names) {
      // Hidden files are upload temps: their rename onto the real name is the change that counts.
      if (name.startsWith('.')) continue;
      const st = await stat(join(folder, name)).catch(() => undefined);
      // The ctime and inode catch a same-size replacement within the file system's time resolution.
      parts.push(st ? `${name}:${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}` : `${name}:gone`);
    }
    out.set(c.name, parts.join('/'));
  }
  return out;
}
