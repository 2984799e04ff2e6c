import type { IndexStore } from './index-store.js';
import { ftsTerms, searchTerms } from './fts-query.js';
import { reciprocalRankFusion } from './fusion.js';
import type { RetrievedChunk, SearchMode, SearchPurpose, ShareRule } from './types.js';

/**
 * The read-only half of a search: given what the sharing rules allow, rank a client's chunks for a
 * question and fetch the winners' text. Everything here is SQLite reads on one connection, which is why
 * it is its own module: the server runs it on a read-only connection in a thread of its own
 * (search-thread.ts), so a search over a large index never holds up live calls' audio.
 */

/** How deep each list goes before fusion: deep enough that a chunk ranked low in one list still counts. */
export const FUSION_DEPTH = 50;
/**
 * Weighted reciprocal rank fusion: the keyword list (with the field synonyms) counts 4 times the vector
 * list, and k = 10 rather than 60 so the first ranks of each list dominate. Measured on the evaluation
 * set (test/fixtures/knowledge-eval) with the embeddings simulator, whose vectors rank worse than
 * keywords (vector recall@5 0.76 against lexical 0.97): equal weights (k = 60) lost lexical hits
 * (hybrid recall@5 0.944); a lexical weight of 3 to 5 with k from 5 to 20 gives 0.972 everywhere in that
 * range. Vectors still reorder and fill the list. Re-measure with a real embeddings model before
 * trusting vectors more.
 */
const HYBRID_LEXICAL_WEIGHT = 4;
const HYBRID_RRF_K = 10;
/**
 * How relevant a passage of a `when-asked-and-relevant` document must be for lookup_context to hand it
 * to the model. Relevance is the passage's keyword (BM25) score divided by the IDF mass of the
 * question's own words (what a passage holding each of them once would score), so the bar means the
 * same in a 10-chunk index and a 10,000-chunk one; raw BM25 scores grow with the index (a bar of 3 let
 * nothing through in a client's first few documents). Measured on the evaluation set (bench/retrieval.ts
 * prints it): the answering passages' relevance has a median of 0.71 (0.78 among 10,000 chunks) and a
 * 10th percentile of 0.24 (0.36); at 0.25, 89% of answering passages pass on the set alone and 97%
 * among 10,000 chunks. The best passage for questions the documents cannot answer scores 0 to 0.43
 * (0 to 0.79 at 10k): they still share words such as "number" with some passage, so this bar keeps
 * out passages that barely touch the question, not every unrelated one. A passage found by vectors
 * alone (no shared word or field synonym) has relevance 0: meaning-only matches are where an
 * embeddings model is least predictable. A document the agent may always use should be `always`.
 */
export const LOOKUP_MIN_RELEVANCE = 0.25;
/** Below this IDF mass the index is too small for BM25 to rank (see `search`). One rare word in ten chunks weighs 1.85. */
const MIN_IDF_MASS = 0.1;

export interface RankDocument {
  id: string;
  share: ShareRule;
  profile: boolean;
}

export interface RankRequest {
  clientId: string;
  query: string;
  /** Already settled: `hybrid` or `vector` only with a query vector. */
  mode: SearchMode;
  vector?: Float32Array;
  k: number;
  purpose: SearchPurpose;
  /** The client's documents with their sharing rules. */
  documents: RankDocument[];
  /** Documents the purpose may not see, filtered inside the queries. */
  exclude: string[];
  vectorsReady: boolean;
}

/** Which documents a purpose may see at all: the owner everything, the call-start prompt `always` documents but the profile (it is in the prompt whole), lookups all but `never`. */
export function visibleFor(purpose: SearchPurpose, d: RankDocument | undefined): boolean {
  return d !== undefined && (purpose === 'review' || (purpose === 'prompt' ? d.share === 'always' && !d.profile : d.share !== 'never'));
}

