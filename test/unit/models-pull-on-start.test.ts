/**
 * MODELS_PULL_ON_START's pull (src/models/pull-on-start.ts), against the local model mirror with an archive
 * this test makes: the model lands in DATA_DIR/models, the stage finds it, and each step is reported.
 * The compiled server's side (log lines, exit code 5) is test/e2e/models-pull-on-start.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireModel, UnknownModelError } from '../../src/models/catalog.js';
import { ModelPullFailure, modelsForStages, pullMissingModels } from '../../src/models/pull-on-start.js';
import { fakeArchive } from '../sim/model-mirror/fake-archive.js';
import { startModelMirror } from '../sim/model-mirror/index.js';

test('the models of the in-process stages that are set, whatever the engine', () => {
  const s = { STT_PROVIDER: 'openai', STT_SHERPA_MODEL: 'stt-model', TTS_PROVIDER: 'openai', TTS_PIPER_VOICE: 'voice' };
  assert.deepEqual(modelsForStages(s), []);
  assert.deepEqual(modelsForStages({ ...s, STT_PROVIDER: 'sherpa', TTS_PROVIDER: 'piper' }), [
    { setting: 'STT_SHERPA_MODEL', model: 'stt-model' },
    { setting: 'TTS_PIPER_VOICE', model: 'voice' },
  ]);
});

test('a missing model is pulled into DATA_DIR/models with a line per quarter; a present one is left alone', async () => {
  const { archive, entry } = fakeArchive();
  const m = await startModelMirror({ [entry.archive.fileName]: archive });
  try {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'callwright-pull-start-')), 'data');
    const lines: string[] = [];
    const events: unknown[] = [];
    const pulled = await pullMissingModels({ dataDir, baseUrl: m.baseUrl, models: [entry], report: (line, fields) => (lines.push(line), events.push(fields.event)) });
    assert.deepEqual(pulled, ['fake-voice']);
    const installed = requireModel(dataDir, entry);
    assert.equal(installed.dir, join(dataDir, 'models', 'fake-voice'));
    assert.ok(existsSync(installed.files.model!));
    assert.equal(lines[0], `fake-voice: not pulled yet; downloading 0.0 MB from ${m.baseUrl}/fake-model.tar.bz2`);
    assert.equal(lines.at(-2), 'fake-voice: checksum ok, unpacking');
    assert.equal(lines.at(-1), `fake-voice: ready in ${installed.dir}`);
    assert.ok(events.filter((e) => e === 'models.pull.progress').length >= 2, lines.join('\n'));
    assert.match(lines.at(-3)!, /^fake-voice: 100% \(0\.0 MB of 0\.0 MB\)$/);

    const again = await pullMissingModels({ dataDir, baseUrl: m.baseUrl, models: [entry], report: (line) => lines.push(line) });
    assert.deepEqual(again, []);
    assert.equal(m.requests.length, 1, 'downloaded once');
  } finally {
    await m.close();
  }
});

test('a failed pull names the model; an unknown name fails before anything is fetched', async () => {
  const { archive, entry } = fakeArchive();
  const m = await startModelMirror({ [entry.archive.fileName]: Buffer.from(archive).fill(1, 100, 200) });
  try {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'callwright-pull-start-')), 'data');
    await assert.rejects(pullMissingModels({ dataDir, baseUrl: m.baseUrl, models: [entry], report: () => {} }), (err: Error) => {
      assert.ok(err instanceof ModelPullFailure);
      assert.equal(err.model, 'fake-voice');
      assert.match(err.message, /^model fake-voice could not be pulled: checksum mismatch for /);
      return true;
    });
    assert.equal(existsSync(join(dataDir, 'models', 'fake-voice')), false);
    await assert.rejects(pullMissingModels({ dataDir, baseUrl: m.baseUrl, models: ['no-such-model'], report: () => {} }), UnknownModelError);
    assert.equal(m.requests.length, 1);
  } finally {
    await m.close();
  }
});
