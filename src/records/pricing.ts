import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * Versioned price table, USD. Token prices are per one million tokens; carrier prices per minute.
 * Override with PRICES_FILE (same JSON shape) when prices change; the version is shown with every cost.
 * Sources (docs/costs.md lists them): OpenAI's model pages, Google's Gemini API pricing page, Twilio's
 * voice pricing, as of the version date.
 *
 * Meters: `{text,audio}_input`, `{text,audio}_cached_input` (a subset of the input, billed once, at this
 * rate), `{text,audio}_output`, `thinking_output` (reasoning tokens, billed as text output). A `<meter>_flat`
 * price is per unit, not per million: `audio_seconds` for duration-billed transcription, and the carrier's
 * per-call extras (`calls`, `minutes`) under `<carrier>:<extra>`.
 * Gemini Live models publish no cached rate (caching is not supported on them): a cached token, should
 * one ever be reported, is billed at the full input rate rather than silently for free.
 */
const GEMINI_LIVE_3 = { text_input: 0.75, text_cached_input: 0.75, audio_input: 3.0, audio_cached_input: 3.0, text_output: 4.5, thinking_output: 4.5, audio_output: 12.0 };
const GEMINI_LIVE_25 = { text_input: 0.5, text_cached_input: 0.5, audio_input: 3.0, audio_cached_input: 3.0, text_output: 2.0, thinking_output: 2.0, audio_output: 12.0 };

export const DEFAULT_PRICES = {
  version: '2026-12-05',
  currency: 'USD',
  models: {
    'openai:gpt-realtime-2.1': { text_input: 4.0, text_cached_input: 0.4, text_output: 24.0, thinking_output: 24.0, audio_input: 32.0, audio_cached_input: 0.4, audio_output: 64.0 },
    'openai:gpt-realtime-2.1-mini': { text_input: 0.6, text_cached_input: 0.06, text_output: 2.4, thinking_output: 2.4, audio_input: 10.0, audio_cached_input: 0.3, audio_output: 20.0 },
    // Retired in January 2027 (replaced by the 2.1 models); kept so older calls and settings still price.
    'openai:gpt-realtime': { text_input: 4.0, text_cached_input: 0.4, text_output: 16.0, audio_input: 32.0, audio_cached_input: 0.4, audio_output: 64.0 },
    'openai:gpt-realtime-mini': { text_input: 0.6, text_cached_input: 0.06, text_output: 2.4, audio_input: 10.0, audio_cached_input: 0.3, audio_output: 20.0 },
    // Duration-billed: $0.0045 and $0.017 a minute.
    'openai:gpt-transcribe': { audio_seconds_flat: 0.0045 / 60 },
    'openai:gpt-live-transcribe': { audio_seconds_flat: 0.017 / 60 },
    // Shut down 2027-02-26 (replaced by gpt-transcribe / gpt-live-transcribe).
    'openai:gpt-4o-mini-transcribe': { text_input: 1.25, audio_input: 3.0, text_output: 5.0 },
    'openai:gpt-4o-transcribe': { text_input: 2.5, audio_input: 6.0, text_output: 10.0 },
    'openai:whisper-1': { audio_seconds_flat: 0.006 / 60 },
    // The outcome extraction's default text model (docs/outcome.md).
    'openai:gpt-5.4-mini': { text_input: 0.75, text_cached_input: 0.075, text_output: 4.5 },
    'gemini:gemini-3.8-live': GEMINI_LIVE_3,
    'gemini:gemini-3.1-flash-live-preview': GEMINI_LIVE_3,
    'gemini:gemini-2.5-flash-native-audio-preview-12-2025': GEMINI_LIVE_25,
    'gemini:gemini-2.5-flash-native-audio-preview-09-2025': GEMINI_LIVE_25,
    'gemini:gemini-live-2.5-flash-native-audio': GEMINI_LIVE_25,
    // Twilio's extras beside the call's own per-minute price (which Twilio reports per call, without them):
    // answering-machine detection runs on every answered call ($0.0075 a call), recording is billed per
    // started minute recorded ($0.0025).
    'twilio:answering-machine-detection': { calls_flat: 0.0075 },
    'twilio:recording': { minutes_flat: 0.0025 },
  } as Record<string, Record<string, number>>,
};

export const priceTableSchema = z.object({
  version: z.string().min(1),
  currency: z.string().min(1),
  models: z.record(z.string(), z.record(z.string(), z.number().nonnegative())),
});
export type PriceTable = z.infer<typeof priceTableSchema>;

export function loadPriceTable(file?: string): PriceTable {
  if (!file) return DEFAULT_PRICES;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`PRICES_FILE: cannot read ${file}: ${(err as Error).message}`);
  }
  const parsed = priceTableSchema.safeParse(json);
  if (!parsed.success) throw new Error(`PRICES_FILE: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** Minutes a carrier bills for a call of this length: each started minute, and at least one. */
export function billedMinutes(seconds: number): number {
  return Math.max(1, Math.ceil(Math.max(0, seconds) / 60));
}

/** Price of one unit of a meter: tokens are priced per million, `*_flat` meters per unit. */
export function unitPrice(table: PriceTable, provider: string, model: string, meter: string): number | undefined {
  const prices = table.models[`${provider}:${model}`];
  if (!prices) return undefined;
  const flat = prices[`${meter}_flat`];
  if (flat !== undefined) return flat;
  const perMillion = prices[meter];
  return perMillion === undefined ? undefined : perMillion / 1_000_000;
}

/** A carrier charge beside the call's minutes, priced from the table as `<carrier>:<extra>` `<meter>_flat`. */
export interface CarrierExtra {
  carrier: string;
  extra: 'answering-machine-detection' | 'recording';
  meter: 'calls' | 'minutes';
  quantity: number;
}

/**
 * What the carrier bills on top of the call's minutes. Callwright asks for answering-machine detection on
 * every call (it runs once the call is answered) and records when recording is on (billed per started
 * minute, like the call, from answer to end).
 */
export function carrierExtras(carrier: string, o: { answered: boolean; recorded: boolean; seconds: number }): CarrierExtra[] {
  if (!o.answered) return [];
  const out: CarrierExtra[] = [{ carrier, extra: 'answering-machine-detection', meter: 'calls', quantity: 1 }];
  if (o.recorded) out.push({ carrier, extra: 'recording', meter: 'minutes', quantity: billedMinutes(o.seconds) });
  return out;
}
