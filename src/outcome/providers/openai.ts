import OpenAI from 'openai';
import type { TextExtractor, TextUsage } from '../extract.js';
import { OutcomeExtractionError } from '../extract.js';

export interface OpenAIExtractorOptions {
  apiKey: string;
  /** Including the version path, e.g. https://api.openai.com/v1. */
  baseUrl: string;
  model: string;
  /** Responses (`text.format`) or Chat Completions (`response_format`): both take a strict json_schema. */
  api: 'responses' | 'chat-completions';
  /** The name usage is priced under (`<provider>:<model>`): `openai`, or `llm` for the cascade's own LLM server. */
  provider?: string;
  timeoutMs?: number;
  maxRetries?: number;
}

/** Structured outputs through the official SDK; the SDK retries 408/409/429/5xx itself. */
export class OpenAIExtractor implements TextExtractor {
  readonly provider: string;
  readonly model: string;
  private readonly client: OpenAI;

  constructor(private readonly o: OpenAIExtractorOptions) {
    this.provider = o.provider ?? 'openai';
    this.model = o.model;
    this.client = new OpenAI({ apiKey: o.apiKey, baseURL: o.baseUrl, timeout: o.timeoutMs ?? 60_000, maxRetries: o.maxRetries ?? 2 });
  }

  async extract(req: Parameters<TextExtractor['extract']>[0], o: { signal?: AbortSignal } = {}): Promise<{ text: string; usage?: TextUsage }> {
    if (this.o.api === 'chat-completions') {
      const res = await this.client.chat.completions.create(
        {
          model: this.model,
          messages: [
            { role: 'system', content: req.instructions },
            { role: 'user', content: req.input },
          ],
          response_format: { type: 'json_schema', json_schema: { name: req.schemaName, schema: req.schema, strict: true } },
        },
        { signal: o.signal },
      );
      const msg = res.choices[0]?.message;
      if (msg?.refusal) throw new OutcomeExtractionError(`the model refused: ${msg.refusal.slice(0, 200)}`);
      if (!msg?.content) throw new OutcomeExtractionError(`the model gave no answer (finish_reason ${res.choices[0]?.finish_reason ?? 'none'})`);
      const u = res.usage;
      return { text: msg.content, ...(u ? { usage: { inputTokens: u.prompt_tokens, cachedInputTokens: u.prompt_tokens_details?.cached_tokens ?? 0, outputTokens: u.completion_tokens } } : {}) };
    }
    const res = await this.client.responses.create(
      {
        model: this.model,
        instructions: req.instructions,
        input: req.input,
        text: { format: { type: 'json_schema', name: req.schemaName, schema: req.schema, strict: true } },
        store: false,
      },
      { signal: o.signal },
    );
    if (res.status && res.status !== 'completed') throw new OutcomeExtractionError(`the response is ${res.status}${res.incomplete_details?.reason ? ` (${res.incomplete_details.reason})` : ''}`);
    const refusal = res.output.flatMap((item) => (item.type === 'message' ? item.content : [])).find((c) => c.type === 'refusal');
    if (refusal && refusal.type === 'refusal') throw new OutcomeExtractionError(`the model refused: ${refusal.refusal.slice(0, 200)}`);
    if (!res.output_text) throw new OutcomeExtractionError('the model gave no answer');
    const u = res.usage;
    return { text: res.output_text, ...(u ? { usage: { inputTokens: u.input_tokens, cachedInputTokens: u.input_tokens_details?.cached_tokens ?? 0, outputTokens: u.output_tokens } } : {}) };
  }
}
