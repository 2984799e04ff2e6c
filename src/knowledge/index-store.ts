import * as sqliteVec from 'sqlite-vec';
import type { Db } from '../store/database.js';
import type { Chunk } from './chunk.js';
import { matchExpression } from './fts-query.js';
import type { DocumentInfo, DocumentStatus } from './types.js';

/** A document as stored; its sharing rule comes from the client's folder (sharing.txt), not the index. */
export type StoredDocument = Omit<DocumentInfo, 'share' | 'profile'>;

/** A ranked chunk id: `raw` is bm25 or cosine distance (lower is better for both). */
export interface RankedId {
  rowId: number;
  raw: number;
}

/** One chunk as stored, with its document's file, ready to become a RetrievedChunk. */
export interface StoredChunk {
  rowId: number;
  documentId: string;
  file: string;
  page: number | null;
  position: number;
  text: string;
}

interface DocumentRow {
  id: string;
  client_id: string;
  file: string;
  bytes: number;
  sha256: string;
  status: DocumentStatus;
  error: string | null;
  pages: number | null;
  chunks: number;
  embedded: number;
  embed_error: string | null;
  indexed_at: string | null;
  updated_at: string;
}

export interface VectorConfig {
  provider: string;
  model: string;
  dimensions: number;
}

/**
 * All SQL of the knowledge base. Every read and write is scoped by client id; the vector table is
 * partitioned by client id, so a nearest-neighbour search only ever scans that client's vectors.
 */
export class IndexStore {
  /** True when sqlite-vec is loaded and the vector table matches the configured embedder. */
  vectorsReady = false;
  private vecLoaded = false;
  private cachedChunkCount: number | undefined;

  constructor(private readonly db: Db) {}

  /** Loads sqlite-vec into the connection; false (lexical only) when the platform has no build of it. */
  loadVectorExtension(): boolean {
    if (this.vecLoaded) return true;
    try {
      sqliteVec.load(this.db);
      this.vecLoaded = true;
    } catch {
      this.vecLoaded = false;
    }
    return this.vecLoaded;
  }

