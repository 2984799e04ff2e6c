/**
 * MODELS_PULL_ON_START with the compiled server (`npm start`), against the local model mirror
 * (test/sim/model-mirror) through MODELS_BASE_URL: the missing model of a configured in-process stage is
 * downloaded before the server listens, with a log line per quarter; a checksum failure stops the start
 * with one sentence and exit code 5 (docs/terminal.md). The real archives are never fetched: a mirror file
 * of the pinned size with other bytes runs every step up to the checksum. (A pull that installs is
 * tested through the same code with an archive this test can make: test/unit/models-pull-on-start.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL_CATALOG } from '../../src/models/catalog.js';
import { startModelMirror, type ModelMirror } from '../sim/model-mirror/index.js';
import { freePort, SIM_API_TOKEN } from '../sim/stack.js';
import { startArgs } from '../sim/server-process.js';

const MAIN = startArgs();
const voice = MODEL_CATALOG.find((m) => m.name === 'vits-piper-en_US-lessac-medium')!;

/** The server until it listens (then it is stopped) or exits; stdout is its log (JSON: not a terminal). */
function start(env: Record<string, string>): Promise<{ code: number | null; listened: boolean; out: string; err: string }> {
  const child = spawn(process.execPath, MAIN, { env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let listened = false;
  child.stdout.on('data', (d) => {
    out += String(d);
    if (!listened && out.includes('"event":"server.ready"')) {
      listened = true;
      child.kill('SIGTERM');
    }
  });
  child.stderr.on('data', (d) => (err += String(d)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((res) => child.once('close', (code) => (clearTimeout(timer), res({ code, listened, out, err }))));
}

async function setup(fn: (m: ModelMirror, env: Record<string, string>, dataDir: string) => Promise<void>) {
  const m = await startModelMirror();
  const root = mkdtempSync(join(tmpdir(), 'callwright-pull-on-start-'));
  const dataDir = join(root, 'data');
  const env = {
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    API_TOKEN: SIM_API_TOKEN,
    CLIENTS_DIR: join(root, 'clients'),
    KNOWLEDGE_WATCH: 'false',
    EMBEDDINGS_PROVIDER: 'none',
    OUTCOME_PROVIDER: 'none',
    AI_PROVIDER: 'cascade',
    TTS_PROVIDER: 'piper',
    MODELS_BASE_URL: m.baseUrl,
    MODELS_PULL_ON_START: 'true',
  };
  try {
    await fn(m, env, dataDir);
  } finally {
    await m.close();
  }
}

const logLines = (out: string) =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { event?: string; msg: string; percent?: number; model?: string });

test('a missing model of a configured stage is pulled before the server listens, a log line per quarter; a checksum failure stops the start with exit code 5', async () => {
  await setup(async (m, env, dataDir) => {
    m.files.set(voice.archive.fileName, Buffer.alloc(voice.archive.bytes, 7));
    const r = await start(env);
    assert.equal(r.code, 5, r.err);
    assert.equal(r.listened, false, 'the server never listened');
    const lines = logLines(r.out);
    const said = lines.filter((l) => l.model === voice.name).map((l) => l.msg);
    assert.equal(said[0], `${voice.name}: not pulled yet; downloading 67.2 MB from ${m.baseUrl}/${voice.archive.fileName}`);
    // Where each quarter's line falls depends on how the bytes arrive; one line per quarter, each with the bytes so far.
    assert.deepEqual(
      said.slice(1).map((l) => /^vits-piper-en_US-lessac-medium: (\d+)% \((\d+\.\d) MB of 67\.2 MB\)$/.exec(l)?.[1]),
      ['0', '25', '50', '75', '100'],
      said.join('\n'),
    );
    assert.equal(said.at(-1), `${voice.name}: 100% (67.2 MB of 67.2 MB)`);
    assert.deepEqual(lines.filter((l) => l.event === 'models.pull.progress').map((l) => l.percent), [0, 25, 50, 75, 100]);
    const err = r.err.trim();
    assert.equal(err.split('\n').length, 1, `one line: ${err}`);
    assert.match(
      err,
      new RegExp(
        `^Callwright cannot start: model ${voice.name} could not be pulled \\(checksum mismatch for ${m.baseUrl}/${voice.archive.fileName}: expected sha256 ${voice.archive.sha256}, got [0-9a-f]{64}; the download was deleted\\); check MODELS_BASE_URL or the network, or pull it by hand with \`callwright models pull ${voice.name}\`\\.$`,
      ),
    );
    assert.equal(existsSync(join(dataDir, 'models', voice.name)), false, 'nothing installed');
    assert.deepEqual(readdirSync(join(dataDir, 'models', '.downloads')), [], 'the bad download was deleted, the lock released');
  });
});

test('a model already in DATA_DIR/models is not downloaded again; with the setting off nothing is pulled; an unknown model name is a bad setting', async () => {
  await setup(async (m, env, dataDir) => {
    m.files.set(voice.archive.fileName, Buffer.alloc(voice.archive.bytes, 7));
    // Off (the default): the server starts without touching the mirror, the model still missing.
    const off = await start({ ...env, MODELS_PULL_ON_START: 'false' });
    assert.equal(off.listened, true, off.err);
    assert.equal(m.requests.length, 0);

    // Unpacked by hand (docs/local.md): used as it is.
    const dir = join(dataDir, 'models', voice.name);
    mkdirSync(join(dir, voice.files.dataDir!), { recursive: true });
    writeFileSync(join(dir, voice.files.model!), 'onnx');
    writeFileSync(join(dir, voice.files.tokens!), 'a 0\n');
    const present = await start(env);
    assert.equal(present.listened, true, present.err);
    assert.equal(m.requests.length, 0, 'nothing downloaded');
    assert.equal(logLines(present.out).filter((l) => l.event?.startsWith('models.pull')).length, 0);

    const unknown = await start({ ...env, TTS_PIPER_VOICE: 'vits-piper-xx-nobody' });
    assert.equal(unknown.code, 2, unknown.err);
    assert.match(unknown.err.trim(), /^Callwright cannot start: TTS_PIPER_VOICE: unknown model "vits-piper-xx-nobody"; known models: .* \(set in \.env or the environment\)\.$/);
    assert.equal(m.requests.length, 0);
  });
});
