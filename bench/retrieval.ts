/**
 * Retrieval quality and speed (`npm run bench -- --only retrieval`).
 *
 * 1. Indexes the evaluation set (test/fixtures/knowledge-eval: one client's insurance card, medical
 *    notes, errands and car records) through the real KnowledgeBase into a temporary SQLite database,
 *    with vectors from the OpenAI embedder talking to the embeddings simulator over HTTP, and scores
 *    recall@1 and recall@5 of its questions for lexical, vector and hybrid search.
 * 2. Grows the same client to 10,000 chunks with deterministic filler documents (a household's other
 *    paperwork) and scores the questions again, now among distractors.
 * 3. Times searches at that size over a few hundred different questions, per mode, with the query
 *    vector computed beforehand (the embeddings call is the provider's latency, not ours).
 *
 * Runs alone too: node --import tsx bench/retrieval.ts
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openDatabase } from '../src/store/database.js';
import { KnowledgeBase, LOOKUP_MIN_RELEVANCE, type Embedder, type SearchMode } from '../src/knowledge/index.js';
import { OpenAIEmbedder } from '../src/knowledge/embeddings/openai.js';
import { DEFAULT_EMBEDDINGS_MODEL } from '../src/knowledge/embeddings/embedder.js';
import { settingsSchema } from '../src/config/settings.js';
import { describeMisses, evalDocumentLines, installEvalClient, loadEvalSet, measureRecall, subsetRecall, zeroOverlapIds, type RecallReport } from '../test/fixtures/knowledge-eval/eval-set.js';
import { vectorQueryText } from '../src/knowledge/fts-query.js';
import { startEmbeddingsSim } from '../test/sim/embeddings/index.js';
import { fillerQuestions, writeFillerDocuments } from './retrieval-filler.js';
import { fmt, summarize } from './stats.js';

export interface RetrievalBenchOptions {
  /** Chunks in the client's index for the latency and at-scale recall figures. */
  chunks?: number;
  /** Distinct questions timed per mode (the evaluation questions plus filler-domain ones). */
  queries?: number;
  /** Timed passes over the questions, per mode. */
  rounds?: number;
}

const MODES: SearchMode[] = ['lexical', 'vector', 'hybrid'];
const CLIENT = 'raju';
const SIM_KEY = 'sk-bench-embeddings';
const BARS = { lexicalRecallAt5: 0.95, hybridRecallAt5: 0.97, lexicalP99Ms: 10, hybridP99Ms: 25 };

export interface RetrievalResult {
  questions: number;
  unanswerable: number;
  /** Ids of the questions that share no word with their answer's line (reported on their own). */
  zeroOverlap: Set<string>;
  embedder: string;
  small: { chunks: number; indexMs: number; recall: Record<SearchMode, RecallReport>; unanswerableTop: Record<SearchMode, number>; answeredTop: Record<SearchMode, number>; unanswerableLexical: number[] };
  large: { chunks: number; files: number; indexMs: number; recall: Record<SearchMode, RecallReport> };
  latency: Record<SearchMode, ReturnType<typeof summarize>>;
  /** CPU time (user + system, this process) per search. */
  cpuMs: Record<SearchMode, ReturnType<typeof summarize>>;
}

