import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Db } from '../store/database.js';
import { isValidClientId } from '../clients/profile.js';
import { DEFAULT_CHUNKING, type ChunkOptions } from './chunk.js';
import { Extractor, type ParserLimits } from './extractor.js';
import { isProfileFile, listIndexableFiles, safeUploadName, SHARING_FILE, writeFileAtomic } from './client-files.js';
import { vectorQueryText } from './fts-query.js';
import { visibleFor } from './rank.js';
import { SearchThread } from './search-thread.js';
import { IndexStore, type StoredDocument } from './index-store.js';
import { parseSharing, ruleFor, withRule, type SharingLineError, type SharingRules } from './sharing.js';
import { kindFromName, sniffMismatch } from './sniff.js';
import { KnowledgeError, type DocumentInfo, type Embedder, type KnowledgeLog, type RetrievedChunk, type SearchMode, type SearchPurpose, type ShareRule, type SyncReport } from './types.js';

export interface KnowledgeBaseOptions {
  db: Db;
  clientsDir: string;
  /** Without one, search is lexical (BM25) only. */
  embedder?: Embedder;
  log?: KnowledgeLog;
  chunking?: ChunkOptions;
  /** Texts per embeddings request (OpenAI accepts up to 2048, Gemini's batch endpoint 100). */
  embedBatchSize?: number;
  /** Longest wait for a query's embedding before hybrid search goes on lexically (default 3 s). */
  queryEmbedTimeoutMs?: number;
  /** Caps on what parsing one document may cost (memory, size, pages, DOCX inflation, time). */
  parserLimits?: Partial<ParserLimits>;
  /** Search on the event loop instead of the search thread (an in-memory database always is). */
  searchInProcess?: boolean;
  /**
   * Called when a change made through this node (an upload, a delete, a sync that found new files)
   * altered a client's documents: with several nodes on one CLIENTS_DIR, the others are told to re-sync.
   */
  onLocalChange?: (clientId: string) => void;
}

export interface SearchOptions {
  /** Who the results are for: decides what the sharing rules let through (see SearchPurpose). */
  purpose: SearchPurpose;
  k?: number;
  mode?: SearchMode;
  /** A precomputed query embedding (benchmarks time retrieval without the embeddings call). */
  queryVector?: Float32Array;
}

export const MAX_K = 50;

const silent: KnowledgeLog = { info() {}, warn() {}, error() {}, debug() {} };

/**
 * A client's documents, indexed in the app's SQLite database: full text always (FTS5, BM25), vectors
 * (sqlite-vec) when an embedder is configured, hybrid ranking by reciprocal rank fusion. The client's
 * folder is the source of truth; `syncClient` brings the index up to date with it by content hash.
 */
export class KnowledgeBase {
  readonly embedder?: Embedder;
  private readonly store: IndexStore;
  /** Searches' reads, off the event loop (search-thread.ts). */
  private readonly searcher: SearchThread;
  private readonly clientsDir: string;
  private readonly log: KnowledgeLog;
  private readonly chunking: ChunkOptions;
  private readonly embedBatchSize: number;
  private readonly queryEmbedTimeoutMs: number;
  private readonly extractor: Extractor;
  private readonly onLocalChange: (clientId: string) => void;
  /** One queue per client: a sync, an upload and a delete for the same client never interleave. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Each client's sharing.txt as last read, with the file's mtime, size and inode when read. */
  private readonly sharing = new Map<string, { stamp: string; rules: SharingRules }>();
  /** Set by close(): work asked for afterwards (a late file-watcher event, a request in flight) is refused, not run on a closed database. */
  private closed = false;