  /**
   * Makes the vector table fit the embedder. A different provider, model or dimension means the stored
   * vectors are meaningless for new queries: the table is rebuilt and every document marked for
   * re-embedding. Returns whether that happened.
   */
  prepareVectors(cfg: VectorConfig): boolean {
    if (!this.loadVectorExtension()) return false;
    const current = this.db.prepare('SELECT provider, model, dimensions FROM kb_vector_config WHERE id = 1').get() as VectorConfig | undefined;
    const hasTable = Boolean(this.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'kb_vectors'").get());
    const same = current && hasTable && current.provider === cfg.provider && current.model === cfg.model && current.dimensions === cfg.dimensions;
    if (!same) {
      this.db.transaction(() => {
        this.db.exec('DROP TABLE IF EXISTS kb_vectors');
        this.db.exec(`CREATE VIRTUAL TABLE kb_vectors USING vec0(client_id TEXT PARTITION KEY, embedding FLOAT[${Math.trunc(cfg.dimensions)}] distance_metric=cosine)`);
        this.db.prepare('INSERT INTO kb_vector_config (id, provider, model, dimensions) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET provider = excluded.provider, model = excluded.model, dimensions = excluded.dimensions').run(cfg.provider, cfg.model, cfg.dimensions);
        this.db.prepare('UPDATE kb_documents SET embedded = 0, embed_error = NULL').run();
      })();
    }
    this.vectorsReady = true;
    return !same;
  }

  listDocuments(clientId: string): StoredDocument[] {
    const rows = this.db.prepare('SELECT * FROM kb_documents WHERE client_id = ? ORDER BY file').all(clientId) as DocumentRow[];
    return rows.map((r) => this.toInfo(r));
  }

  getDocument(clientId: string, id: string): StoredDocument | undefined {
    const row = this.db.prepare('SELECT * FROM kb_documents WHERE client_id = ? AND id = ?').get(clientId, id) as DocumentRow | undefined;
    return row && this.toInfo(row);
  }

  /** Per-client document and chunk counts. */
  clientCounts(): Map<string, { documents: number; chunks: number }> {
    const rows = this.db.prepare('SELECT client_id, COUNT(*) AS documents, COALESCE(SUM(chunks), 0) AS chunks FROM kb_documents GROUP BY client_id').all() as Array<{ client_id: string; documents: number; chunks: number }>;
    return new Map(rows.map((r) => [r.client_id, { documents: r.documents, chunks: r.chunks }]));
  }

  /** Records a file found on disk (new or changed) as waiting to be indexed. */
  markPending(id: string, clientId: string, file: string, bytes: number, sha256: string): void {
    this.db
      .prepare(
        `INSERT INTO kb_documents (id, client_id, file, bytes, sha256, status, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', ?)
         ON CONFLICT (id) DO UPDATE SET bytes = excluded.bytes, sha256 = excluded.sha256, status = 'pending', error = NULL, updated_at = excluded.updated_at`,
      )
      .run(id, clientId, file, bytes, sha256, now());
  }

  setStatus(id: string, status: DocumentStatus, error?: string): void {
    this.db.prepare('UPDATE kb_documents SET status = ?, error = ?, updated_at = ? WHERE id = ?').run(status, error ?? null, now(), id);
  }

  /** A document that cannot be parsed keeps no chunks (stale text must not be retrieved). */
  markFailed(id: string, error: string): void {
    this.db.transaction(() => {
      this.deleteChunks(id);
      this.db.prepare("UPDATE kb_documents SET status = 'failed', error = ?, chunks = 0, pages = NULL, embedded = 0, embed_error = NULL, indexed_at = NULL, updated_at = ? WHERE id = ?").run(error, now(), id);
    })();
  }

  /** Replaces a document's chunks in one transaction; returns the new chunks' row ids in order. */
  replaceChunks(id: string, clientId: string, chunks: Array<Chunk & { context: string }>, pages: number | undefined): number[] {
    return this.db.transaction(() => {
      this.deleteChunks(id);
      this.cachedChunkCount = undefined;
      const insert = this.db.prepare('INSERT INTO kb_chunks (document_id, client_id, position, page, start_char, end_char, text, context) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      const ids = chunks.map((c) => Number(insert.run(id, clientId, c.position, c.page, c.startChar, c.endChar, c.text, c.context).lastInsertRowid));
      const at = now();
      this.db.prepare("UPDATE kb_documents SET status = 'indexed', error = NULL, chunks = ?, pages = ?, embedded = 0, embed_error = NULL, indexed_at = ?, updated_at = ? WHERE id = ?").run(chunks.length, pages ?? null, at, at, id);
      return ids;
    })();
  }

  /** The chunks to embed for a document: row id and the text the embedder sees. */
  chunksForEmbedding(id: string): Array<{ rowId: number; input: string }> {
    const rows = this.db.prepare('SELECT id, text, context FROM kb_chunks WHERE document_id = ? ORDER BY position').all(id) as Array<{ id: number; text: string; context: string }>;
    return rows.map((r) => ({ rowId: r.id, input: r.context ? `${r.context}\n${r.text}` : r.text }));
  }

  /** Documents of a client whose vectors are missing (new embedder, earlier failure). */
  unembeddedDocuments(clientId: string): Array<{ id: string; file: string }> {
    return this.db.prepare("SELECT id, file FROM kb_documents WHERE client_id = ? AND status = 'indexed' AND embedded = 0 AND chunks > 0").all(clientId) as Array<{ id: string; file: string }>;
  }

  putVectors(id: string, clientId: string, vectors: Array<{ rowId: number; vector: Float32Array }>): void {
    this.db.transaction(() => {
      this.deleteVectors(id);
      const insert = this.db.prepare('INSERT INTO kb_vectors (rowid, client_id, embedding) VALUES (?, ?, ?)');
      for (const v of vectors) insert.run(BigInt(v.rowId), clientId, Buffer.from(v.vector.buffer, v.vector.byteOffset, v.vector.byteLength));
      this.db.prepare('UPDATE kb_documents SET embedded = 1, embed_error = NULL, updated_at = ? WHERE id = ?').run(now(), id);
    })();
  }

  setEmbedError(id: string, error: string): void {
    this.db.prepare('UPDATE kb_documents SET embedded = 0, embed_error = ?, updated_at = ? WHERE id = ?').run(error, now(), id);
  }

  deleteDocument(id: string): void {
    this.db.transaction(() => {
      this.deleteChunks(id);
      this.db.prepare('DELETE FROM kb_documents WHERE id = ?').run(id);
    })();
  }

  /**
   * BM25 over the client's chunks, best first. Only ids and scores are ranked (the sort does not carry
   * chunk text); `chunks` fetches what is shown.
   *
   * FTS5 scores every chunk that matches any term, and its BM25 gives a term found in half the chunks
   * or more an IDF of ~0: such a term changes no ranking, it only makes more chunks to score. So those
   * terms are left out of the query when rarer ones remain, and put back only if the rarer terms alone
   * do not fill the list.
   */
  searchLexical(clientId: string, terms: string[], limit: number, excludeDocuments: string[] = []): RankedId[] {
    const all = matchExpression(terms);
    if (!all) return [];
    const rare = terms.length > 1 ? this.withoutCommonTerms(terms) : terms;
    if (rare.length && rare.length < terms.length) {
      const hits = this.lexicalQuery(clientId, matchExpression(rare)!, limit, excludeDocuments);
      if (hits.length === limit) return hits;
    }
    return this.lexicalQuery(clientId, all, limit, excludeDocuments);
  }

  /** Documents the sharing rules keep out are filtered in the query, so they never take a place in the top k. */
  private lexicalQuery(clientId: string, match: string, limit: number, excludeDocuments: string[]): RankedId[] {
    if (!excludeDocuments.length) {
      return this.db
        .prepare(
          `SELECT c.id AS rowId, bm25(kb_chunks_fts, 1.0, 0.5) AS raw
           FROM kb_chunks_fts JOIN kb_chunks c ON c.id = kb_chunks_fts.rowid
           WHERE kb_chunks_fts MATCH ? AND c.client_id = ?
           ORDER BY raw LIMIT ?`,
        )
        .all(match, clientId, limit) as RankedId[];
    }
    return this.db
      .prepare(
        `SELECT c.id AS rowId, bm25(kb_chunks_fts, 1.0, 0.5) AS raw
         FROM kb_chunks_fts JOIN kb_chunks c ON c.id = kb_chunks_fts.rowid
         WHERE kb_chunks_fts MATCH ? AND c.client_id = ? AND c.document_id NOT IN (SELECT value FROM json_each(?))
         ORDER BY raw LIMIT ?`,
      )
      .all(match, clientId, JSON.stringify(excludeDocuments), limit) as RankedId[];
  }

  /**
   * FTS5's BM25 inverse document frequency of each term over the whole index: ln((N - n + 0.5) / (n + 0.5)),
   * at least 1e-6, as FTS5 computes it. The sum over a query's terms is about what a chunk holding each
   * term once scores, which makes a score comparable across index sizes.
   */
  termIdfs(terms: string[]): number[] {
    const total = this.chunkCount();
    const count = this.db.prepare('SELECT count(*) FROM kb_chunks_fts WHERE kb_chunks_fts MATCH ?').pluck();
    return terms.map((t) => {
      const n = count.get(matchExpression([t])) as number;
      return Math.max(1e-6, Math.log((total - n + 0.5) / (n + 0.5)));
    });
  }

  /** For each of the given chunks, how many of the terms it contains (one FTS query per term). */
  termCoverage(rowIds: number[], terms: string[]): Map<number, number> {
    const out = new Map<number, number>(rowIds.map((id) => [id, 0]));
    if (!rowIds.length) return out;
    const q = this.db.prepare('SELECT rowid FROM kb_chunks_fts WHERE kb_chunks_fts MATCH ? AND rowid IN (SELECT value FROM json_each(?))').pluck();
    const ids = JSON.stringify(rowIds);
    for (const t of terms) for (const id of q.all(matchExpression([t]), ids) as number[]) out.set(id, (out.get(id) ?? 0) + 1);
    return out;
  }

  private withoutCommonTerms(terms: string[]): string[] {
    const total = this.chunkCount();
    const count = this.db.prepare('SELECT count(*) FROM kb_chunks_fts WHERE kb_chunks_fts MATCH ?').pluck();
    return terms.filter((t) => 2 * (count.get(matchExpression([t])) as number) < total);
  }

  /** Drops cached counts: for a reader whose connection does not see this store's writes happen. */
  forgetCounts(): void {
    this.cachedChunkCount = undefined;
  }

  /** Chunks in the whole index (BM25's N), cached until the next write. */
  private chunkCount(): number {
    return (this.cachedChunkCount ??= this.db.prepare('SELECT count(*) FROM kb_chunks').pluck().get() as number);
  }

  /**
   * Nearest neighbours by cosine distance within the client's partition, nearest first. The vector
   * table knows no documents, so excluded documents' chunks are over-fetched (as many extra as they
   * have, up to sqlite-vec's limit of 4096) and dropped.
   */
  searchVector(clientId: string, vector: Float32Array, limit: number, excludeDocuments: string[] = []): RankedId[] {
    if (!this.vectorsReady) return [];
    const excludedChunks = excludeDocuments.length ? (this.db.prepare('SELECT count(*) FROM kb_chunks WHERE client_id = ? AND document_id IN (SELECT value FROM json_each(?))').pluck().get(clientId, JSON.stringify(excludeDocuments)) as number) : 0;
    const hits = this.db
      .prepare('SELECT rowid AS rowId, distance AS raw FROM kb_vectors WHERE embedding MATCH ? AND k = ? AND client_id = ? ORDER BY distance')
      .all(Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength), Math.min(4096, limit + excludedChunks), clientId) as RankedId[];
    if (!excludedChunks) return hits.slice(0, limit);
    const allowed = new Set(
      this.db
        .prepare('SELECT id FROM kb_chunks WHERE id IN (SELECT value FROM json_each(?)) AND document_id NOT IN (SELECT value FROM json_each(?))')
        .pluck()
        .all(JSON.stringify(hits.map((h) => h.rowId)), JSON.stringify(excludeDocuments)) as number[],
    );
    return hits.filter((h) => allowed.has(h.rowId)).slice(0, limit);
  }

  /** The document of each chunk id (of this client). */
  chunkDocuments(clientId: string, rowIds: number[]): Array<[number, string]> {
    if (!rowIds.length) return [];
    const rows = this.db.prepare('SELECT id, document_id FROM kb_chunks WHERE client_id = ? AND id IN (SELECT value FROM json_each(?))').all(clientId, JSON.stringify(rowIds)) as Array<{ id: number; document_id: string }>;
    return rows.map((r) => [r.id, r.document_id]);
  }

  /** The chunks behind ranked ids, in the order given; ids of other clients (or deleted chunks) are dropped. */
  chunks(clientId: string, rowIds: number[]): StoredChunk[] {
    if (!rowIds.length) return [];
    const rows = this.db
      .prepare(
        `SELECT c.id AS rowId, c.document_id AS documentId, d.file AS file, c.page AS page, c.position AS position, c.text AS text
         FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id
         WHERE c.client_id = ? AND c.id IN (SELECT value FROM json_each(?))`,
      )
      .all(clientId, JSON.stringify(rowIds)) as StoredChunk[];
    const byId = new Map(rows.map((r) => [r.rowId, r]));
    return rowIds.map((id) => byId.get(id)).filter((r): r is StoredChunk => r !== undefined);
  }

  private deleteChunks(id: string): void {
    this.cachedChunkCount = undefined;
    this.deleteVectors(id);
    this.db.prepare('DELETE FROM kb_chunks WHERE document_id = ?').run(id);
  }

  private deleteVectors(id: string): void {
    if (!this.vectorsReady) return;
    const del = this.db.prepare('DELETE FROM kb_vectors WHERE rowid = ?');
    for (const rowId of this.db.prepare('SELECT id FROM kb_chunks WHERE document_id = ?').pluck().all(id) as number[]) del.run(BigInt(rowId));
  }

  private toInfo(r: DocumentRow): StoredDocument {
    const error = r.error ?? (r.status === 'indexed' ? r.embed_error : null);
    return {
      id: r.id,
      file: r.file,
      bytes: r.bytes,
      sha256: r.sha256,
      status: r.status,
      ...(error ? { error } : {}),
      chunks: r.chunks,
      ...(r.pages !== null ? { pages: r.pages } : {}),
      embedded: this.vectorsReady && r.embedded === 1,
      ...(r.indexed_at ? { indexedAt: r.indexed_at } : {}),
      updatedAt: r.updated_at,
    };
  }
}

function now(): string {
  return new Date().toISOString();
}