export function rankChunks(store: IndexStore, q: RankRequest): RetrievedChunk[] {
  const rules = new Map(q.documents.map((d) => [d.id, d]));
  const visible = (d: RankDocument | undefined) => visibleFor(q.purpose, d);
  // Lookups may drop passages below the relevance bar, so they rank deeper than k to still fill it.
  const depth = q.mode === 'hybrid' || q.purpose !== 'prompt' ? Math.max(q.k, FUSION_DEPTH) : q.k;
  const lexicalHits = q.mode === 'vector' ? [] : store.searchLexical(q.clientId, searchTerms(q.query), depth, q.exclude);
  const keywordScore = new Map(lexicalHits.map((h) => [h.rowId, -h.raw]));
  const nearest = () => store.searchVector(q.clientId, q.vector!, depth, q.exclude);

  let ranked: Array<{ rowId: number; score: number; ranks: RetrievedChunk['ranks'] }>;
  if (q.mode === 'lexical') ranked = lexicalHits.map((h, i) => ({ rowId: h.rowId, score: -h.raw, ranks: { lexical: i + 1 } }));
  else if (q.mode === 'vector') ranked = nearest().map((h, i) => ({ rowId: h.rowId, score: 1 - h.raw, ranks: { vector: i + 1 } }));
  else {
    const fused = reciprocalRankFusion(
      [
        { name: 'lexical', items: lexicalHits, weight: HYBRID_LEXICAL_WEIGHT },
        { name: 'vector', items: nearest() },
      ],
      (h) => String(h.rowId),
      HYBRID_RRF_K,
    );
    ranked = fused.map((f) => ({ rowId: f.item.rowId, score: f.score, ranks: f.ranks }));
  }
  // Relevance: the keyword score relative to what a chunk holding each of the question's own words once
  // would score (its IDF mass), so the bar means the same in a 10-chunk index and a 10,000-chunk one.
  // In a very small index every word is in half the chunks or more and FTS5 floors its IDF at 1e-6:
  // the mass says nothing, so relevance is then the share of the question's words the chunk holds.
  // Chunks only the vector list found have no keyword score: relevance 0.
  const words = ftsTerms(q.query);
  const mass = store.termIdfs(words).reduce((a, b) => a + b, 0);
  const coverage = mass < MIN_IDF_MASS && words.length ? store.termCoverage([...keywordScore.keys()], words) : undefined;
  const relevance = (rowId: number) => {
    if (!keywordScore.has(rowId)) return 0;
    return coverage ? (coverage.get(rowId) ?? 0) / words.length : keywordScore.get(rowId)! / mass;
  };
  const relevant = (rowId: number) => relevance(rowId) >= LOOKUP_MIN_RELEVANCE;
  const docOf = new Map(store.chunkDocuments(q.clientId, ranked.map((r) => r.rowId)));
  const agentCanShare = (rowId: number) => {
    const d = rules.get(docOf.get(rowId) ?? '');
    return d !== undefined && (d.share === 'always' || (d.share === 'when-asked-and-relevant' && relevant(rowId)));
  };
  const kept = ranked.filter((r) => visible(rules.get(docOf.get(r.rowId) ?? '')) && (q.purpose !== 'lookup' || agentCanShare(r.rowId))).slice(0, q.k);
  // Text is fetched for the final k only, with the client filter applied once more.
  const chunks = new Map(store.chunks(q.clientId, kept.map((r) => r.rowId)).map((c) => [c.rowId, c]));
  const results: RetrievedChunk[] = [];
  for (const r of kept) {
    const c = chunks.get(r.rowId);
    const d = c && rules.get(c.documentId);
    if (!c || !visible(d)) continue;
    results.push({ chunkId: `${c.documentId}:${c.position}`, documentId: c.documentId, file: c.file, page: c.page, position: c.position, text: c.text, score: r.score, ranks: r.ranks, relevance: relevance(r.rowId), share: d!.share, agentCanShare: agentCanShare(r.rowId) });
  }
  return results;
}