export async function runRetrievalBench(o: RetrievalBenchOptions = {}): Promise<RetrievalResult> {
  const targetChunks = o.chunks ?? 10_000;
  const rounds = o.rounds ?? 3;
  const set = loadEvalSet();
  const zeroOverlap = zeroOverlapIds(set.questions, await evalDocumentLines());
  const tmp = mkdtempSync(join(tmpdir(), 'callwright-retrieval-'));
  const clientsDir = join(tmp, 'clients');
  mkdirSync(clientsDir);
  installEvalClient(clientsDir, CLIENT);

  const sim = await startEmbeddingsSim({ openaiKey: SIM_KEY, geminiKey: SIM_KEY });
  const db = openDatabase(join(tmp, 'callwright.db'));
  try {
    const provider = 'openai' as const;
    const embedder: Embedder = new OpenAIEmbedder({
      apiKey: SIM_KEY,
      baseUrl: sim.openaiBaseUrl,
      model: DEFAULT_EMBEDDINGS_MODEL[provider],
      // The shipped default, so the vector figures are for what users get.
      dimensions: settingsSchema.shape.EMBEDDINGS_DIMENSIONS.parse(undefined),
    });
    const kb = new KnowledgeBase({ db, clientsDir, embedder });
    if (!kb.vectorsEnabled) throw new Error('the knowledge base could not enable vector search (sqlite-vec)');

    const indexed = await timed(() => kb.syncClient(CLIENT));
    if (indexed.value.failed.length) throw new Error(`evaluation documents failed to index: ${JSON.stringify(indexed.value.failed)}`);
    const smallChunks = chunkCount(kb);

    // Query vectors through the real embedder and simulator, once, for the text search() would embed
    // (the question with its field synonyms); searches then time retrieval alone.
    const queries = [...set.questions.map((q) => q.question), ...set.unanswerable, ...fillerQuestions(Math.max(0, (o.queries ?? 300) - set.questions.length - set.unanswerable.length))];
    const embedded = await embedAll(embedder, queries.map(vectorQueryText));
    const vectors = new Map(queries.map((q) => [q, embedded.get(vectorQueryText(q))!]));
    const byId = new Map(set.questions.map((q) => [q.id, vectors.get(q.question)!]));

    const recallAll = async () => {
      const out = {} as Record<SearchMode, RecallReport>;
      for (const mode of MODES) out[mode] = await measureRecall(kb, CLIENT, set.questions, mode, { k: 5, queryVectors: byId });
      return out;
    };
    const smallRecall = await recallAll();
    const unanswerableTop = {} as Record<SearchMode, number>;
    const answeredTop = {} as Record<SearchMode, number>;
    let unanswerableLexical: number[] = [];
    for (const mode of MODES) {
      const tops: number[] = [];
      const relevances: number[] = [];
      for (const q of set.unanswerable) {
        const top = (await kb.search(CLIENT, q, { purpose: 'review', k: 1, mode, queryVector: vectors.get(q) })).results[0];
        tops.push(top?.score ?? NaN);
        relevances.push(top?.relevance ?? 0);
      }
      unanswerableTop[mode] = median(tops);
      if (mode === 'lexical') unanswerableLexical = relevances;
      answeredTop[mode] = median(smallRecall[mode].outcomes.filter((x) => x.rank === 1).map((x) => x.results[0]!.score));
    }

    await writeFillerDocuments(join(clientsDir, CLIENT), targetChunks - smallChunks);
    const grown = await timed(() => kb.syncClient(CLIENT));
    if (grown.value.failed.length) throw new Error(`filler documents failed to index: ${JSON.stringify(grown.value.failed)}`);
    const unembedded = kb.listDocuments(CLIENT).filter((d) => d.status !== 'indexed' || !d.embedded);
    if (unembedded.length) throw new Error(`documents not fully indexed and embedded: ${unembedded.map((d) => `${d.file} (${d.error ?? d.status})`).join(', ')}`);
    const largeChunks = chunkCount(kb);
    const largeRecall = await recallAll();

    // Modes take turns on each question, so a burst of load elsewhere on the machine (or a GC) lands on
    // all of them alike; the first pass is a warm-up (statements prepared, pages cached). CPU time is
    // recorded next to wall time: on a busy machine the difference is time spent waiting for a core.
    const wall: Record<SearchMode, number[]> = { lexical: [], vector: [], hybrid: [] };
    const cpu: Record<SearchMode, number[]> = { lexical: [], vector: [], hybrid: [] };
    for (let round = 0; round <= rounds; round++) {
      for (const q of queries) {
        for (const mode of MODES) {
          const c = process.cpuUsage();
          const t = performance.now();
          await kb.search(CLIENT, q, { purpose: 'lookup', k: 5, mode, queryVector: vectors.get(q) });
          const ms = performance.now() - t;
          const used = process.cpuUsage(c);
          if (round === 0) continue;
          wall[mode].push(ms);
          cpu[mode].push((used.user + used.system) / 1000);
        }
      }
    }
    const latency = Object.fromEntries(MODES.map((m) => [m, summarize(wall[m])])) as Record<SearchMode, ReturnType<typeof summarize>>;
    const cpuMs = Object.fromEntries(MODES.map((m) => [m, summarize(cpu[m])])) as Record<SearchMode, ReturnType<typeof summarize>>;

    return {
      questions: set.questions.length,
      unanswerable: set.unanswerable.length,
      zeroOverlap,
      embedder: `${embedder.provider} ${embedder.model}, ${embedder.dimensions} dimensions, embeddings simulator`,
      small: { chunks: smallChunks, indexMs: indexed.ms, recall: smallRecall, unanswerableTop, answeredTop, unanswerableLexical },
      large: { chunks: largeChunks, files: kb.listDocuments(CLIENT).length, indexMs: grown.ms, recall: largeRecall },
      latency,
      cpuMs,
    };
  } finally {
    db.close();
    await sim.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

function chunkCount(kb: KnowledgeBase): number {
  return kb.clientCounts().get(CLIENT)?.chunks ?? 0;
}

async function embedAll(embedder: Embedder, texts: string[]): Promise<Map<string, Float32Array>> {
  const unique = [...new Set(texts)];
  const out = new Map<string, Float32Array>();
  for (let i = 0; i < unique.length; i += 64) {
    const batch = unique.slice(i, i + 64);
    (await embedder.embed(batch, 'query')).forEach((v, j) => out.set(batch[j]!, v));
  }
  return out;
}

async function timed<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t = performance.now();
  const value = await f();
  return { value, ms: performance.now() - t };
}

function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
}

