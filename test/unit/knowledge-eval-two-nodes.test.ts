/**
 * Issue 16: retrieval quality is unchanged with several nodes. Each node keeps its own index (SQLite
 * FTS5 + sqlite-vec in its DATA_DIR) of the one shared CLIENTS_DIR. Node A gets the evaluation set's
 * documents by upload; node B, which never saw the uploads, builds its index from the shared folder
 * through its rescan (the path a second node takes). For every evaluation question, lexical and hybrid,
 * both nodes must return the same passages in the same order with the same scores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/store/database.js';
import { KnowledgeBase } from '../../src/knowledge/index.js';
import { startClientsRescan } from '../../src/knowledge/rescan.js';
import { OpenAIEmbedder } from '../../src/knowledge/embeddings/openai.js';
import { DEFAULT_EMBEDDINGS_MODEL } from '../../src/knowledge/embeddings/embedder.js';
import { settingsSchema } from '../../src/config/settings.js';
import { startEmbeddingsSim } from '../sim/embeddings/index.js';
import { EVAL_DIR, loadEvalSet, measureRecall } from '../fixtures/knowledge-eval/eval-set.js';

const SIM_KEY = 'sk-test-embeddings';

test('the index a second node builds from the shared folder ranks every evaluation question exactly as the node that took the uploads', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cw-kb-two-nodes-'));
  const shared = join(root, 'shared-clients');
  mkdirSync(join(shared, 'raju'), { recursive: true });
  copyFileSync(join(EVAL_DIR, 'raju', 'profile.txt'), join(shared, 'raju', 'profile.txt'));
  const sim = await startEmbeddingsSim({ openaiKey: SIM_KEY, geminiKey: SIM_KEY });
  const dbs: Db[] = [];
  const kbs: KnowledgeBase[] = [];
  const open = (name: string, onLocalChange?: (id: string) => void) => {
    const db = openDatabase(join(root, `${name}.sqlite`));
    dbs.push(db);
    const embedder = new OpenAIEmbedder({ apiKey: SIM_KEY, baseUrl: sim.openaiBaseUrl, model: DEFAULT_EMBEDDINGS_MODEL.openai, dimensions: settingsSchema.shape.EMBEDDINGS_DIMENSIONS.parse(undefined) });
    const kb = new KnowledgeBase({ db, clientsDir: shared, embedder, onLocalChange });
    kbs.push(kb);
    return kb;
  };
  try {
    const announced: string[] = [];
    const a = open('node-a', (id) => announced.push(id));
    const b = open('node-b');
    const synced: Promise<unknown>[] = [];
    const rescan = await startClientsRescan({ clientsDir: shared, intervalMs: 3_600_000, onClientChanged: (id) => synced.push(b.syncClient(id, { announce: false })) });
    try {
      const files = readdirSync(join(EVAL_DIR, 'raju')).filter((f) => f !== 'profile.txt' && !f.endsWith('.json'));
      // The profile is edited in the folder, the documents uploaded through node A.
      const up = await a.addDocuments('raju', files.map((name) => ({ name, bytes: readFileSync(join(EVAL_DIR, 'raju', name)) })));
      assert.deepEqual(up.errors, []);
      await a.syncClient('raju');
      assert.ok(announced.includes('raju'), 'node A announced the change');
      // The profile and the documents are in the shared folder: node B's rescan sees them.
      await rescan.check();
      await Promise.all(synced);
      assert.ok(synced.length >= 1);
    } finally {
      rescan.close();
    }
    const docs = (kb: KnowledgeBase) => kb.listDocuments('raju').map((d) => [d.file, d.sha256, d.chunks, d.status, d.embedded]);
    assert.deepEqual(docs(b), docs(a), 'the same documents, contents and chunk counts');
    assert.equal(docs(a).length, 5, 'four documents and the profile');

    assert.ok(a.vectorsEnabled && b.vectorsEnabled, 'both nodes search hybrid (embeddings simulator)');
    const set = loadEvalSet();
    for (const mode of ['lexical', 'hybrid'] as const) {
      let compared = 0;
      for (const q of set.questions) {
        const rank = async (kb: KnowledgeBase) => {
          const r = await kb.search('raju', q.question, { purpose: 'review', k: 10, mode });
          assert.equal(r.mode, mode);
          return r.results.map((x) => `${x.file}#${x.position}:${x.score.toFixed(9)}:${x.ranks.lexical ?? '-'}/${x.ranks.vector ?? '-'}`);
        };
        assert.deepEqual(await rank(b), await rank(a), `${mode} "${q.question}"`);
        compared++;
      }
      const [ra, rb] = [await measureRecall(a, 'raju', set.questions, mode, { k: 5 }), await measureRecall(b, 'raju', set.questions, mode, { k: 5 })];
      assert.equal(rb.recallAt1, ra.recallAt1);
      assert.equal(rb.recallAtK, ra.recallAtK);
      t.diagnostic(`${mode}: ${compared} questions ranked identically (top 10); recall@1 ${ra.recallAt1.toFixed(3)} / ${rb.recallAt1.toFixed(3)}, recall@5 ${ra.recallAtK.toFixed(3)} / ${rb.recallAtK.toFixed(3)} (node A / node B)`);
    }
  } finally {
    for (const kb of kbs) await kb.close();
    for (const db of dbs) db.close();
    await sim.close();
    rmSync(root, { recursive: true, force: true });
  }
});