  constructor(o: KnowledgeBaseOptions) {
    this.clientsDir = resolve(o.clientsDir);
    this.log = o.log ?? silent;
    this.chunking = o.chunking ?? DEFAULT_CHUNKING;
    this.embedBatchSize = o.embedBatchSize ?? 64;
    this.queryEmbedTimeoutMs = o.queryEmbedTimeoutMs ?? 3000;
    this.extractor = new Extractor({ limits: o.parserLimits });
    this.onLocalChange = o.onLocalChange ?? (() => {});
    this.store = new IndexStore(o.db);
    this.searcher = new SearchThread({ db: o.db, store: this.store, log: this.log, inProcess: o.searchInProcess });
    // Load sqlite-vec even without an embedder: deleting a document must also delete its old vectors.
    this.store.loadVectorExtension();
    if (o.embedder) {
      try {
        if (this.store.prepareVectors({ provider: o.embedder.provider, model: o.embedder.model, dimensions: o.embedder.dimensions })) {
          this.log.info({ provider: o.embedder.provider, model: o.embedder.model, dimensions: o.embedder.dimensions }, 'knowledge: vector index (re)built for the embeddings model; documents will be re-embedded');
        }
        this.embedder = o.embedder;
      } catch (err) {
        this.log.error({ err, provider: o.embedder.provider }, 'knowledge: vector index unavailable (sqlite-vec); search is lexical only');
      }
    }
  }

  /** Whether vector and hybrid search are available. */
  get vectorsEnabled(): boolean {
    return this.embedder !== undefined && this.store.vectorsReady;
  }

  clientDir(clientId: string): string {
    if (!isValidClientId(clientId)) throw new KnowledgeError('clientId may contain only letters, digits, "-" and "_"', 400, 'clientId');
    return join(this.clientsDir, clientId);
  }

  /**
   * Brings the client's index up to date with its folder: new, changed and removed files. `announce:
   * false` for a sync that follows another node's change (its rescan or its word): that node has told the
   * others already, and telling them again would make every node re-check after every change.
   */
  syncClient(clientId: string, o: { announce?: boolean } = {}): Promise<SyncReport> {
    const dir = this.clientDir(clientId);
    return this.enqueue(clientId, () => this.sync(clientId, dir, o.announce ?? true));
  }

  /**
   * Deletes a client's folder with `remove` and then everything indexed from it, in the client's queue:
   * an upload or sync already under way finishes first, and none can run in between.
   */
  deleteClient(clientId: string, remove: () => Promise<void>): Promise<SyncReport> {
    const dir = this.clientDir(clientId);
    return this.enqueue(clientId, async () => {
      await remove();
      this.sharing.delete(clientId);
      return this.sync(clientId, dir, true);
    });
  }

  /** Syncs every client folder, and forgets the documents of client folders that are gone. */
  async syncAll(o: { announce?: boolean } = {}): Promise<SyncReport[]> {
    const ids = new Set<string>(this.store.clientCounts().keys());
    for (const e of await readdir(this.clientsDir, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory() && isValidClientId(e.name)) ids.add(e.name);
    }
    const reports: SyncReport[] = [];
    for (const id of [...ids].sort()) reports.push(await this.syncClient(id, o));
    return reports;
  }

  listDocuments(clientId: string): DocumentInfo[] {
    return isValidClientId(clientId) ? this.store.listDocuments(clientId).map((d) => this.withRule(clientId, d)) : [];
  }

  /** The lines of the client's sharing.txt that could not be read (their files are `never` until fixed). */
  sharingErrors(clientId: string): SharingLineError[] {
    return isValidClientId(clientId) ? this.rules(clientId).errors : [];
  }

