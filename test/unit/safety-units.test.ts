import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import pino from 'pino';
import { LiveCostLedger } from '../../src/calls/cost-ledger.js';
import { DEFAULT_PRICES, carrierExtras } from '../../src/records/pricing.js';
import { loggerOptions, maskPersonalData } from '../../src/server/logging.js';
import { secureDataDir } from '../../src/store/data-dir.js';
import { openDatabase } from '../../src/store/database.js';
import { inlineHashes, parseOrigins } from '../../src/server/hardening.js';

test('the live cost ledger prices usage as it arrives and adds carrier minutes and extras from answer', () => {
  const l = new LiveCostLedger(DEFAULT_PRICES, 0.014);
  l.addUsage('c1', { provider: 'openai', model: 'gpt-realtime', meters: { audio_output: 1_000_000 } });
  assert.equal(l.cost('c1', null, Date.now()), 64, 'before answer: usage only');
  const answered = new Date(Date.now() - 61_000).toISOString();
  // Each started minute, plus answering-machine detection ($0.0075 a call, run on every answered call).
  assert.ok(Math.abs(l.cost('c1', answered, Date.now()) - (64 + 2 * 0.014 + 0.0075)) < 1e-9, 'each started minute, and AMD');
  const recorded = new LiveCostLedger(DEFAULT_PRICES, 0.014, { recordCalls: true });
  assert.ok(Math.abs(recorded.cost('c2', answered, Date.now()) - (2 * 0.014 + 0.0075 + 2 * 0.0025)) < 1e-9, 'recorded calls: each started minute recorded');
  l.addUsage('c1', { provider: 'openai', model: 'no-such-model', meters: { audio_output: 5 } });
  assert.ok(l.cost('c1', null, Date.now()) === 64, 'unpriced meters add nothing (the breakdown lists them as unpriced)');
  l.forget('c1');
  assert.equal(l.cost('c1', null, Date.now()), 0);
});

test('carrier extras: nothing before answer; AMD on every answered call; recording per started minute when recorded', () => {
  assert.deepEqual(carrierExtras('twilio', { answered: false, recorded: true, seconds: 0 }), []);
  assert.deepEqual(carrierExtras('twilio', { answered: true, recorded: false, seconds: 30 }), [{ carrier: 'twilio', extra: 'answering-machine-detection', meter: 'calls', quantity: 1 }]);
  assert.deepEqual(carrierExtras('twilio', { answered: true, recorded: true, seconds: 121 })[1], { carrier: 'twilio', extra: 'recording', meter: 'minutes', quantity: 3 });
});

function capture(sensitive: boolean) {
  const lines: string[] = [];
  const log = pino(loggerOptions('debug', sensitive) as pino.LoggerOptions, new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
  return { log, text: () => lines.join('') };
}

test('logs: secrets always redacted; numbers and text masked unless LOG_SENSITIVE', () => {
  const off = capture(false);
  off.log.info({ to: '+14155550123', text: 'my card number is 4242', apiKey: 'sk-live-123', nested: { from: '+14155550100', authToken: 'tw-secret' } }, 'x');
  const t = off.text();
  for (const leak of ['+14155550123', '4155550123', 'my card number', 'sk-live-123', '+14155550100', 'tw-secret']) assert.ok(!t.includes(leak), leak);
  assert.match(t, /"to":"\+14\*+23"/);
  assert.match(t, /"text":"\[22 chars\]"/);
  const on = capture(true);
  on.log.info({ to: '+14155550123', text: 'my card number is 4242', apiKey: 'sk-live-123' }, 'x');
  assert.match(on.text(), /\+14155550123/);
  assert.match(on.text(), /my card number is 4242/);
  assert.ok(!on.text().includes('sk-live-123'), 'secrets stay redacted even then');
  assert.deepEqual(maskPersonalData({ a: 1 }), { a: 1 });
});

test('DATA_DIR: folder 0700, database and its -wal/-shm 0600, older wide files tightened', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'cw-data-')), 'data');
  mkdirSync(join(dir, 'recordings'), { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, 'recordings', 'old.mp3'), 'x', { mode: 0o644 });
  writeFileSync(join(dir, 'api-token'), 'x');
  chmodSync(join(dir, 'api-token'), 0o644);
  secureDataDir(dir);
  const db = openDatabase(join(dir, 'callwright.db'));
  db.prepare("INSERT INTO webhook_receipts (key, at) VALUES ('k', 'now')").run();
  const mode = (p: string) => statSync(join(dir, p)).mode & 0o777;
  assert.equal(mode('.'), 0o700);
  assert.equal(mode('recordings'), 0o700);
  for (const f of ['callwright.db', 'callwright.db-wal', 'callwright.db-shm', 'api-token', 'recordings/old.mp3']) assert.equal(mode(f), 0o600, f);
  db.close();
});

test('CSP hashes of inline blocks; CORS origins must be bare origins', () => {
  const h = inlineHashes('<style>a{}</style><script>1</script>');
  assert.equal(h.length, 2);
  assert.match(h[0], /^style:sha256-/);
  assert.match(h[1], /^script:sha256-/);
  assert.deepEqual(parseOrigins('https://a.example, http://localhost:5173'), ['https://a.example', 'http://localhost:5173']);
  assert.throws(() => parseOrigins('https://a.example/app'), /CORS_ORIGINS/);
});
