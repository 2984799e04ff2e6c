import OpenAI from 'openai';
import { StageError } from './stages.js';

/**
 * The official SDK's client for one stage's OpenAI-compatible server (speech-to-text, chat, text-to-speech).
 * Local servers (Ollama, llama.cpp, faster-whisper, Kokoro...) take any key, but the SDK insists on one.
 */
export function openAICompatibleClient(o: { baseUrl: string; apiKey?: string; timeoutMs: number; maxRetries: number }): OpenAI {
  return new OpenAI({ baseURL: o.baseUrl, apiKey: o.apiKey ?? 'local', timeout: o.timeoutMs, maxRetries: o.maxRetries });
}

/** The SDK's connection and HTTP errors as the stage's error (a server that cannot be reached is `unreachable`); else undefined. */
export function serverError(stage: StageError['stage'], err: unknown): StageError | undefined {
  if (err instanceof OpenAI.APIConnectionError) return new StageError(stage, `cannot reach the server: ${err.message}`, true);
  if (err instanceof OpenAI.APIError) return new StageError(stage, `HTTP ${err.status ?? '?'}: ${err.message}`.slice(0, 300));
  return undefined;
}