  /**
   * Sets a document's sharing rule: its line in the client's sharing.txt is replaced (or added), the
   * file written atomically. Undefined when the client has no such document.
   */
  setShareRule(clientId: string, documentId: string, rule: ShareRule): Promise<DocumentInfo | undefined> {
    if (!isValidClientId(clientId)) return Promise.resolve(undefined);
    const dir = this.clientDir(clientId);
    return this.enqueue(clientId, async () => {
      const doc = this.store.getDocument(clientId, documentId);
      if (!doc) return undefined;
      const current = await readFile(join(dir, SHARING_FILE), 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return '';
        throw err;
      });
      await writeFileAtomic(dir, SHARING_FILE, Buffer.from(withRule(current, doc.file, rule)));
      this.sharing.delete(clientId);
      this.log.info({ clientId, documentId, file: doc.file, share: rule }, 'knowledge: sharing rule set');
      return this.withRule(clientId, doc);
    });
  }

  /**
   * The client's sharing rules. sharing.txt is checked on every use (one stat): a hand edit applies to
   * the next search even with the watcher off, and a rule set to `never` never waits for a sync.
   */
  private rules(clientId: string): SharingRules {
    const file = join(this.clientDir(clientId), SHARING_FILE);
    let stamp = 'absent';
    try {
      const st = statSync(file);
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') stamp = 'unreadable';
    }
    const cached = this.sharing.get(clientId);
    if (cached && cached.stamp === stamp) return cached.rules;
    let text = '';
    if (stamp !== 'absent') {
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          // Unreadable rules share nothing: every document is treated as `never` until it can be read.
          this.log.error({ err, clientId }, 'knowledge: sharing.txt cannot be read; nothing of this client is shared');
          text = 'default: never\nprofile.txt: never\n';
        }
      }
    }
    const rules = parseSharing(text);
    if (rules.errors.length) this.log.warn({ clientId, errors: rules.errors }, 'knowledge: sharing.txt has lines that cannot be read; their files are not shared');
    this.sharing.set(clientId, { stamp, rules });
    return rules;
  }

  private withRule(clientId: string, d: StoredDocument): DocumentInfo {
    const profile = isProfileFile(d.file);
    return { ...d, share: ruleFor(this.rules(clientId), d.file, profile), profile };
  }

  /** Per-client document and chunk counts, for client listings. */
  clientCounts(): Map<string, { documents: number; chunks: number }> {
    return this.store.clientCounts();
  }

  /** Removes the document's file and everything indexed from it. False when the client has no such document. */
  deleteDocument(clientId: string, documentId: string): Promise<boolean> {
    if (!isValidClientId(clientId)) return Promise.resolve(false);
    const dir = this.clientDir(clientId);
    return this.enqueue(clientId, async () => {
      const doc = this.store.getDocument(clientId, documentId);
      if (!doc) return false;
      if (isProfileFile(doc.file)) throw new KnowledgeError(`${doc.file} is the client's profile: edit it in the client's folder (it cannot be deleted here)`, 409, 'docId');
      await unlink(join(dir, doc.file)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      this.store.deleteDocument(doc.id);
      this.log.info({ clientId, documentId, file: doc.file }, 'knowledge: document deleted');
      this.onLocalChange(clientId);
      return true;
    });
  }

  /**
   * Stores uploaded files in the client's folder (name checked, content sniffed, written atomically; an
   * existing file of that name is replaced) and indexes them. A bad file is reported and skipped; the
   * others are stored.
   */
  async addDocuments(clientId: string, files: Array<{ name: string; bytes: Uint8Array }>): Promise<{ documents: DocumentInfo[]; errors: Array<{ file: string; error: string; status: number }> }> {
    const dir = this.clientDir(clientId);
    const errors: Array<{ file: string; error: string; status: number }> = [];
    const stored: string[] = [];
    for (const f of files) {
      try {
        const name = safeUploadName(f.name);
        const problem = sniffMismatch(kindFromName(name)!, f.bytes);
        if (problem) throw new KnowledgeError(`${name}: ${problem}`, 415, 'file');
        await writeFileAtomic(dir, name, f.bytes);
        if (!stored.includes(name)) stored.push(name);
      } catch (err) {
        const status = err instanceof KnowledgeError ? err.status : 500;
        if (status >= 500) this.log.error({ err, clientId, file: f.name }, 'knowledge: upload could not be stored');
        errors.push({ file: f.name, error: err instanceof KnowledgeError ? err.message : `could not store the file: ${(err as Error).message}`, status });
      }
    }
    if (stored.length) await this.syncClient(clientId);
    const docs = this.listDocuments(clientId);
    return { documents: stored.map((name) => docs.find((d) => d.file === name)).filter((d): d is DocumentInfo => d !== undefined), errors };
  }

  /**
   * Ranks the client's passages for a query. The sharing rules are applied here, before anything is
   * returned: documents the purpose may not see are filtered inside the index queries (so they take no
   * place in the top k), `when-asked-and-relevant` passages are dropped from lookups below
   * LOOKUP_MIN_RELEVANCE (rank.ts), and every result is checked once more against its document's rule.
   */
  async search(clientId: string, query: string, o: SearchOptions): Promise<{ mode: SearchMode; results: RetrievedChunk[] }> {
    const k = Math.min(Math.max(Math.trunc(o.k ?? 5), 1), MAX_K);
    let mode: SearchMode = o.mode ?? (this.vectorsEnabled ? 'hybrid' : 'lexical');
    if (mode !== 'lexical' && !this.vectorsEnabled) {
      if (mode === 'vector') throw new KnowledgeError('vector search needs an embeddings provider (set EMBEDDINGS_PROVIDER and its API key)', 400, 'mode');
      mode = 'lexical';
    }
    if (!isValidClientId(clientId) || !query.trim()) return { mode, results: [] };

    const documents = this.listDocuments(clientId).map((d) => ({ id: d.id, share: d.share, profile: d.profile }));
    const exclude = documents.filter((d) => !visibleFor(o.purpose, d)).map((d) => d.id);
    if (exclude.length === documents.length) return { mode, results: [] };

    let vector: Float32Array | undefined;
    if (mode !== 'lexical') {
      try {
        // A slow provider must not hold up a call's start or a lookup the callee is waiting for.
        vector = o.queryVector ?? (await this.embedder!.embed([vectorQueryText(query)], 'query', { signal: AbortSignal.timeout(this.queryEmbedTimeoutMs) }))[0];
      } catch (err) {
        if (mode === 'vector') throw new KnowledgeError(`embeddings request failed (${this.embedder!.provider}): ${(err as Error).message}`, 502);
        this.log.warn({ err, clientId, provider: this.embedder!.provider }, 'knowledge: query embedding failed; searching lexically');
        mode = 'lexical';
      }
    }

    // The reads run on the search thread: the rules and the query vector travel as plain data.
    const results = await this.searcher.rank({ clientId, query, mode, vector, k, purpose: o.purpose, documents, exclude, vectorsReady: this.store.vectorsReady });
    return { mode, results };
  }

  private async sync(clientId: string, dir: string, announce: boolean): Promise<SyncReport> {
    const report: SyncReport = { clientId, added: [], updated: [], removed: [], unchanged: [], failed: [], embedded: [] };
    // A sync follows every change in the folder (the watcher, an upload): sharing.txt may be one.
    this.sharing.delete(clientId);
    const files = await listIndexableFiles(dir);
    const known = new Map(this.store.listDocuments(clientId).map((d) => [d.file, d]));

    for (const doc of known.values()) {
      if (!files.includes(doc.file)) {
        this.store.deleteDocument(doc.id);
        report.removed.push(doc.file);
      }
    }

    const toIndex: Array<{ id: string; file: string; bytes: Buffer }> = [];
    for (const file of files) {
      let bytes: Buffer;
      try {
        bytes = await readFile(join(dir, file));
      } catch (err) {
        // Vanished between listing and reading (being replaced): the next sync sees it.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const prior = known.get(file);
      if (prior && prior.sha256 === sha256 && (prior.status === 'indexed' || prior.status === 'failed')) {
        report.unchanged.push(file);
        continue;
      }
      const id = documentId(clientId, file);
      this.store.markPending(id, clientId, file, bytes.length, sha256);
      (prior ? report.updated : report.added).push(file);
      toIndex.push({ id, file, bytes });
    }

    for (const f of toIndex) {
      const error = await this.indexFile(clientId, f.id, f.file, f.bytes);
      if (error) report.failed.push({ file: f.file, error });
    }
    if (this.vectorsEnabled) {
      for (const d of this.store.unembeddedDocuments(clientId)) if (await this.embedDocument(clientId, d.id, d.file)) report.embedded.push(d.file);
    }
    if (report.added.length || report.updated.length || report.removed.length) {
      if (announce) this.onLocalChange(clientId);
      this.log.info({ clientId, added: report.added.length, updated: report.updated.length, removed: report.removed.length, failed: report.failed.length }, 'knowledge: client synced');
    }
    return report;
  }

  /** Parses, chunks and stores one file; returns the error when it cannot be indexed. */
  private async indexFile(clientId: string, id: string, file: string, bytes: Buffer): Promise<string | undefined> {
    this.store.setStatus(id, 'indexing');
    try {
      const kind = kindFromName(file)!;
      const problem = sniffMismatch(kind, bytes);
      if (problem) throw new KnowledgeError(problem, 415);
      const extracted = await this.extractor.extract(kind, bytes, this.chunking);
      const title = titleOf(file);
      const chunks = extracted.chunks.map((c) => ({ ...c, context: c.heading ? `${title} — ${c.heading}` : title }));
      this.store.replaceChunks(id, clientId, chunks, extracted.pageCount);
      if (!chunks.length) this.store.setStatus(id, 'indexed', kind === 'pdf' ? 'no text found (a scanned PDF needs OCR first)' : 'no text found');
      return undefined;
    } catch (err) {
      const message = (err as Error).message;
      this.store.markFailed(id, message);
      this.log.warn({ clientId, file, error: message }, 'knowledge: document could not be indexed');
      return message;
    }
  }

  /** Embeds a document's chunks in batches; a failure leaves it lexically searchable, with the reason. */
  private async embedDocument(clientId: string, id: string, file: string): Promise<boolean> {
    const embedder = this.embedder!;
    const chunks = this.store.chunksForEmbedding(id);
    try {
      const vectors: Float32Array[] = [];
      for (let i = 0; i < chunks.length; i += this.embedBatchSize) {
        const batch = chunks.slice(i, i + this.embedBatchSize);
        const out = await embedder.embed(batch.map((c) => c.input), 'document');
        if (out.length !== batch.length) throw new Error(`expected ${batch.length} vectors, got ${out.length}`);
        for (const v of out) if (v.length !== embedder.dimensions) throw new Error(`expected ${embedder.dimensions} dimensions, got ${v.length}`);
        vectors.push(...out);
      }
      this.store.putVectors(id, clientId, chunks.map((c, i) => ({ rowId: c.rowId, vector: vectors[i]! })));
      return true;
    } catch (err) {
      const message = `embeddings failed (${embedder.provider} ${embedder.model}): ${(err as Error).message}; the document is searchable by keywords only`;
      this.store.setEmbedError(id, message);
      this.log.warn({ clientId, file, provider: embedder.provider, error: (err as Error).message }, 'knowledge: embeddings failed; document stays lexically searchable');
      return false;
    }
  }

  private enqueue<T>(clientId: string, work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new KnowledgeError('the knowledge base is shutting down', 503));
    const prior = this.queues.get(clientId) ?? Promise.resolve();
    const next = prior.then(work, work);
    const tail = next.catch(() => {});
    this.queues.set(clientId, tail);
    void tail.then(() => {
      if (this.queues.get(clientId) === tail) this.queues.delete(clientId);
    });
    return next;
  }

  /** Resolves when every queued sync, upload and delete has finished (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.queues.size) await Promise.all(this.queues.values());
  }

  /** Waits for queued work, then stops the parser thread. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
    await this.extractor.close();
    await this.searcher.close();
  }
}

/** Stable per (client, file): a re-uploaded or edited file keeps its id. */
export function documentId(clientId: string, file: string): string {
  return createHash('sha256').update(`${clientId}/${file}`).digest('hex').slice(0, 16);
}

/** "insurance-card_2024.pdf" -> "insurance card 2024": words a question may use for the whole file. */
function titleOf(file: string): string {
  return file.replace(/\.[^.]+$/, '').replace(/[-_.]+/g, ' ').trim();
}

