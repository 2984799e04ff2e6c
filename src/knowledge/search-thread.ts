import { Worker } from 'node:worker_threads';
import type { Db } from '../store/database.js';
import type { IndexStore } from './index-store.js';
import { rankChunks, type RankRequest } from './rank.js';
import type { KnowledgeLog, RetrievedChunk } from './types.js';
import { siblingModule } from '../shared/sibling-module.js';

type Pending = { resolve: (r: RetrievedChunk[]) => void; reject: (e: Error) => void };

/**
 * Runs searches' SQLite reads in a worker thread with its own read-only connection. better-sqlite3 is
 * synchronous: a lookup over 10,000 chunks costs 2 to 15 ms of CPU, and while the API's document search
 * or calls' lookups ran on the event loop they made most of the server's worst stalls under load
 * (`npm run bench -- --only store`). WAL lets this reader run beside the server's writer. An in-memory
 * database (tests) has no file to open twice, so it is searched in-process; so is everything if the
 * thread cannot start. A thread that dies fails the searches in flight and is started anew by the next.
 */
export class SearchThread {
  private worker?: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private unavailable: boolean;

  constructor(
    private readonly o: { db: Db; store: IndexStore; log: KnowledgeLog; inProcess?: boolean },
  ) {
    this.unavailable = Boolean(o.inProcess) || o.db.memory;
  }

  rank(q: RankRequest): Promise<RetrievedChunk[]> {
    const w = this.unavailable ? undefined : this.ensureWorker();
    if (!w) return Promise.resolve(rankChunks(this.o.store, q));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // Held only while a search is in flight: an idle thread must not keep the process alive.
      if (this.pending.size === 0) w.ref();
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, q });
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.unavailable = true;
    await w?.terminate();
    this.failAll(new Error('search thread closed'));
  }

  private ensureWorker(): Worker | undefined {
    if (this.worker) return this.worker;
    try {
      // The thread runs as the server does: compiled, or from source with tsx registered before the entry loads.
      const entry = siblingModule(import.meta.url, 'search-worker');
      const workerData = { file: this.o.db.name };
      const w = entry.fromSource
        ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.url.href)}); })`, { eval: true, workerData })
        : new Worker(entry.url, { workerData });
      w.on('message', (m: { id: number; results?: RetrievedChunk[]; error?: string }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (this.pending.size === 0) w.unref();
        if (m.error !== undefined) p.reject(new Error(`search failed: ${m.error}`));
        else p.resolve(m.results!);
      });
      const gone = (err: Error) => {
        if (this.worker !== w) return;
        this.worker = undefined;
        this.o.log.error({ err }, 'knowledge: search thread stopped; the next search starts a new one');
        this.failAll(err);
      };
      w.on('error', gone);
      w.on('exit', (code) => gone(new Error(`search thread exited (code ${code})`)));
      // After the listeners: adding a 'message' listener refs the thread again.
      w.unref();
      this.worker = w;
      return w;
    } catch (err) {
      this.o.log.warn({ err }, 'knowledge: no search thread; searching on the main thread');
      this.unavailable = true;
      return undefined;
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
