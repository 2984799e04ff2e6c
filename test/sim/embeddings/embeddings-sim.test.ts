import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { GoogleGenAI } from '@google/genai';
import { cosine, startEmbeddingsSim, toyEmbedding } from './index.js';

const KEYS = { openaiKey: 'sk-test-embed', geminiKey: 'gm-test-embed' };

test('OpenAI SDK: base64 (the SDK default) and float encodings, dimensions, batch order', async () => {
  const sim = await startEmbeddingsSim(KEYS);
  try {
    const client = new OpenAI({ apiKey: KEYS.openaiKey, baseURL: sim.openaiBaseUrl, maxRetries: 0 });
    const res = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['allergy to penicillin', 'gate code'], dimensions: 256 });
    assert.equal(sim.requests[0]!.encoding, 'base64', 'the SDK asks for base64 on the wire');
    assert.deepEqual(res.data.map((d) => [d.index, d.embedding.length]), [[0, 256], [1, 256]]);
    const expected = toyEmbedding('allergy to penicillin', 256);
    res.data[0]!.embedding.forEach((x, i) => assert.equal(Math.fround(x), expected[i]));
    const float = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'gate code', encoding_format: 'float' });
    assert.equal(sim.requests[1]!.encoding, 'float');
    assert.equal(float.data[0]!.embedding.length, 1536, 'the model default without dimensions');
    assert.ok(res.usage.total_tokens > 0);
  } finally {
    await sim.close();
  }
});

test('OpenAI: wrong key is 401, unknown model 404, empty input 400, outage as configured', async () => {
  const sim = await startEmbeddingsSim(KEYS);
  try {
    const bad = new OpenAI({ apiKey: 'sk-wrong', baseURL: sim.openaiBaseUrl, maxRetries: 0 });
    await assert.rejects(bad.embeddings.create({ model: 'text-embedding-3-small', input: 'x' }), (e: any) => e.status === 401);
    const client = new OpenAI({ apiKey: KEYS.openaiKey, baseURL: sim.openaiBaseUrl, maxRetries: 0 });
    await assert.rejects(client.embeddings.create({ model: 'nope', input: 'x' }), (e: any) => e.status === 404);
    await assert.rejects(client.embeddings.create({ model: 'text-embedding-3-small', input: [''] }), (e: any) => e.status === 400);
    sim.setFailure({ status: 400, message: 'simulated outage' });
    await assert.rejects(client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' }), (e: any) => e.status === 400 && /simulated outage/.test(e.message));
    assert.equal(sim.requests.length, 0);
  } finally {
    await sim.close();
  }
});

test('Gemini SDK: batchEmbedContents with task type and output dimensionality; x-goog-api-key checked', async () => {
  const sim = await startEmbeddingsSim(KEYS);
  try {
    const ai = new GoogleGenAI({ apiKey: KEYS.geminiKey, httpOptions: { baseUrl: sim.geminiBaseUrl } });
    const res = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['allergy to penicillin', 'gate code'], config: { taskType: 'RETRIEVAL_DOCUMENT', outputDimensionality: 128 } });
    assert.deepEqual(res.embeddings?.map((e) => e.values?.length), [128, 128]);
    assert.deepEqual(sim.requests[0]!.taskTypes, ['RETRIEVAL_DOCUMENT', 'RETRIEVAL_DOCUMENT']);
    assert.equal(sim.requests[0]!.dimensions, 128);
    const bad = new GoogleGenAI({ apiKey: 'wrong', httpOptions: { baseUrl: sim.geminiBaseUrl } });
    await assert.rejects(bad.models.embedContent({ model: 'gemini-embedding-001', contents: ['x'] }), /API key not valid/);
  } finally {
    await sim.close();
  }
});

test('toy vectors: deterministic, unit length, related words closer than unrelated ones', () => {
  const a = toyEmbedding('What is she allergic to?', 512);
  assert.deepEqual(a, toyEmbedding('What is she allergic to?', 512));
  assert.ok(Math.abs(cosine(a, a) - 1) < 1e-5);
  const related = cosine(a, toyEmbedding('Allergies: penicillin causes a rash', 512));
  const unrelated = cosine(a, toyEmbedding('The gate code is 4512', 512));
  assert.ok(related > 0.05 && related > unrelated * 3, `related ${related} vs unrelated ${unrelated}`);
});
