/**
 * `callwright models` downloads (src/models): resumable, verified HTTP downloads and installs, against a
 * local mirror (test/sim/model-mirror). Nothing here reaches the internet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadVerified, DownloadError, type DownloadProgress } from '../../src/models/download.js';
import { pullModel, verifyModel } from '../../src/models/install.js';
import { MODEL_CATALOG, ModelNotDownloadedError, requireModel, type ModelEntry } from '../../src/models/catalog.js';
import { fakeArchive } from '../sim/model-mirror/fake-archive.js';
import { startModelMirror, type ModelMirror } from '../sim/model-mirror/index.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const tmp = () => mkdtempSync(join(tmpdir(), 'callwright-models-'));
const BODY = randomBytes(200_000);

async function withMirror(files: Record<string, Buffer>, fn: (m: ModelMirror) => Promise<void>) {
  const m = await startModelMirror(files);
  try {
    await fn(m);
  } finally {
    await m.close();
  }
}

async function rejectsWith(p: Promise<unknown>, kind: DownloadError['kind']): Promise<DownloadError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DownloadError, String(err));
    assert.equal(err.kind, kind, err.message);
    return err;
  }
  assert.fail(`expected a ${kind} failure`);
}

test('a download lands complete and verified, with progress up to the total, and leaves no .part', async () => {
  await withMirror({ 'm.bin': BODY }, async (m) => {
    const dest = join(tmp(), 'dl', 'm.bin');
    const seen: DownloadProgress[] = [];
    await downloadVerified({ url: `${m.baseUrl}/m.bin`, dest, bytes: BODY.length, sha256: sha256(BODY), onProgress: (p) => seen.push(p) });
    assert.deepEqual(readFileSync(dest), BODY);
    assert.equal(existsSync(`${dest}.part`), false);
    assert.ok(seen.length >= 2, 'progress more than once');
    assert.ok(seen.every((p, i) => p.total === BODY.length && (i === 0 || p.received >= seen[i - 1].received)), 'monotonic, against the pinned size');
    assert.equal(seen.at(-1)!.received, BODY.length);
  });
});

test('a checksum mismatch fails with both hashes, deletes what it got and installs nothing', async () => {
  const wrong = Buffer.from(BODY);
  wrong[1234] ^= 0xff;
  await withMirror({ 'm.bin': wrong }, async (m) => {
    const dest = join(tmp(), 'm.bin');
    const err = await rejectsWith(downloadVerified({ url: `${m.baseUrl}/m.bin`, dest, bytes: BODY.length, sha256: sha256(BODY) }), 'checksum');
    assert.match(err.message, new RegExp(`expected sha256 ${sha256(BODY)}, got ${sha256(wrong)}`));
    assert.equal(existsSync(dest), false);
    assert.equal(existsSync(`${dest}.part`), false);
    assert.equal(err.resumable, false);
  });
});

test('an interrupted download keeps its part; the next try asks for the rest with Range and completes', async () => {
  await withMirror({ 'm.bin': BODY }, async (m) => {
    const dest = join(tmp(), 'm.bin');
    const o = { url: `${m.baseUrl}/m.bin`, dest, bytes: BODY.length, sha256: sha256(BODY), retries: 0 };
    m.cutAfter = 50_000;
    m.cutTimes = 1;
    const err = await rejectsWith(downloadVerified(o), 'interrupted');
    const kept = statSync(`${dest}.part`).size;
    assert.ok(kept > 0 && kept <= 50_000, `kept ${kept} bytes`);
    assert.match(err.message, /resumes from there/);
    const seen: DownloadProgress[] = [];
    await downloadVerified({ ...o, onProgress: (p) => seen.push(p) });
    assert.deepEqual(readFileSync(dest), BODY);
    assert.deepEqual(m.requests.map((r) => r.range), [undefined, `bytes=${kept}-`]);
    assert.equal(seen[0].resumedFrom, kept);
  });
});

test('drops mid-download are retried on their own, each try resuming where the last stopped', async () => {
  await withMirror({ 'm.bin': BODY }, async (m) => {
    const dest = join(tmp(), 'm.bin');
    m.cutAfter = 30_000;
    m.cutTimes = 2;
    await downloadVerified({ url: `${m.baseUrl}/m.bin`, dest, bytes: BODY.length, sha256: sha256(BODY), retries: 3 });
    assert.deepEqual(readFileSync(dest), BODY);
    const starts = m.requests.map((r) => Number(/bytes=(\d+)-/.exec(r.range ?? '')?.[1] ?? 0));
    assert.equal(starts.length, 3);
    assert.ok(starts[0] === 0 && starts[1] > 0 && starts[2] > starts[1], `resumed from ${starts}`);
  });
});

test('a transfer that stalls is given up after stallMs, keeps its part, and the retry resumes it', async () => {
  await withMirror({ 'm.bin': BODY }, async (m) => {
    const dest = join(tmp(), 'm.bin');
    const o = { url: `${m.baseUrl}/m.bin`, dest, bytes: BODY.length, sha256: sha256(BODY), stallMs: 300 };
    m.hangAfter = 60_000;
    const err = await rejectsWith(downloadVerified({ ...o, retries: 0 }), 'stalled');
    assert.match(err.message, /stalled for 0.3 s after 60000 of 200000 bytes/);
    assert.equal(statSync(`${dest}.part`).size, 60_000);
    m.hangAfter = 10_000;
    await downloadVerified({ ...o, retries: 1 });
    assert.deepEqual(readFileSync(dest), BODY);
    assert.deepEqual(m.requests.map((r) => r.range), [undefined, 'bytes=60000-', 'bytes=70000-']);
  });
});

test('a server without Range support sends the whole file again; it is written from the start, not appended', async () => {
  await withMirror({ 'm.bin': BODY }, async (m) => {
    const dest = join(tmp(), 'm.bin');
    writeFileSync(`${dest}.part`, BODY.subarray(0, 70_000));
    m.ranges = false;
    await downloadVerified({ url: `${m.baseUrl}/m.bin`, dest, bytes: BODY.length, sha256: sha256(BODY) });
    assert.equal(m.requests[0].range, 'bytes=70000-');
    assert.deepEqual(readFileSync(dest), BODY);
  });
});

test('HTTP 404 fails at once naming the URL and status, without retrying', async () => {
  await withMirror({}, async (m) => {
    const err = await rejectsWith(downloadVerified({ url: `${m.baseUrl}/missing.bin`, dest: join(tmp(), 'x'), bytes: 10, sha256: '0'.repeat(64), retries: 3 }), 'http');
    assert.equal(err.status, 404);
    assert.match(err.message, /missing\.bin answered HTTP 404/);
    assert.equal(m.requests.length, 1);
  });
});

test('a file of another size than pinned fails as such, and a redirect to the asset host is followed', async () => {
  await withMirror({ 'm.bin': BODY.subarray(0, 1000) }, async (m) => {
    m.redirect = true;
    const err = await rejectsWith(downloadVerified({ url: `${m.baseUrl}/m.bin`, dest: join(tmp(), 'm.bin'), bytes: 2000, sha256: '0'.repeat(64) }), 'size');
    assert.match(err.message, /gave 1000 bytes, expected 2000/);
    assert.deepEqual(m.requests.map((r) => r.path), ['/m.bin', '/assets/m.bin']);
  });
});

test('pull unpacks into DATA_DIR/models/<name>, the stage finds its files, and verify spots a changed file', async () => {
  const { archive, entry } = fakeArchive();
  await withMirror({ 'fake-model.tar.bz2': archive }, async (m) => {
    const dataDir = join(tmp(), 'data');
    assert.throws(() => requireModel(dataDir, entry), (err: Error) => err instanceof ModelNotDownloadedError && /run `callwright models pull fake-voice`/.test(err.message));
    let unpacked = false;
    const r = await pullModel({ dataDir, model: entry, baseUrl: m.baseUrl, onUnpack: () => (unpacked = true) });
    assert.equal(r.already, false);
    assert.ok(unpacked);
    // The pull created DATA_DIR: owner-only, as the server would have.
    if (process.platform !== 'win32') assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    const got = requireModel(dataDir, entry);
    assert.equal(got.dir, join(dataDir, 'models', 'fake-voice'));
    assert.equal(readFileSync(got.files.tokens, 'utf8'), 'a 0\nb 1\n');
    assert.ok(statSync(got.files.dataDir).isDirectory());
    // The archive is not kept once unpacked and recorded, and no staging folder is left behind.
    assert.deepEqual(readdir(join(dataDir, 'models')), ['.downloads', 'fake-voice']);
    assert.deepEqual(readdir(join(dataDir, 'models', '.downloads')), []);
    assert.deepEqual(await verifyModel(dataDir, entry), { name: 'fake-voice', ok: true, problems: [] });

    const again = await pullModel({ dataDir, model: entry, baseUrl: m.baseUrl });
    assert.equal(again.already, true);
    assert.equal(m.requests.length, 1, 'an installed model is not downloaded again');

    writeFileSync(got.files.tokens, 'a 0\nb 2\n');
    const v = await verifyModel(dataDir, entry);
    assert.equal(v.ok, false);
    assert.deepEqual(v.problems, ['tokens.txt has changed since it was installed (sha256 differs)']);
  });
});

test('one pull of a model at a time: a live puller blocks a second, the lock of a dead one is taken over', async () => {
  const { archive, entry } = fakeArchive();
  await withMirror({ 'fake-model.tar.bz2': archive }, async (m) => {
    const dataDir = tmp();
    const lockFile = join(dataDir, 'models', '.downloads', 'fake-model.tar.bz2.lock');
    mkdirSync(join(dataDir, 'models', '.downloads'), { recursive: true });
    writeFileSync(lockFile, String(process.pid));
    await assert.rejects(pullModel({ dataDir, model: entry, baseUrl: m.baseUrl }), new RegExp(`fake-voice is already being pulled by process ${process.pid}`));
    assert.equal(m.requests.length, 0);
    // A process that has exited: its pid is free.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(lockFile, String(dead));
    await pullModel({ dataDir, model: entry, baseUrl: m.baseUrl });
    assert.ok(requireModel(dataDir, entry).dir);
    assert.equal(existsSync(lockFile), false, 'released');
  });
});

test('a model unpacked by hand into DATA_DIR/models/<name> is used; verify says there is no record to check it against', async () => {
  const { archive, entry } = fakeArchive();
  const dataDir = tmp();
  const archiveFile = join(tmp(), 'fake-model.tar.bz2');
  writeFileSync(archiveFile, archive);
  mkdirSync(join(dataDir, 'models'), { recursive: true });
  execFileSync('tar', ['-xjf', archiveFile, '-C', join(dataDir, 'models')]);
  execFileSync('mv', [join(dataDir, 'models', 'fake-model'), join(dataDir, 'models', 'fake-voice')]);
  assert.equal(requireModel(dataDir, entry).files.model, join(dataDir, 'models', 'fake-voice', 'model.onnx'));
  const v = await verifyModel(dataDir, entry);
  assert.deepEqual([v.ok, v.problems], [true, []]);
  assert.match(v.note ?? '', /placed by hand/);
  // Without a file the stage needs, it is not usable, and both say so with the command that fixes it.
  execFileSync('rm', [join(dataDir, 'models', 'fake-voice', 'tokens.txt')]);
  assert.throws(() => requireModel(dataDir, entry), /model fake-voice is not downloaded \(tokens\.txt is missing from .*\); run `callwright models pull fake-voice`/);
  assert.equal((await verifyModel(dataDir, entry)).ok, false);
});

test('an archive that lacks a file the stage needs is refused and nothing is installed', async () => {
  const { archive, entry } = fakeArchive();
  const broken: ModelEntry = { ...entry, files: { ...entry.files, joiner: 'joiner.onnx' } };
  await withMirror({ 'fake-model.tar.bz2': archive }, async (m) => {
    const dataDir = tmp();
    await assert.rejects(pullModel({ dataDir, model: broken, baseUrl: m.baseUrl }), /fake-model\.tar\.bz2 lacks joiner\.onnx/);
    assert.equal(existsSync(join(dataDir, 'models', 'fake-voice')), false);
    assert.deepEqual(readdir(join(dataDir, 'models')), ['.downloads']);
  });
});

test('every catalog entry is pinned: https URL on a release tag, exact size, a sha256, a licence and the files a stage needs', () => {
  const names = new Set<string>();
  for (const e of MODEL_CATALOG) {
    assert.ok(!names.has(e.name), `duplicate ${e.name}`);
    names.add(e.name);
    assert.match(e.archive.url, /^https:\/\/github\.com\/k2-fsa\/sherpa-onnx\/releases\/download\/[a-z-]+\/[\w.-]+\.tar\.bz2$/, e.name);
    assert.ok(e.archive.url.endsWith(`/${e.archive.fileName}`) && e.archive.fileName === `${e.archive.root}.tar.bz2`, e.name);
    assert.ok(Number.isInteger(e.archive.bytes) && e.archive.bytes > 1_000_000, e.name);
    assert.match(e.archive.sha256, /^[0-9a-f]{64}$/, e.name);
    assert.ok(e.licence && e.licenceNote && e.archive.checksumSource, e.name);
    assert.ok(Object.keys(e.files).length >= 2, e.name);
  }
});

function readdir(p: string): string[] {
  return (execFileSync('ls', ['-A', p], { encoding: 'utf8' }).trim().split('\n').filter(Boolean)).sort();
}
