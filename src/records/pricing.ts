import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * Versioned price table, USD. Token prices are per one million tokens; carrier prices per minute.
 * Override with PRICES_FILE (same JSON shape) when prices change; the version is shown with every cost.
 * Sources: OpenAI's and Twilio's public price pages as of the version date.
 */
export const DEFAULT_PRICES = {
  version: '2026-11-01',
  currency: 'USD',
  models: {
    'openai:gpt-realtime': { text_input: 4.0, text_cached_input: 0.4, text_output: 16.0, audio_input: 32.0, audio_cached_input: 0.4, audio_output: 64.0 },
    'openai:gpt-realtime-mini': { text_input: 0.6, text_cached_input: 0.06, text_output: 2.4, audio_input: 10.0, audio_cached_input: 0.3, audio_output: 20.0 },
    'openai:gpt-4o-mini-transcribe': { text_input: 1.25, audio_input: 3.0, text_output: 5.0 },
    'openai:gpt-4o-transcribe': { text_input: 2.5, audio_input: 6.0, text_output: 10.0 },
    'gemini:gemini-2.5-flash-native-audio-preview-09-2025': { text_input: 0.5, audio_input: 3.0, text_output: 2.0, audio_output: 12.0 },
    'gemini:gemini-live-2.5-flash-native-audio': { text_input: 0.5, audio_input: 3.0, text_output: 2.0, audio_output: 12.0 },
    // whisper-1 bills by duration; per-second price of $0.006/min.
    'openai:whisper-1': { audio_seconds_flat: 0.0001 },
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

/** Price of one unit of a meter: tokens are priced per million, `*_flat` meters per unit. */
/** Minutes a carrier bills for a call of this length: each started minute, and at least one. */
export function billedMinutes(seconds: number): number {
  return Math.max(1, Math.ceil(Math.max(0, seconds) / 60));
}

export function unitPrice(table: PriceTable, provider: string, model: string, meter: string): number | undefined {
  const prices = table.models[`${provider}:${model}`];
  if (!prices) return undefined;
  if (meter === 'audio_seconds' && prices.audio_seconds_flat !== undefined) return prices.audio_seconds_flat;
  const perMillion = prices[meter];
  return perMillion === undefined ? undefined : perMillion / 1_000_000;
}
