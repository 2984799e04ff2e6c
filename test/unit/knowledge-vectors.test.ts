import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/database.js';
import { KnowledgeBase } from '../../src/knowledge/index.js';
import { OpenAIEmbedder } from '../../src/knowledge/embeddings/openai.js';
import { GeminiEmbedder } from '../../src/knowledge/embeddings/gemini.js';
import { startEmbeddingsSim, toyEmbedding, type EmbeddingsSim } from '../sim/embeddings/index.js';

const KEYS = { openaiKey: 'sk-unit-embed', geminiKey: 'gm-unit-embed' };

function folder() {
  const root = mkdtempSync(join(tmpdir(), 'cw-kbv-'));
  const clientsDir = join(root, 'clients');
  for (const id of ['ana', 'ben']) mkdirSync(join(clientsDir, id), { recursive: true });
  const put = (client: string, file: string, text: string) => writeFileSync(join(clientsDir, client, file), text);
  put('ana', 'health.md', '# Health\n\nAllergies: penicillin causes a rash.\n\nBlood type: O negative.');
  put('ana', 'car.md', 'The car is a blue Honda Civic, plate 7ABC123.');
  put('ben', 'health.md', 'Ben allergies: peanuts and shellfish.');
  return { root, clientsDir, dbFile: join(root, 'db.sqlite'), put };
}

async function withSim(fn: (sim: EmbeddingsSim) => Promise<void>) {
  const sim = await startEmbeddingsSim(KEYS);
  try {
    await fn(sim);
  } finally {
    await sim.close();
  }
}

const openai = (sim: EmbeddingsSim, dimensions = 256) => new OpenAIEmbedder({ apiKey: KEYS.openaiKey, baseUrl: sim.openaiBaseUrl, model: 'text-embedding-3-small', dimensions, maxRetries: 0 });

test('with an embedder: documents get vectors, hybrid is the default, vectors find what words miss', () =>
  withSim(async (sim) => {
    const f = folder();
    f.put('ana', 'visits.md', Array.from({ length: 12 }, (_, i) => `Visit ${i + 1}: the clinic on Oak Street checked the blood pressure and wrote down the reading for the file.`).join('\n\n'));
    const kb = new KnowledgeBase({ db: openDatabase(f.dbFile), clientsDir: f.clientsDir, embedder: openai(sim), embedBatchSize: 2 });
    const reports = await kb.syncAll();
    assert.deepEqual(reports.map((r) => r.embedded.sort()), [['car.md', 'health.md', 'visits.md'], ['health.md']]);
    const docs = [...kb.listDocuments('ana'), ...kb.listDocuments('ben')];
    assert.ok(docs.every((d) => d.embedded && d.status === 'indexed' && !d.error));
    // Batched requests of at most embedBatchSize chunks, as many as the chunks need.
    assert.ok(kb.listDocuments('ana').find((d) => d.file === 'visits.md')!.chunks >= 3);
    assert.equal(sim.requests.length, docs.reduce((n, d) => n + Math.ceil(d.chunks / 2), 0));
    assert.ok(sim.requests.every((r) => r.inputs.length <= 2 && r.dimensions === 256 && r.encoding === 'base64'));

    // A misspelling shares no word with the text: the words alone miss, the vectors (trigrams) do not.
    assert.deepEqual((await kb.search('ana', 'penicilin', { purpose: 'review', mode: 'lexical' })).results, []);
    const vector = await kb.search('ana', 'penicilin', { purpose: 'review', mode: 'vector', k: 1 });
    assert.equal(vector.mode, 'vector');
    assert.match(vector.results[0]!.text, /penicillin/);
    assert.ok(vector.results[0]!.score > 0 && vector.results[0]!.score <= 1);
    assert.deepEqual(vector.results[0]!.ranks, { vector: 1 });

    const hybrid = await kb.search('ana', 'allergic to what? penicillin', { purpose: 'review' });
    assert.equal(hybrid.mode, 'hybrid');
    assert.match(hybrid.results[0]!.text, /penicillin/);
    assert.deepEqual(hybrid.results[0]!.ranks, { lexical: 1, vector: 1 });
    assert.ok(Math.abs(hybrid.results[0]!.score - (4 / 11 + 1 / 11)) < 1e-9, 'weighted RRF: lexical 4, vector 1, k = 10');

    // A precomputed query vector skips the embeddings call (benchmarks).
    const before = sim.requests.length;
    const pre = await kb.search('ana', 'penicilin', { purpose: 'review', mode: 'vector', k: 1, queryVector: toyEmbedding('penicilin', 256) });
    assert.equal(sim.requests.length, before);
    assert.equal(pre.results[0]!.chunkId, vector.results[0]!.chunkId);
  }));

test('vector search is per client too', () =>
  withSim(async (sim) => {
    const f = folder();
    const kb = new KnowledgeBase({ db: openDatabase(f.dbFile), clientsDir: f.clientsDir, embedder: openai(sim) });
    await kb.syncAll();
    for (const mode of ['vector', 'hybrid'] as const) {
      const ana = await kb.search('ana', 'peanuts shellfish allergies', { purpose: 'review', mode, k: 50 });
      assert.ok(ana.results.length > 0);
      assert.ok(ana.results.every((r) => !/peanuts|Ben/.test(r.text)), `${mode}: ana saw ben's chunk`);
      const ben = await kb.search('ben', 'penicillin blood type Honda', { purpose: 'review', mode, k: 50 });
      assert.ok(ben.results.every((r) => /Ben/.test(r.text)), `${mode}: ben saw ana's chunk`);
    }
  }));

