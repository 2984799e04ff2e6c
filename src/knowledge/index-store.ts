import * as sqliteVec from 'sqlite-vec';
import type { Db } from '../store/database.js';
import type { Chunk } from './chunk.js';
import type { DocumentInfo, DocumentStatus } from './types.js';

/** One chunk as stored, with its document's file, ready to become a RetrievedChunk. */
export interface StoredChunkHit {
  rowId: number;
  documentId: string;
  file: string;
  page: number | null;
  position: number;
  text: string;
  /** bm25 (lower is better) or cosine distance (lower is better). */
  raw: number;
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

  listDocuments(clientId: string): DocumentInfo[] {
    const rows = this.db.prepare('SELECT * FROM kb_documents WHERE client_id = ? ORDER BY file').all(clientId) as DocumentRow[];
    return rows.map((r) => this.toInfo(r));
  }

  getDocument(clientId: string, id: string): DocumentInfo | undefined {
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

  /** BM25 over the client's chunks; `match` must come from ftsMatchExpression. */
  searchLexical(clientId: string, match: string, limit: number): StoredChunkHit[] {
    return this.db
      .prepare(
        `SELECT c.id AS rowId, c.document_id AS documentId, d.file AS file, c.page AS page, c.position AS position, c.text AS text, bm25(kb_chunks_fts, 1.0, 0.5) AS raw
         FROM kb_chunks_fts JOIN kb_chunks c ON c.id = kb_chunks_fts.rowid JOIN kb_documents d ON d.id = c.document_id
         WHERE kb_chunks_fts MATCH ? AND c.client_id = ?
         ORDER BY raw LIMIT ?`,
      )
      .all(match, clientId, limit) as StoredChunkHit[];
  }

  /** Nearest neighbours by cosine distance within the client's partition. */
  searchVector(clientId: string, vector: Float32Array, limit: number): StoredChunkHit[] {
    if (!this.vectorsReady) return [];
    return this.db
      .prepare(
        `WITH knn AS (SELECT rowid, distance FROM kb_vectors WHERE embedding MATCH ? AND k = ? AND client_id = ?)
         SELECT c.id AS rowId, c.document_id AS documentId, d.file AS file, c.page AS page, c.position AS position, c.text AS text, knn.distance AS raw
         FROM knn JOIN kb_chunks c ON c.id = knn.rowid JOIN kb_documents d ON d.id = c.document_id
         WHERE c.client_id = ?
         ORDER BY knn.distance`,
      )
      .all(Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength), limit, clientId, clientId) as StoredChunkHit[];
  }

  private deleteChunks(id: string): void {
    this.deleteVectors(id);
    this.db.prepare('DELETE FROM kb_chunks WHERE document_id = ?').run(id);
  }

  private deleteVectors(id: string): void {
    if (!this.vectorsReady) return;
    const del = this.db.prepare('DELETE FROM kb_vectors WHERE rowid = ?');
    for (const rowId of this.db.prepare('SELECT id FROM kb_chunks WHERE document_id = ?').pluck().all(id) as number[]) del.run(BigInt(rowId));
  }

  private toInfo(r: DocumentRow): DocumentInfo {
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
