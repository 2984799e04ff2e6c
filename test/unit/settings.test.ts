import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSettings, SettingsError, missingForCalls } from '../../src/config/settings.js';
import { createEmbedder, embeddingsProviderFor } from '../../src/knowledge/embeddings/embedder.js';

test('defaults need nothing configured', () => {
  const s = parseSettings({});
  assert.equal(s.PORT, 3000);
  assert.equal(s.DATA_DIR, './data');
  assert.equal(s.AI_PROVIDER, 'openai');
  assert.equal(s.RECORD_CALLS, true);
  assert.equal(s.TWILIO_API_URL, 'https://api.twilio.com');
  assert.equal(s.OPENAI_REALTIME_URL, 'wss://api.openai.com/v1/realtime');
  assert.ok(missingForCalls(s).some((m) => m.startsWith('TWILIO_ACCOUNT_SID')));
});

test('bad values are reported by setting name, without echoing the value', () => {
  try {
    parseSettings({ PORT: 'abc', AI_PROVIDER: 'claude', TWILIO_ACCOUNT_SID: 'secret-looking-value', RECORD_CALLS: 'maybe', OPENAI_REALTIME_URL: 'http://x' });
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof SettingsError);
    const names = err.problems.map((p) => p.split(':')[0]).sort();
    assert.deepEqual(names, ['AI_PROVIDER', 'OPENAI_REALTIME_URL', 'PORT', 'RECORD_CALLS', 'TWILIO_ACCOUNT_SID']);
    assert.ok(!err.message.includes('secret-looking-value'));
  }
});

test('a complete configuration is ready to call', () => {
  const s = parseSettings({
    PUBLIC_URL: 'https://example.test/',
    TWILIO_ACCOUNT_SID: 'AC' + '0'.repeat(32),
    TWILIO_AUTH_TOKEN: 't',
    TWILIO_FROM_NUMBER: '+15005550006',
    OPENAI_API_KEY: 'k',
    RECORD_CALLS: 'false',
  });
  assert.equal(s.PUBLIC_URL, 'https://example.test');
  assert.equal(s.RECORD_CALLS, false);
  assert.deepEqual(missingForCalls(s), []);
});

test('embeddings provider: auto follows the keys, none turns vectors off, an explicit provider needs its key', () => {
  assert.equal(embeddingsProviderFor(parseSettings({})), undefined);
  assert.equal(embeddingsProviderFor(parseSettings({ OPENAI_API_KEY: 'sk-x', GEMINI_API_KEY: 'g' })), 'openai');
  assert.equal(embeddingsProviderFor(parseSettings({ GEMINI_API_KEY: 'g' })), 'gemini');
  assert.equal(embeddingsProviderFor(parseSettings({ OPENAI_API_KEY: 'sk-x', EMBEDDINGS_PROVIDER: 'none' })), undefined);
  const e = createEmbedder(parseSettings({ OPENAI_API_KEY: 'sk-x' }))!;
  assert.deepEqual([e.provider, e.model, e.dimensions], ['openai', 'text-embedding-3-small', 512]);
  const g = createEmbedder(parseSettings({ GEMINI_API_KEY: 'g', EMBEDDINGS_PROVIDER: 'gemini', EMBEDDINGS_DIMENSIONS: '768' }))!;
  assert.deepEqual([g.provider, g.model, g.dimensions], ['gemini', 'gemini-embedding-001', 768]);
  assert.throws(() => createEmbedder(parseSettings({ EMBEDDINGS_PROVIDER: 'gemini' })), /gemini needs GEMINI_API_KEY/);
  assert.throws(() => parseSettings({ EMBEDDINGS_PROVIDER: 'cohere' }), /EMBEDDINGS_PROVIDER/);
  assert.throws(() => parseSettings({ OPENAI_BASE_URL: 'ftp://x' }), /OPENAI_BASE_URL/);
  const d = parseSettings({});
  assert.deepEqual([d.KNOWLEDGE_TOP_K, d.UPLOAD_MAX_BYTES, d.KNOWLEDGE_WATCH, d.OPENAI_BASE_URL], [5, 20 * 1024 * 1024, true, 'https://api.openai.com/v1']);
});
