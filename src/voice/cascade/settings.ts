import { z } from 'zod';

/**
 * The cascade engine's settings (AI_PROVIDER=cascade, docs/cascade.md), spread into the one settings
 * schema so they are validated and documented with the rest. Each stage is any server speaking the
 * matching OpenAI endpoint; the defaults point at a fully local set (Ollama, a faster-whisper server,
 * a Kokoro server) on this machine. Prices default to 0: a local stage costs nothing per call.
 */
const baseUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      return ['http:', 'https:'].includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, 'must be a URL starting with http:// or https://')
  .transform((v) => v.replace(/\/+$/, ''));
const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const price = z.coerce.number().min(0).default(0);
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off']).transform((v) => v === 'true' || v === '1' || v === 'yes' || v === 'on');

export const cascadeSettingsShape = {
  /** `openai`: a server speaking /v1/audio/transcriptions (STT_BASE_URL...); `sherpa`: in-process streaming Zipformer (STT_SHERPA_MODEL). */
  STT_PROVIDER: z.enum(['openai', 'sherpa']).default('openai'),
  /** A streaming Zipformer from the model catalog, pulled into DATA_DIR/models/<name>/ (`callwright models list`, `callwright models pull <name>`). */
  STT_SHERPA_MODEL: z.string().trim().min(1).default('sherpa-onnx-streaming-zipformer-en-2023-06-26'),
  /** `openai`: a server speaking /v1/audio/speech (TTS_BASE_URL...); `piper`: an in-process Piper voice (TTS_PIPER_VOICE). */
  TTS_PROVIDER: z.enum(['openai', 'piper']).default('openai'),
  /** A Piper voice from the model catalog, pulled into DATA_DIR/models/<name>/. */
  TTS_PIPER_VOICE: z.string().trim().min(1).default('vits-piper-en_US-lessac-medium'),
  /** ONNX Runtime threads for each in-process model (one recognizer and one voice per process). */
  SHERPA_THREADS: z.coerce.number().int().min(1).max(32).default(2),
  /** Speech-to-text: a server speaking POST {base}/audio/transcriptions (faster-whisper-server, whisper.cpp, OpenAI). */
  STT_BASE_URL: baseUrl.default('http://127.0.0.1:8000/v1'),
  STT_MODEL: z.string().trim().min(1).default('Systran/faster-distil-whisper-small.en'),
  STT_API_KEY: optional,
  /** ISO-639-1 hint (en, de...); empty: the server detects the language. */
  STT_LANGUAGE: optional,
  STT_PRICE_PER_MINUTE: price,
  /** The LLM: any OpenAI-compatible streaming chat-completions endpoint with tools (Ollama, llama.cpp, vLLM, LM Studio, a cloud API). */
  LLM_BASE_URL: baseUrl.default('http://127.0.0.1:11434/v1'),
  LLM_MODEL: z.string().trim().min(1).default('qwen3:8b'),
  LLM_API_KEY: optional,
  /** Tell reasoning models not to think aloud (any <think>…</think> that comes anyway is never spoken). */
  LLM_NO_THINK: bool.default(true),
  LLM_PRICE_INPUT_PER_MTOK: price,
  LLM_PRICE_OUTPUT_PER_MTOK: price,
  /** Text-to-speech: a server speaking POST {base}/audio/speech (Kokoro-FastAPI, openedai-speech with Piper, OpenAI). */
  TTS_BASE_URL: baseUrl.default('http://127.0.0.1:8880/v1'),
  TTS_MODEL: z.string().trim().min(1).default('kokoro'),
  TTS_VOICE: z.string().trim().min(1).default('af_heart'),
  TTS_API_KEY: optional,
  /** `pcm`: raw 16-bit mono at TTS_SAMPLE_RATE (OpenAI: 24000); `wav`: the rate is read from the header. */
  TTS_FORMAT: z.enum(['pcm', 'wav']).default('pcm'),
  TTS_SAMPLE_RATE: z.coerce.number().int().min(8000).max(48000).default(24000),
  TTS_PRICE_PER_MCHAR: price,
};

export type CascadeSettings = { [K in keyof typeof cascadeSettingsShape]: z.infer<(typeof cascadeSettingsShape)[K]> };