/** Prints the tables and the bars; returns whether every bar holds. */
export function printRetrieval(r: RetrievalResult): boolean {
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  console.log(`\nRetrieval: ${r.questions} questions (+${r.unanswerable} with no answer), vectors from ${r.embedder}`);
  console.log(`  indexed the evaluation set (${r.small.chunks} chunks) in ${fmt(r.small.indexMs / 1000, 2)} s; grown to ${r.large.chunks.toLocaleString('en-US')} chunks in ${r.large.files} files in ${fmt(r.large.indexMs / 1000, 1)} s (parse, chunk, FTS, embed, vectors)`);
  console.log('| mode | recall@1 | recall@5 | recall@1 at 10k | recall@5 at 10k | p50 | p99 | mean | max | CPU p50 / p99 (10k chunks) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const mode of MODES) {
    const s = r.small.recall[mode];
    const l = r.large.recall[mode];
    const t = r.latency[mode];
    const c = r.cpuMs[mode];
    console.log(`| ${mode} | ${pct(s.recallAt1)} | ${pct(s.recallAtK)} | ${pct(l.recallAt1)} | ${pct(l.recallAtK)} | ${fmt(t.p50)} ms | ${fmt(t.p99)} ms | ${fmt(t.mean)} ms | ${fmt(t.max, 1)} ms | ${fmt(c.p50)} / ${fmt(c.p99)} ms |`);
  }
  const z = (rep: RecallReport) => subsetRecall(rep, r.zeroOverlap);
  console.log(`\n  The ${r.zeroOverlap.size} questions that share no word with their answer's line:`);
  console.log('| mode | recall@1 | recall@5 | recall@1 at 10k | recall@5 at 10k |');
  console.log('|---|---|---|---|---|');
  for (const mode of MODES) {
    const s = z(r.small.recall[mode]);
    const l = z(r.large.recall[mode]);
    console.log(`| ${mode} | ${pct(s.recallAt1)} | ${pct(s.recallAtK)} | ${pct(l.recallAt1)} | ${pct(l.recallAtK)} |`);
  }
  console.log(`  ${r.latency.lexical.n} timed searches per mode, top 5, query vector precomputed; the bars are on wall time (p99).`);
  for (const mode of MODES) {
    const missed = r.large.recall[mode].outcomes.filter((x) => x.rank === undefined).map((x) => x.question.id);
    console.log(`  ${mode} misses at 10k (not in top 5): ${missed.length ? missed.join(', ') : 'none'}`);
  }
  const passing = (rep: RecallReport) => {
    const hits = rep.outcomes.filter((x) => x.rank !== undefined).map((x) => x.results[x.rank! - 1]!.relevance);
    return pct(hits.filter((v) => v >= LOOKUP_MIN_RELEVANCE).length / Math.max(1, hits.length));
  };
  console.log(`  lookup relevance bar for when-asked-and-relevant documents: relevance >= ${LOOKUP_MIN_RELEVANCE}; lexical answering passages that reach it: ${passing(r.small.recall.lexical)} (${passing(r.large.recall.lexical)} at 10k); questions with no answer whose best passage reaches it: ${r.small.unanswerableLexical.filter((v) => v >= LOOKUP_MIN_RELEVANCE).length} of ${r.small.unanswerableLexical.length}`);
  console.log(`  top-1 score, median: answered questions ${MODES.map((m) => `${m} ${fmt(r.small.answeredTop[m], 3)}`).join(', ')}; questions with no answer ${MODES.map((m) => `${m} ${fmt(r.small.unanswerableTop[m], 3)}`).join(', ')}`);

  const bars = [
    { name: `lexical recall@5 >= ${BARS.lexicalRecallAt5}`, value: pct(r.small.recall.lexical.recallAtK), ok: r.small.recall.lexical.recallAtK >= BARS.lexicalRecallAt5 },
    { name: `hybrid recall@5 >= ${BARS.hybridRecallAt5} (embeddings simulator)`, value: pct(r.small.recall.hybrid.recallAtK), ok: r.small.recall.hybrid.recallAtK >= BARS.hybridRecallAt5 },
    { name: `lexical p99 < ${BARS.lexicalP99Ms} ms at 10k chunks`, value: `${fmt(r.latency.lexical.p99)} ms`, ok: r.latency.lexical.p99 < BARS.lexicalP99Ms },
    { name: `hybrid p99 < ${BARS.hybridP99Ms} ms at 10k chunks`, value: `${fmt(r.latency.hybrid.p99)} ms`, ok: r.latency.hybrid.p99 < BARS.hybridP99Ms },
  ];
  for (const b of bars) console.log(`  ${b.ok ? 'PASS' : 'FAIL'}  ${b.name}: ${b.value}`);
  if (!bars[0]!.ok) console.log(`lexical misses on the evaluation set:\n${describeMisses(r.small.recall.lexical)}`);
  if (!bars[1]!.ok) console.log(`hybrid misses on the evaluation set:\n${describeMisses(r.small.recall.hybrid)}`);
  return bars.every((b) => b.ok);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const ok = printRetrieval(await runRetrievalBench());
  process.exitCode = ok ? 0 : 1;
}
