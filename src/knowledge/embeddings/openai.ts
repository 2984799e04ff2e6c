import OpenAI from 'openai';
import type { Embedder } from '../types.js';

export interface OpenAIEmbedderOptions {
  apiKey: string;
  /** Including the version path, e.g. https://api.openai.com/v1. */
  baseUrl: string;
  model: string;
  dimensions: number;
  timeoutMs?: number;
  maxRetries?: number;
}

/** OpenAI embeddings through the official SDK (which asks for base64 vectors on the wire). */
export class OpenAIEmbedder implements Embedder {
  readonly provider = 'openai' as const;
  readonly model: string;
  readonly dimensions: number;
  private readonly client: OpenAI;

  constructor(o: OpenAIEmbedderOptions) {
    this.model = o.model;
    this.dimensions = o.dimensions;
    this.client = new OpenAI({ apiKey: o.apiKey, baseURL: o.baseUrl, timeout: o.timeoutMs ?? 30_000, maxRetries: o.maxRetries ?? 2 });
  }

  async embed(texts: string[], _kind: 'query' | 'document'): Promise<Float32Array[]> {
    if (!texts.length) return [];
    const res = await this.client.embeddings.create({ model: this.model, input: texts, dimensions: this.dimensions });
    const out = new Array<Float32Array>(texts.length);
    for (const d of res.data) out[d.index] = Float32Array.from(d.embedding);
    if (out.some((v) => v === undefined)) throw new Error('the response is missing embeddings for some inputs');
    return out;
  }
}
