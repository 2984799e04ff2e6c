import type { EngineFactory } from '../engine.js';
import type { PriceTable } from '../../records/pricing.js';
import { CascadeEngine } from './engine.js';
import { OpenAIChatLlm } from './llm/openai-chat.js';
import type { CascadeSettings } from './settings.js';
import { OpenAITranscriptionStt } from './stt/openai-transcriptions.js';
import { OpenAISpeechTts } from './tts/openai-speech.js';
import { SileroTurnDetector } from './vad/silero-turns.js';

/** The cascade engine as configured by settings: Silero end of turn, and the three OpenAI-style servers. */
export function cascadeEngineFactory(s: CascadeSettings & { VAD_SILENCE_MS: number; BARGE_IN_VAD_FLOOR_DBFS?: number }): EngineFactory {
  const stt = new OpenAITranscriptionStt({ baseUrl: s.STT_BASE_URL, model: s.STT_MODEL, apiKey: s.STT_API_KEY, language: s.STT_LANGUAGE });
  const llm = new OpenAIChatLlm({ baseUrl: s.LLM_BASE_URL, model: s.LLM_MODEL, apiKey: s.LLM_API_KEY });
  const tts = new OpenAISpeechTts({ baseUrl: s.TTS_BASE_URL, model: s.TTS_MODEL, voice: s.TTS_VOICE, apiKey: s.TTS_API_KEY, format: s.TTS_FORMAT, sampleRate: s.TTS_SAMPLE_RATE });
  const stages = { turns: () => new SileroTurnDetector({ silenceMs: s.VAD_SILENCE_MS, floorDbfs: s.BARGE_IN_VAD_FLOOR_DBFS }), stt, llm, tts };
  return (ctx) => new CascadeEngine({ stages, noThink: s.LLM_NO_THINK, onEvent: ctx.onEvent, silenceMs: s.VAD_SILENCE_MS });
}

/**
 * The cascade's usage is metered as `llm:<model>` (tokens), `stt:<model>` (audio seconds) and
 * `tts:<model>` (characters), priced from the STT_/LLM_/TTS_PRICE settings: 0 by default, for local
 * servers. An entry for the same key in PRICES_FILE wins.
 */
export function withCascadePrices(table: PriceTable, s: CascadeSettings): PriceTable {
  const add: Record<string, Record<string, number>> = {
    [`llm:${s.LLM_MODEL}`]: { text_input: s.LLM_PRICE_INPUT_PER_MTOK, text_output: s.LLM_PRICE_OUTPUT_PER_MTOK },
    [`stt:${s.STT_MODEL}`]: { audio_seconds_flat: s.STT_PRICE_PER_MINUTE / 60 },
    [`tts:${s.TTS_MODEL}`]: { characters: s.TTS_PRICE_PER_MCHAR },
  };
  return { ...table, models: { ...add, ...table.models } };
}