test('an embeddings failure leaves documents lexically searchable, says so, and is repaired by the next sync', () =>
  withSim(async (sim) => {
    const f = folder();
    const kb = new KnowledgeBase({ db: openDatabase(f.dbFile), clientsDir: f.clientsDir, embedder: openai(sim) });
    sim.setFailure({ status: 400, message: 'simulated embeddings outage' });
    const report = await kb.syncClient('ana');
    assert.deepEqual(report.added.sort(), ['car.md', 'health.md']);
    assert.deepEqual(report.embedded, []);
    for (const d of kb.listDocuments('ana')) {
      assert.equal(d.status, 'indexed');
      assert.equal(d.embedded, false);
      assert.match(d.error!, /embeddings failed \(openai text-embedding-3-small\): .*simulated embeddings outage.*keywords only/);
    }
    // The query cannot be embedded either: hybrid falls back to lexical, vector says why.
    const fallback = await kb.search('ana', 'penicillin', { purpose: 'review' });
    assert.equal(fallback.mode, 'lexical');
    assert.match(fallback.results[0]!.text, /penicillin/);
    await assert.rejects(kb.search('ana', 'penicillin', { purpose: 'review', mode: 'vector' }), /embeddings request failed \(openai\)/);

    sim.setFailure(undefined);
    const repaired = await kb.syncClient('ana');
    assert.deepEqual(repaired.unchanged.sort(), ['car.md', 'health.md'], 'not re-parsed');
    assert.deepEqual(repaired.embedded.sort(), ['car.md', 'health.md']);
    assert.ok(kb.listDocuments('ana').every((d) => d.embedded && !d.error));
    assert.equal((await kb.search('ana', 'allergic', { purpose: 'review', k: 1 })).mode, 'hybrid');
  }));

test('a change of embeddings model or dimension rebuilds the vectors instead of mixing them', () =>
  withSim(async (sim) => {
    const f = folder();
    const db = openDatabase(f.dbFile);
    await new KnowledgeBase({ db, clientsDir: f.clientsDir, embedder: openai(sim, 64) }).syncClient('ana');
    const kb = new KnowledgeBase({ db, clientsDir: f.clientsDir, embedder: openai(sim, 128) });
    assert.ok(kb.listDocuments('ana').every((d) => !d.embedded), 'old vectors are dropped');
    assert.equal((await kb.search('ana', 'allergic', { purpose: 'review', mode: 'vector' })).results.length, 0);
    const report = await kb.syncClient('ana');
    assert.deepEqual(report.embedded.sort(), ['car.md', 'health.md']);
    assert.match((await kb.search('ana', 'allergic', { purpose: 'review', mode: 'vector', k: 1 })).results[0]!.text, /penicillin/);
    assert.ok(sim.requests.at(-1)!.dimensions === 128);

    // Without an embedder the same database still answers lexically, and deleting still works.
    const lexical = new KnowledgeBase({ db, clientsDir: f.clientsDir });
    assert.equal((await lexical.search('ana', 'penicillin', { purpose: 'review' })).mode, 'lexical');
    assert.ok(lexical.listDocuments('ana').every((d) => !d.embedded));
    assert.equal(await lexical.deleteDocument('ana', lexical.listDocuments('ana')[0]!.id), true);
  }));

test('Gemini embedder: documents and queries use their retrieval task types', () =>
  withSim(async (sim) => {
    const f = folder();
    const embedder = new GeminiEmbedder({ apiKey: KEYS.geminiKey, baseUrl: sim.geminiBaseUrl, model: 'gemini-embedding-001', dimensions: 256 });
    const kb = new KnowledgeBase({ db: openDatabase(f.dbFile), clientsDir: f.clientsDir, embedder });
    await kb.syncClient('ana');
    assert.ok(kb.listDocuments('ana').every((d) => d.embedded));
    const res = await kb.search('ana', 'allergic', { purpose: 'review', mode: 'vector', k: 1 });
    assert.match(res.results[0]!.text, /penicillin/);
    assert.ok(sim.requests.slice(0, -1).every((r) => r.provider === 'gemini' && r.taskTypes!.every((t) => t === 'RETRIEVAL_DOCUMENT')));
    assert.deepEqual(sim.requests.at(-1)!.taskTypes, ['RETRIEVAL_QUERY']);
  }));

test('a slow embeddings provider does not hold up a search: past the deadline, hybrid goes on lexically', () =>
  withSim(async (sim) => {
    const f = folder();
    const kb = new KnowledgeBase({ db: openDatabase(f.dbFile), clientsDir: f.clientsDir, embedder: openai(sim), queryEmbedTimeoutMs: 150 });
    await kb.syncClient('ana');
    sim.setDelay(10_000);
    const started = Date.now();
    const res = await kb.search('ana', 'penicillin', { purpose: 'review' });
    assert.equal(res.mode, 'lexical');
    assert.match(res.results[0]!.text, /penicillin/);
    assert.ok(Date.now() - started < 5000, 'did not wait for the provider');
    await assert.rejects(kb.search('ana', 'penicillin', { purpose: 'review', mode: 'vector' }), /embeddings request failed/);
  }));
