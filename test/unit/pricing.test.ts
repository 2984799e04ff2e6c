import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSettings } from '../../src/config/settings.js';
import { DEFAULT_PRICES, unitPrice } from '../../src/records/pricing.js';

test('every default model has prices for every meter its engine reports', () => {
  const s = parseSettings({});
  const tokens = ['text_input', 'text_cached_input', 'audio_input', 'audio_cached_input', 'text_output', 'audio_output', 'thinking_output'];
  for (const [provider, model, meters] of [
    ['openai', s.OPENAI_REALTIME_MODEL, tokens],
    ['gemini', s.GEMINI_LIVE_MODEL, tokens],
    ['openai', s.OPENAI_TRANSCRIPTION_MODEL, ['audio_seconds']],
  ] as const) {
    for (const meter of meters) assert.ok(unitPrice(DEFAULT_PRICES, provider, model, meter) !== undefined, `${provider}:${model} ${meter}`);
  }
});

test('published rates: Gemini 3.8 Live thinking bills as text output, gpt-transcribe at $0.0045 a minute', () => {
  const p = (provider: string, model: string, meter: string) => unitPrice(DEFAULT_PRICES, provider, model, meter)!;
  assert.equal(p('gemini', 'gemini-3.8-live', 'audio_input') * 1e6, 3);
  assert.equal(p('gemini', 'gemini-3.8-live', 'audio_output') * 1e6, 12);
  assert.equal(p('gemini', 'gemini-3.8-live', 'thinking_output'), p('gemini', 'gemini-3.8-live', 'text_output'));
  assert.ok(Math.abs(p('openai', 'gpt-transcribe', 'audio_seconds') * 60 - 0.0045) < 1e-12);
});
