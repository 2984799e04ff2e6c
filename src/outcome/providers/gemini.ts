import { GoogleGenAI } from '@google/genai';
import type { TextExtractor, TextUsage } from '../extract.js';
import { OutcomeExtractionError } from '../extract.js';

export interface GeminiExtractorOptions {
  apiKey: string;
  /** Origin of the Gemini API, e.g. https://generativelanguage.googleapis.com. */
  baseUrl: string;
  model: string;
  timeoutMs?: number;
}

/** Structured output through the official SDK: generateContent with responseJsonSchema (JSON Schema as is). */
export class GeminiExtractor implements TextExtractor {
  readonly provider = 'gemini';
  readonly model: string;
  private readonly client: GoogleGenAI;

  constructor(o: GeminiExtractorOptions) {
    this.model = o.model;
    this.client = new GoogleGenAI({ apiKey: o.apiKey, httpOptions: { baseUrl: o.baseUrl, timeout: o.timeoutMs ?? 60_000 } });
  }

  async extract(req: Parameters<TextExtractor['extract']>[0], o: { signal?: AbortSignal } = {}): Promise<{ text: string; usage?: TextUsage }> {
    const res = await this.client.models.generateContent({
      model: this.model,
      contents: [{ role: 'user', parts: [{ text: req.input }] }],
      config: { systemInstruction: req.instructions, responseMimeType: 'application/json', responseJsonSchema: req.schema, abortSignal: o.signal },
    });
    const text = res.text;
    if (!text) throw new OutcomeExtractionError(`the model gave no answer (${res.candidates?.[0]?.finishReason ?? res.promptFeedback?.blockReason ?? 'no candidate'})`);
    const u = res.usageMetadata;
    // Thinking tokens are billed as output, and are not in candidatesTokenCount.
    return { text, ...(u ? { usage: { inputTokens: u.promptTokenCount ?? 0, cachedInputTokens: u.cachedContentTokenCount ?? 0, outputTokens: (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0) } } : {}) };
  }
}
