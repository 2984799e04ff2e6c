/**
 * Regression guard for retrieval quality: the evaluation set (test/fixtures/knowledge-eval), indexed by
 * the real KnowledgeBase, must keep lexical recall@5 at or above the bar. The benchmark
 * (`npm run bench -- --only retrieval`) reports the full picture; this keeps the bar from slipping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/database.js';
import { chunkPages, KnowledgeBase, parseDocument } from '../../src/knowledge/index.js';
import { kindFromName } from '../../src/knowledge/sniff.js';
import { describeMisses, EVAL_DIR, installEvalClient, loadEvalSet, measureRecall } from '../fixtures/knowledge-eval/eval-set.js';

const LEXICAL_RECALL_AT_5_BAR = 0.9;

test('the evaluation set is well formed: each answer is in exactly one document, on its page, whole in a chunk', async () => {
  const set = loadEvalSet();
  assert.ok(set.questions.length >= 40, `only ${set.questions.length} questions`);
  const squash = (s: string) => s.replace(/\s+/g, ' ');
  const docs = new Map<string, Array<{ page: number | null; text: string }>>();
  const lines = new Map<string, string[]>();
  const rawLines = (file: string) => lines.get(file) ?? [];
  for (const file of readdirSync(join(EVAL_DIR, 'raju'))) {
    const kind = kindFromName(file);
    if (!kind || file === 'profile.txt') continue;
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
});

test(`lexical recall@5 on the evaluation set is at least ${LEXICAL_RECALL_AT_5_BAR}`, async () => {
  const root = mkdtempSync(join(tmpdir(), 'cw-kb-eval-'));
  const clientsDir = join(root, 'clients');
  mkdirSync(clientsDir);
  installEvalClient(clientsDir, 'raju');
  const db = openDatabase(join(root, 'db.sqlite'));
  try {
    const kb = new KnowledgeBase({ db, clientsDir });
    const sync = await kb.syncClient('raju');
    assert.deepEqual(sync.failed, []);
    assert.equal(sync.added.length, 4);
    const set = loadEvalSet();
    const report = await measureRecall(kb, 'raju', set.questions, 'lexical', { k: 5 });
    assert.ok(report.recallAtK >= LEXICAL_RECALL_AT_5_BAR, `lexical recall@5 ${report.recallAtK.toFixed(3)} < ${LEXICAL_RECALL_AT_5_BAR}; misses:\n${describeMisses(report)}`);
    // recall@1 is reported by the benchmark, not held to a bar; it cannot exceed recall@5.
    assert.ok(report.recallAt1 <= report.recallAtK);
  } finally {
    db.close();
    rmSync(root, { recursive: true, force: true });
  }
});
