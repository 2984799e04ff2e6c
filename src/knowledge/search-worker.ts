/**
 * The search thread (see search-thread.ts): ranks chunks on a read-only connection of its own, so a
 * search's SQLite work runs beside the event loop that carries live calls' audio, not on it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { IndexStore } from './index-store.js';
import { rankChunks, type RankRequest } from './rank.js';

const db = new Database((workerData as { file: string }).file, { readonly: true, fileMustExist: true });
// A reader in WAL mode waits only in rare moments (the writer's checkpoint, recovery): let this thread wait, not fail.
db.pragma('busy_timeout = 2000');
const store = new IndexStore(db);
const vectors = store.loadVectorExtension();

parentPort!.on('message', (m: { id: number; q: RankRequest }) => {
  try {
    // Chunk counts are cached per store: the writer may have added or removed chunks since the last search.
    store.forgetCounts();
    store.vectorsReady = m.q.vectorsReady && vectors;
    parentPort!.postMessage({ id: m.id, results: rankChunks(store, m.q) });
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: (err as Error).message });
  }
});
