import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL_CATALOG, type ModelEntry } from '../../../src/models/catalog.js';

/**
 * A model archive as the sherpa-onnx releases are (one .tar.bz2 with one top-level folder), with a catalog
 * entry pinning it: the real archives' bytes are not available to tests, so an install that succeeds is
 * tested with this one.
 */
export function fakeArchive(name = 'fake-voice'): { archive: Buffer; entry: ModelEntry } {
  const dir = mkdtempSync(join(tmpdir(), 'callwright-fake-model-'));
  mkdirSync(join(dir, 'fake-model', 'espeak-ng-data', 'lang'), { recursive: true });
  writeFileSync(join(dir, 'fake-model', 'model.onnx'), randomBytes(40_000));
  writeFileSync(join(dir, 'fake-model', 'tokens.txt'), 'a 0\nb 1\n');
  writeFileSync(join(dir, 'fake-model', 'espeak-ng-data', 'lang', 'en'), 'name English\n');
  execFileSync('tar', ['-cjf', join(dir, 'fake-model.tar.bz2'), '-C', dir, 'fake-model']);
  const archive = readFileSync(join(dir, 'fake-model.tar.bz2'));
  const base = MODEL_CATALOG.find((e) => e.stage === 'tts')!;
  const sha256 = createHash('sha256').update(archive).digest('hex');
  const entry: ModelEntry = {
    ...base,
    name,
    archive: { url: 'http://127.0.0.1:1/unused', fileName: 'fake-model.tar.bz2', bytes: archive.length, sha256, root: 'fake-model', checksumSource: 'made by this test' },
    files: { model: 'model.onnx', tokens: 'tokens.txt', dataDir: 'espeak-ng-data' },
  };
  return { archive, entry };
}
