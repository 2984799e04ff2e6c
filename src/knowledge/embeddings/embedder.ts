import { SettingsError, type Settings } from '../../config/settings.js';
import type { Embedder, EmbeddingsProvider } from '../types.js';
import { GeminiEmbedder } from './gemini.js';
import { OpenAIEmbedder } from './openai.js';

export type { Embedder } from '../types.js';

export const DEFAULT_EMBEDDINGS_MODEL: Record<EmbeddingsProvider, string> = {
  openai: 'text-embedding-3-small',
  gemini: 'gemini-embedding-001',
};

/** Which provider EMBEDDINGS_PROVIDER means: auto picks OpenAI when its key is set, else Gemini, else none. */
export function embeddingsProviderFor(s: Settings): EmbeddingsProvider | undefined {
  const p = s.EMBEDDINGS_PROVIDER;
  if (p === 'none') return undefined;
  if (p === 'openai' || p === 'gemini') return p;
  if (s.OPENAI_API_KEY) return 'openai';
  if (s.GEMINI_API_KEY) return 'gemini';
  return undefined;
}

/** The configured embedder, or undefined (lexical search only). Throws when a chosen provider has no key. */
export function createEmbedder(s: Settings): Embedder | undefined {
  const provider = embeddingsProviderFor(s);
  if (!provider) return undefined;
  const model = s.EMBEDDINGS_MODEL ?? DEFAULT_EMBEDDINGS_MODEL[provider];
  if (provider === 'openai') {
    if (!s.OPENAI_API_KEY) throw new SettingsError(['EMBEDDINGS_PROVIDER: openai needs OPENAI_API_KEY']);
    return new OpenAIEmbedder({ apiKey: s.OPENAI_API_KEY, baseUrl: s.OPENAI_BASE_URL, model, dimensions: s.EMBEDDINGS_DIMENSIONS });
  }
  if (!s.GEMINI_API_KEY) throw new SettingsError(['EMBEDDINGS_PROVIDER: gemini needs GEMINI_API_KEY']);
  return new GeminiEmbedder({ apiKey: s.GEMINI_API_KEY, baseUrl: s.GEMINI_BASE_URL, model, dimensions: s.EMBEDDINGS_DIMENSIONS });
}
