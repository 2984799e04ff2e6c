import type { EngineFactory } from '../engine.js';
import type { PriceTable } from '../../records/pricing.js';
import { CascadeEngine } from './engine.js';
import { OpenAIChatLlm } from './llm/openai-chat.js';
import type { CascadeSettings } from './settings.js';
import type { SpeechToText, TextToSpeech } from './stages.js';
import { OpenAITranscriptionStt } from './stt/openai-transcriptions.js';
import { SherpaStreamingStt } from './stt/sherpa-streaming.js';
import { OpenAISpeechTts } from './tts/openai-speech.js';
import { PiperTts } from './tts/piper-sherpa.js';
import { SileroTurnDetector } from './vad/silero-turns.js';

type FactorySettings = CascadeSettings & { VAD_SILENCE_MS: number; BARGE_IN_VAD_FLOOR_DBFS?: number; DATA_DIR: string };

/** The speech-to-text stage STT_PROVIDER picks. Built once per process: an in-process model is shared by all calls. */
function sttStage(s: FactorySettings): SpeechToText {
  if (s.STT_PROVIDER === 'sherpa') return new SherpaStreamingStt({ dataDir: s.DATA_DIR, model: s.STT_SHERPA_MODEL, numThreads: s.SHERPA_THREADS });
  return new OpenAITranscriptionStt({ baseUrl: s.STT_BASE_URL, model: s.STT_MODEL, apiKey: s.STT_API_KEY, language: s.STT_LANGUAGE });
}

function ttsStage(s: FactorySettings): TextToSpeech {
  if (s.TTS_PROVIDER === 'piper') return new PiperTts({ dataDir: s.DATA_DIR, voice: s.TTS_PIPER_VOICE, numThreads: s.SHERPA_THREADS });
  return new OpenAISpeechTts({ baseUrl: s.TTS_BASE_URL, model: s.TTS_MODEL, voice: s.TTS_VOICE, apiKey: s.TTS_API_KEY, format: s.TTS_FORMAT, sampleRate: s.TTS_SAMPLE_RATE });
}

/** The cascade engine as configured by settings: Silero end of turn, the STT and TTS the providers pick, an OpenAI-style LLM. */
export function cascadeEngineFactory(s: FactorySettings): EngineFactory {
  const stt = sttStage(s);
  const llm = new OpenAIChatLlm({ baseUrl: s.LLM_BASE_URL, model: s.LLM_MODEL, apiKey: s.LLM_API_KEY });
  const tts = ttsStage(s);
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
    [`stt:${s.STT_PROVIDER === 'sherpa' ? s.STT_SHERPA_MODEL : s.STT_MODEL}`]: { audio_seconds_flat: s.STT_PRICE_PER_MINUTE / 60 },
    [`tts:${s.TTS_PROVIDER === 'piper' ? s.TTS_PIPER_VOICE : s.TTS_MODEL}`]: { characters: s.TTS_PRICE_PER_MCHAR },
  };
  return { ...table, models: { ...add, ...table.models } };
}
