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
  /**
   * Keyword relevance: the BM25 score over what a chunk holding each of the question's words once would
   * score (0 when no word matches). Lookups pass `when-asked-and-relevant` passages from LOOKUP_MIN_RELEVANCE.
   */
  relevance: number;
  /** Its document's sharing rule (sharing.ts). */
  share: ShareRule;
  /**
   * Whether lookup_context would hand this passage to the model for this question: its document is
   * `always`, or `when-asked-and-relevant` and the passage's relevance reaches LOOKUP_MIN_RELEVANCE.
   */
  agentCanShare: boolean;
}

/**
 * Who the results are for, which decides what the sharing rules let through:
 * - `prompt`: the call-start reference excerpts. Only `always` documents, and not the profile (it is in
 *   the prompt whole already).
 * - `lookup`: lookup_context. `always` documents, and `when-asked-and-relevant` ones whose passage is
 *   relevant; never `never`.
 * - `review`: the owner's search box. Every document, each result saying whether the agent could share it.
 */
export type SearchPurpose = 'prompt' | 'lookup' | 'review';

export type SearchMode = 'lexical' | 'vector' | 'hybrid';

export type { DocumentStatus, DocumentInfo, ShareRule } from '../shared/api-types.js';
import type { ShareRule } from '../shared/api-types.js';

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
