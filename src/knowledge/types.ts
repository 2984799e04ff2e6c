/** The knowledge base's public shapes: what callers (API, calls, tools, benchmarks) code against. */

export type EmbeddingsProvider = 'openai' | 'gemini';

/** Turns texts into vectors. `kind` lets providers that distinguish queries from documents do so. */
export interface Embedder {
  readonly provider: EmbeddingsProvider;
  readonly model: string;
  readonly dimensions: number;
  /** `signal` aborts the request (a query embedding has a deadline: it must not hold up a call). */
  embed(texts: string[], kind: 'query' | 'document', o?: { signal?: AbortSignal }): Promise<Float32Array[]>;
}

export interface RetrievedChunk {
  chunkId: string;
  documentId: string;
  file: string;
  /** 1-based page for PDFs; null for formats without pages. */
  page: number | null;
  /** Ordinal of the chunk within its file (0-based). */
  position: number;
  text: string;
  /** Higher is better. Lexical: -bm25; vector: cosine similarity; hybrid: reciprocal-rank-fusion sum. */
  score: number;
  /** 1-based rank of the chunk in each list it appeared in. */
  ranks: { lexical?: number; vector?: number };
}

export type SearchMode = 'lexical' | 'vector' | 'hybrid';

export type { DocumentStatus, DocumentInfo } from '../shared/api-types.js';

export interface SyncReport {
  clientId: string;
  added: string[];
  updated: string[];
  removed: string[];
  unchanged: string[];
  /** Files that could not be read or parsed; they stay listed with status 'failed'. */
  failed: Array<{ file: string; error: string }>;
  /** Files whose chunks got vectors in this sync (new, changed, or previously missing). */
  embedded: string[];
}

/** A pino-like logger (Fastify's logger fits). */
export interface KnowledgeLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** A request the knowledge base cannot serve as asked; `status` is the HTTP status that fits. */
export class KnowledgeError extends Error {
  constructor(
    message: string,
    readonly status = 400,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'KnowledgeError';
  }
}
