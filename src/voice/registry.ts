import type { Settings } from '../config/settings.js';
import type { EngineFactory } from './engine.js';
import type { PriceTable } from '../records/pricing.js';
import { OpenAIRealtimeEngine } from './openai-realtime/engine.js';
import { GeminiLiveEngine } from './gemini-live/engine.js';
import { cascadeEngineFactory, withCascadePrices } from './cascade/index.js';
import type { EngineName } from './engine-names.js';

export { ENGINE_NAMES, type EngineName } from './engine-names.js';

/**
 * The engines this build can run, each configured from settings. Adding an engine adds a line here and
 * its name in engine-names.ts (which every boundary validates against).
 */
export function engineFactories(s: Settings): Partial<Record<EngineName, EngineFactory>> {
  const engines: Partial<Record<EngineName, EngineFactory>> = {};
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
      new GeminiLiveEngine({ apiKey, baseUrl, apiVersion: s.GEMINI_API_VERSION, model: s.GEMINI_LIVE_MODEL, voice: s.GEMINI_VOICE, silenceMs: s.VAD_SILENCE_MS, transcribeModel: s.GEMINI_TRANSCRIBE_MODEL, onEvent: ctx.onEvent });
  }
  // No key needed: the stages may all run on this machine (docs/cascade.md).
  engines.cascade = cascadeEngineFactory(s);
  return engines;
}

/** The price table with what the configured engines add (the cascade's per-stage prices). */
export function withEnginePrices(table: PriceTable, s: Settings): PriceTable {
  return withCascadePrices(table, s);
}
