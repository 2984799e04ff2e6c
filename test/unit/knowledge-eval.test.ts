/**
 * Regression guard for retrieval quality: the evaluation set (test/fixtures/knowledge-eval), indexed by
 * the real KnowledgeBase, must keep lexical recall@5 (no embeddings key) and hybrid recall@5 (vectors
 * from the embeddings simulator) at or above the bars. The questions that share no word with
 * their answer are reported on their own. The benchmark (`npm run bench -- --only retrieval`) reports
 * the full picture; this keeps the bars from slipping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/database.js';
import { chunkPages, KnowledgeBase, parseDocument } from '../../src/knowledge/index.js';
import { kindFromName } from '../../src/knowledge/sniff.js';
import { OpenAIEmbedder } from '../../src/knowledge/embeddings/openai.js';
import { DEFAULT_EMBEDDINGS_MODEL } from '../../src/knowledge/embeddings/embedder.js';
import { settingsSchema } from '../../src/config/settings.js';
import { startEmbeddingsSim } from '../sim/embeddings/index.js';
import { describeMisses, EVAL_DIR, evalDocumentLines, installEvalClient, loadEvalSet, measureRecall, subsetRecall, zeroOverlapIds, type RecallReport } from '../fixtures/knowledge-eval/eval-set.js';

const LEXICAL_RECALL_AT_5_BAR = 0.95;
const HYBRID_RECALL_AT_5_BAR = 0.97;
const SIM_KEY = 'sk-test-embeddings';

test('the evaluation set is well formed: each answer is in exactly one document, on its page, whole in a chunk', async () => {
  const set = loadEvalSet();
  assert.ok(set.questions.length >= 40, `only ${set.questions.length} questions`);
  const squash = (s: string) => s.replace(/\s+/g, ' ');
  const docs = new Map<string, Array<{ page: number | null; text: string }>>();
  const lines = new Map<string, string[]>();
  const rawLines = (file: string) => lines.get(file) ?? [];
  for (const file of readdirSync(join(EVAL_DIR, 'raju'))) {
    const kind = kindFromName(file);
    if (!kind) continue;
    const parsed = await parseDocument(kind, readFileSync(join(EVAL_DIR, 'raju', file)));
    docs.set(file, chunkPages(parsed.pages).map((c) => ({ page: c.page, text: squash(c.text) })));
    lines.set(file, parsed.pages.flatMap((p) => p.text.split('\n')));
  }
  assert.ok([...docs.keys()].some((f) => f.endsWith('.pdf')) && [...docs.keys()].some((f) => f.endsWith('.docx')) && [...docs.keys()].some((f) => f.endsWith('.md')));
  const answer = (q: { answer: string }) => squash(q.answer);
  let tableCells = 0;
  for (const q of set.questions) {
    const holders = [...docs].filter(([, chunks]) => chunks.some((c) => c.text.includes(answer(q)))).map(([f]) => f);
    assert.deepEqual(holders, [q.file], `${q.id}: "${q.answer}" must be in ${q.file} only`);
    const chunks = docs.get(q.file)!.filter((c) => c.text.includes(answer(q)));
    if (q.page !== undefined) assert.ok(chunks.some((c) => c.page === q.page), `${q.id}: not on page ${q.page}`);
    // Tables come out as one labelled row per line ("Medication: … | Dose: …").
    if (q.file.endsWith('.docx') && rawLines(q.file).some((l) => l.includes(' | ') && squash(l).includes(answer(q)))) tableCells++;
  }
  // The set exercises what the issue asks for: PDF pages after the first, and DOCX table cells.
  assert.ok(set.questions.filter((q) => (q.page ?? 1) > 1).length >= 10);
  assert.ok(tableCells >= 4, `only ${tableCells} questions are answered by a DOCX table cell`);
  // Questions worded the way people talk on the phone, sharing no word with the answer, over the
  // profile and the documents: the issue asks for at least 40 paraphrased questions.
  const zero = zeroOverlapIds(set.questions, await evalDocumentLines());
  assert.ok(zero.size >= 30, `only ${zero.size} questions share no word with their answer`);
  assert.ok(set.questions.filter((q) => q.file === 'profile.txt').length >= 10);
});

function report(label: string, r: RecallReport, zero: Set<string>): string {
  const z = subsetRecall(r, zero);
  const pct = (x: number) => x.toFixed(3);
  return `${label}: recall@1 ${pct(r.recallAt1)}, recall@5 ${pct(r.recallAtK)} (${r.outcomes.length} questions); sharing no word with the answer: recall@1 ${pct(z.recallAt1)}, recall@5 ${pct(z.recallAtK)} (${z.n} questions)`;
}

test(`recall@5 on the evaluation set: lexical at least ${LEXICAL_RECALL_AT_5_BAR}, hybrid (embeddings simulator) at least ${HYBRID_RECALL_AT_5_BAR}`, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cw-kb-eval-'));
  const clientsDir = join(root, 'clients');
  mkdirSync(clientsDir);
  installEvalClient(clientsDir, 'raju');
  const sim = await startEmbeddingsSim({ openaiKey: SIM_KEY, geminiKey: SIM_KEY });
  const db = openDatabase(join(root, 'db.sqlite'));
  try {
    const embedder = new OpenAIEmbedder({ apiKey: SIM_KEY, baseUrl: sim.openaiBaseUrl, model: DEFAULT_EMBEDDINGS_MODEL.openai, dimensions: settingsSchema.shape.EMBEDDINGS_DIMENSIONS.parse(undefined) });
    const kb = new KnowledgeBase({ db, clientsDir, embedder });
    const sync = await kb.syncClient('raju');
    assert.deepEqual(sync.failed, []);
    assert.equal(sync.added.length, 5, 'four documents and the profile');
    const set = loadEvalSet();
    const zero = zeroOverlapIds(set.questions, await evalDocumentLines());
    const lexical = await measureRecall(kb, 'raju', set.questions, 'lexical', { k: 5 });
    const hybrid = await measureRecall(kb, 'raju', set.questions, 'hybrid', { k: 5 });
    t.diagnostic(report('lexical', lexical, zero));
    t.diagnostic(report('hybrid', hybrid, zero));
    assert.ok(lexical.recallAtK >= LEXICAL_RECALL_AT_5_BAR, `lexical recall@5 ${lexical.recallAtK.toFixed(3)} < ${LEXICAL_RECALL_AT_5_BAR}; misses:\n${describeMisses(lexical)}`);
    assert.ok(hybrid.recallAtK >= HYBRID_RECALL_AT_5_BAR, `hybrid recall@5 ${hybrid.recallAtK.toFixed(3)} < ${HYBRID_RECALL_AT_5_BAR}; misses:\n${describeMisses(hybrid)}`);
    // recall@1 is reported, not held to a bar; it cannot exceed recall@5.
    assert.ok(lexical.recallAt1 <= lexical.recallAtK && hybrid.recallAt1 <= hybrid.recallAtK);
  } finally {
    db.close();
    await sim.close();
    rmSync(root, { recursive: true, force: true });
  }
});
