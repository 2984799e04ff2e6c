import type { Settings } from '../../config/settings.js';
import type { TextExtractor } from '../extract.js';
import { GeminiExtractor } from './gemini.js';
import { OpenAIExtractor } from './openai.js';

export const DEFAULT_OUTCOME_MODEL = { openai: 'gpt-5.4-mini', gemini: 'gemini-3.8-flash' } as const;

/** The configured extractor, or why there is none (the record then says the outcome was not computed). */
export function createExtractor(s: Settings): { extractor: TextExtractor } | { reason: string } {
  const provider = outcomeProviderFor(s);
  if (!provider) return { reason: s.OUTCOME_PROVIDER === 'none' ? 'OUTCOME_PROVIDER is none' : 'no text model is configured (set OPENAI_API_KEY or GEMINI_API_KEY)' };
  if (provider === 'llm') {
    // The cascade's own LLM server (Ollama, llama.cpp, vLLM...): Chat Completions with a json_schema
    // response_format, which those servers enforce by constrained decoding. Local servers need no key,
    // but the SDK refuses an empty one.
    const model = s.OUTCOME_MODEL ?? s.LLM_MODEL;
    return { extractor: new OpenAIExtractor({ provider: 'llm', apiKey: s.LLM_API_KEY ?? 'none', baseUrl: s.OUTCOME_BASE_URL ?? s.LLM_BASE_URL, model, api: 'chat-completions' }) };
  }
  const model = s.OUTCOME_MODEL ?? DEFAULT_OUTCOME_MODEL[provider];
  if (provider === 'openai') {
    if (!s.OPENAI_API_KEY) return { reason: 'OUTCOME_PROVIDER is openai but OPENAI_API_KEY is not set' };
    return { extractor: new OpenAIExtractor({ apiKey: s.OPENAI_API_KEY, baseUrl: s.OUTCOME_BASE_URL ?? s.OPENAI_BASE_URL, model, api: s.OUTCOME_OPENAI_API }) };
  }
  if (!s.GEMINI_API_KEY) return { reason: 'OUTCOME_PROVIDER is gemini but GEMINI_API_KEY is not set' };
  return { extractor: new GeminiExtractor({ apiKey: s.GEMINI_API_KEY, baseUrl: s.OUTCOME_BASE_URL ?? s.GEMINI_BASE_URL, model }) };
}

/**
 * auto: on the cascade, its own LLM (a user who keeps calls on their machine must not have transcripts
 * sent to a cloud model because a key happens to be set); otherwise AI_PROVIDER when its key is set, else
 * the other provider with a key, else none.
 */
function outcomeProviderFor(s: Settings): 'openai' | 'gemini' | 'llm' | undefined {
  const p = s.OUTCOME_PROVIDER;
  if (p === 'none') return undefined;
  if (p !== 'auto') return p;
  if (s.AI_PROVIDER === 'cascade') return 'llm';
  const hasKey = { openai: Boolean(s.OPENAI_API_KEY), gemini: Boolean(s.GEMINI_API_KEY) };
  if (hasKey[s.AI_PROVIDER]) return s.AI_PROVIDER;
  if (hasKey.openai) return 'openai';
  if (hasKey.gemini) return 'gemini';
  return undefined;
}
