import { GoogleGenAI } from '@google/genai';
import type { Embedder } from '../types.js';

export interface GeminiEmbedderOptions {
  apiKey: string;
  /** Origin of the Gemini API, e.g. https://generativelanguage.googleapis.com. */
  baseUrl: string;
  model: string;
  dimensions: number;
  timeoutMs?: number;
}

/** Gemini embeddings through the official SDK (batchEmbedContents), with retrieval task types. */
export class GeminiEmbedder implements Embedder {
  readonly provider = 'gemini' as const;
  readonly model: string;
  readonly dimensions: number;
  private readonly client: GoogleGenAI;

  constructor(o: GeminiEmbedderOptions) {
    this.model = o.model;
    this.dimensions = o.dimensions;
    this.client = new GoogleGenAI({ apiKey: o.apiKey, httpOptions: { baseUrl: o.baseUrl, timeout: o.timeoutMs ?? 30_000 } });
  }

  async embed(texts: string[], kind: 'query' | 'document'): Promise<Float32Array[]> {
    if (!texts.length) return [];
    const res = await this.client.models.embedContent({
      model: this.model,
      contents: texts,
      config: { taskType: kind === 'query' ? 'RETRIEVAL_QUERY' : 'RETRIEVAL_DOCUMENT', outputDimensionality: this.dimensions },
    });
    const embeddings = res.embeddings ?? [];
    if (embeddings.length !== texts.length) throw new Error(`expected ${texts.length} embeddings, got ${embeddings.length}`);
    // Truncated (Matryoshka) Gemini vectors are not unit length; normalise so cosine and dot agree.
    return embeddings.map((e, i) => {
      if (!e.values?.length) throw new Error(`embedding ${i} has no values`);
      return normalise(Float32Array.from(e.values));
    });
  }
}

function normalise(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i]! /= norm;
  return v;
}
