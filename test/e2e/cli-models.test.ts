/**
 * `callwright models` run as a child process (bin/callwright.js), against the local model mirror
 * (test/sim/model-mirror) through MODELS_BASE_URL: what a user sees when a pull fails, is interrupted and
 * resumed, or names a model that does not exist. The real archives are never fetched: a mirror file of the
 * pinned size with other bytes exercises every step up to the checksum.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './cli-process.js';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL_CATALOG } from '../../src/models/catalog.js';
import { startModelMirror, type ModelMirror } from '../sim/model-mirror/index.js';

const cli = (args: string[], env: Record<string, string>) => runCli(['models', ...args], env);

async function withMirror(fn: (m: ModelMirror) => Promise<void>) {
  const m = await startModelMirror();
  try {
    await fn(m);
  } finally {
    await m.close();
  }
}

const voice = MODEL_CATALOG.find((m) => m.name === 'vits-piper-en_US-lessac-medium')!;

test('models list: every catalog model with its size, licence and whether it is pulled', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'callwright-data-'));
  const json = await cli(['list', '--json'], { DATA_DIR: dataDir });
  assert.equal(json.code, 0, json.stderr);
  const rows = JSON.parse(json.stdout).models as { name: string; installed: boolean; bytes: number; licence: string; dir: string }[];
  assert.deepEqual(rows.map((r) => r.name), MODEL_CATALOG.map((m) => m.name));
  assert.ok(rows.every((r) => r.installed === false && r.dir === join(dataDir, 'models', r.name)));
  const text = await cli(['list', '--data-dir', dataDir], {});
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /vits-piper-en_US-lessac-medium {2}TTS {2}67\.2 MB {2}not pulled/);
  assert.match(text.stdout, /licence: Apache-2\.0/);
});

test('models pull: an interrupted download resumes with Range on the next run; a checksum mismatch installs nothing', async () => {
  await withMirror(async (m) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'callwright-data-'));
    // The pinned size, other bytes: every step runs up to the checksum.
    m.files.set(voice.archive.fileName, Buffer.alloc(voice.archive.bytes, 7));
    m.cutAfter = 5_000_000;
    m.cutTimes = 4; // the first try and its three automatic retries all drop
    const env = { DATA_DIR: dataDir, MODELS_BASE_URL: m.baseUrl };
    const first = await cli(['pull', voice.name], env);
    assert.equal(first.code, 1, first.stderr);
    assert.match(first.stderr, new RegExp(`downloading 67\\.2 MB from ${m.baseUrl}/${voice.archive.fileName}`));
    assert.match(first.stderr, /was interrupted .* it resumes from there next time/);
    const part = join(dataDir, 'models', '.downloads', `${voice.archive.fileName}.part`);
    const kept = statSync(part).size;
    assert.ok(kept >= 4 * 5_000_000 - 4 && kept <= 4 * 5_000_000, `kept ${kept}`);
    assert.deepEqual(m.requests.map((r) => r.range), [undefined, 'bytes=5000000-', 'bytes=10000000-', 'bytes=15000000-']);

    const second = await cli(['pull', voice.name], env);
    assert.equal(second.code, 1, second.stderr);
    assert.equal(m.requests.at(-1)!.range, `bytes=${kept}-`);
    assert.match(second.stderr, /vits-piper-en_US-lessac-medium: 29% .*\n[\s\S]*vits-piper-en_US-lessac-medium: 100% \(67\.2 MB of 67\.2 MB\)/);
    assert.match(second.stderr, new RegExp(`checksum mismatch .*expected sha256 ${voice.archive.sha256}, got [0-9a-f]{64}; the download was deleted`));
    assert.equal(existsSync(part), false);
    assert.equal(existsSync(join(dataDir, 'models', voice.name)), false);
    const verify = await cli(['verify'], env);
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(verify.stdout, 'No models pulled.\n');
  });
});

test('models pull: a mirror without the file, an unknown model and a bad MODELS_BASE_URL each say what is wrong', async () => {
  await withMirror(async (m) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'callwright-data-'));
    const missing = await cli(['pull', 'sherpa-onnx-streaming-zipformer-en-20M-2023-02-17'], { DATA_DIR: dataDir, MODELS_BASE_URL: `${m.baseUrl}/` });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, new RegExp(`${m.baseUrl}/sherpa-onnx-streaming-zipformer-en-20M-2023-02-17\\.tar\\.bz2 answered HTTP 404 Not Found`));
    assert.equal(m.requests.length, 1, 'a 404 is not retried');

    const unknown = await cli(['pull', 'whisper-huge'], { DATA_DIR: dataDir, MODELS_BASE_URL: m.baseUrl });
    assert.equal(unknown.code, 5);
    assert.match(unknown.stderr, /unknown model "whisper-huge"; known models: sherpa-onnx-streaming-zipformer-en-20M-2023-02-17, /);

    const bad = await cli(['pull', 'sherpa-onnx-streaming-zipformer-en-20M-2023-02-17', '--base-url', 'ftp://mirror'], { DATA_DIR: dataDir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--base-url: must be a URL starting with http:\/\/ or https:\/\//);
    assert.equal(m.requests.length, 1);
  });
});

test('models check: with the models not pulled, names each one and the command that pulls it', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'callwright-data-'));
  const r = await cli(['check'], { DATA_DIR: dataDir, STT_SHERPA_MODEL: 'sherpa-onnx-streaming-zipformer-en-20M-2023-02-17' });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(
    r.stderr,
    `callwright models: model vits-piper-en_US-lessac-medium is not downloaded (no ${join(dataDir, 'models', 'vits-piper-en_US-lessac-medium')}); run \`callwright models pull vits-piper-en_US-lessac-medium\`; ` +
      `model sherpa-onnx-streaming-zipformer-en-20M-2023-02-17 is not downloaded (no ${join(dataDir, 'models', 'sherpa-onnx-streaming-zipformer-en-20M-2023-02-17')}); run \`callwright models pull sherpa-onnx-streaming-zipformer-en-20M-2023-02-17\`\n`,
  );
  const bad = await cli(['check'], { DATA_DIR: dataDir, SHERPA_THREADS: '0' });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^callwright models: SHERPA_THREADS: /);
});
