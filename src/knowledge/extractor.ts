import { Worker } from 'node:worker_threads';
import { chunkPages, type Chunk, type ChunkOptions } from './chunk.js';
import type { ExtractRequest, ExtractResponse } from './extract-worker.js';
import { parseDocument, ParseError } from './parse/index.js';
import type { DocumentKind } from './sniff.js';

export interface Extracted {
  chunks: Chunk[];
  pageCount?: number;
}

/**
 * Parses and chunks documents off the main thread, in one worker thread started on first use. If a
 * worker cannot be started (an unusual runtime), it parses in-process instead; if one dies, the
 * documents it had are failed with the reason and the next one starts a new worker.
 */
export class Extractor {
  private worker?: Worker;
  private workerUnavailable = false;
  private nextId = 1;
  private closed = false;
  private readonly pending = new Map<number, { resolve(e: Extracted): void; reject(err: Error): void }>();

  constructor(private readonly o: { inProcess?: boolean } = {}) {}

  async extract(kind: DocumentKind, bytes: Uint8Array, chunking: ChunkOptions): Promise<Extracted> {
    // A worker started after close() would keep the process alive with nobody left to stop it.
    if (this.closed) throw new Error('document parser is closed');
    const worker = this.o.inProcess || this.workerUnavailable ? undefined : this.ensureWorker();
    if (!worker) {
      const parsed = await parseDocument(kind, bytes);
      return { chunks: chunkPages(parsed.pages, chunking), pageCount: parsed.pageCount };
    }
    const id = this.nextId++;
    const result = new Promise<Extracted>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    worker.ref();
    worker.postMessage({ id, kind, bytes, chunking } satisfies ExtractRequest);
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }

  private ensureWorker(): Worker | undefined {
    if (this.worker) return this.worker;
    let w: Worker;
    try {
      // The worker runs this project's TypeScript as the main thread does: tsx, registered in the worker
      // (Node 20 does not carry the main thread's module hooks over to workers).
      const entry = new URL('./extract-worker.ts', import.meta.url).href;
      const tsx = import.meta.resolve('tsx/esm/api');
      w = new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`, { eval: true });
    } catch {
      this.workerUnavailable = true;
      return undefined;
    }
    w.unref();
    w.on('message', (r: ExtractResponse) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (!this.pending.size) w.unref();
      if (r.ok) p.resolve({ chunks: r.chunks, pageCount: r.pageCount });
      else p.reject(r.parseError ? new ParseError(r.error) : new Error(r.error));
    });
    const fail = (err: Error) => {
      if (this.worker === w) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(new Error(`document parser stopped: ${err.message}`));
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    this.worker = w;
    return w;
  }
}
