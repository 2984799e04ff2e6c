import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'dotenv';
import { parseSettings, settingsSchema } from '../../src/config/settings.js';

const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');

test('.env.example lists every setting, and nothing that is not one', () => {
  const listed = Object.keys(parse(example));
  const settings = Object.keys(settingsSchema.shape);
  assert.deepEqual(settings.filter((k) => !listed.includes(k)), [], 'settings missing from .env.example');
  assert.deepEqual(listed.filter((k) => !settings.includes(k)), [], '.env.example names that are not settings');
});

test('.env.example, copied to .env as it is, is a valid configuration with the documented defaults', () => {
  const s = parseSettings(parse(example));
  const defaults = parseSettings({});
  for (const k of ['OPENAI_REALTIME_MODEL', 'OPENAI_TRANSCRIPTION_MODEL', 'GEMINI_LIVE_MODEL'] as const) assert.equal(s[k], defaults[k], k);
});
