import type { Settings } from '../config/settings.js';
import type { EngineFactory } from './engine.js';
import { OpenAIRealtimeEngine } from './openai-realtime/engine.js';
import { GeminiLiveEngine } from './gemini-live/engine.js';

/** The engines this build can run, each configured from settings. Adding an engine adds a line here. */
export function engineFactories(s: Settings): Partial<Record<'openai' | 'gemini', EngineFactory>> {
  const engines: Partial<Record<'openai' | 'gemini', EngineFactory>> = {};
  if (s.OPENAI_API_KEY) {
    const apiKey = s.OPENAI_API_KEY;
    engines.openai = (ctx) =>
      new OpenAIRealtimeEngine({
        apiKey,
        url: s.OPENAI_REALTIME_URL,
        model: s.OPENAI_REALTIME_MODEL,
        voice: s.OPENAI_VOICE,
        transcriptionModel: s.OPENAI_TRANSCRIPTION_MODEL,
        silenceMs: s.VAD_SILENCE_MS,
        onEvent: ctx.onEvent,
      });
  }
  if (s.GEMINI_API_KEY) {
    const apiKey = s.GEMINI_API_KEY;
    // An http(s) base URL (a proxy or the simulator) is reached over the matching ws(s) scheme.
    const baseUrl = s.GEMINI_LIVE_URL.replace(/^http/, 'ws');
    engines.gemini = (ctx) =>
      new GeminiLiveEngine({ apiKey, baseUrl, apiVersion: s.GEMINI_API_VERSION, model: s.GEMINI_LIVE_MODEL, voice: s.GEMINI_VOICE, silenceMs: s.VAD_SILENCE_MS, onEvent: ctx.onEvent });
  }
  return engines;
}
