import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadRecording } from '../../src/records/recordings.js';
import { recordFilePath, recordFolders, storedName, writeRecordFile } from '../../src/records/record-files.js';
import { parseSettings } from '../../src/config/settings.js';

test('record folders: RECORDINGS_DIR and TRANSCRIPTS_DIR, else under DATA_DIR; rows keep names, older rows their paths', () => {
  assert.deepEqual(recordFolders(parseSettings({ DATA_DIR: '/d' })), { recordings: '/d/recordings', transcripts: '/d/transcripts' });
  assert.deepEqual(recordFolders(parseSettings({ DATA_DIR: '/d', RECORDINGS_DIR: '/mnt/share/rec', TRANSCRIPTS_DIR: '/mnt/share/txt' })), { recordings: '/mnt/share/rec', transcripts: '/mnt/share/txt' });
  assert.equal(storedName('/d/recordings/abc.mp3'), 'abc.mp3');
  assert.equal(recordFilePath('/mnt/share/rec', 'abc.mp3'), '/mnt/share/rec/abc.mp3');
  // Written before names were stored: the path as the writing node stored it.
  assert.equal(recordFilePath('/mnt/share/rec', 'data/recordings/abc.mp3'), 'data/recordings/abc.mp3');
  assert.equal(recordFilePath('/mnt/share/rec', '/d/recordings/abc.mp3'), '/d/recordings/abc.mp3');
});

test('writeRecordFile replaces the whole file by a rename and leaves no temporary file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'callwright-record-files-'));
  try {
    const path = join(dir, 'call.txt');
    writeFileSync(path, 'old');
    await writeRecordFile(path, 'new text');
    assert.equal(readFileSync(path, 'utf8'), 'new text');
    assert.deepEqual(readdirSync(dir), ['call.txt']);
    await assert.rejects(writeRecordFile(join(dir, 'missing-folder', 'x.txt'), 'x'));
    assert.deepEqual(readdirSync(dir), ['call.txt']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a recording being downloaded is never under its final name: another node sees no file or the whole file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'callwright-recording-part-'));
  const body = Buffer.alloc(64 * 1024, 7);
  let release!: () => void;
  const halfSent = new Promise<void>((resolveHalf) => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': String(body.length) });
      res.write(body.subarray(0, body.length / 2));
      resolveHalf();
      release = () => res.end(body.subarray(body.length / 2));
    });
    server.listen(0, '127.0.0.1', async () => {
      const port = (server.address() as { port: number }).port;
      const done = downloadRecording({ url: `http://127.0.0.1:${port}/rec`, headers: {}, dir, callId: 'c1', attempts: 1 });
      result = done.finally(() => server.close());
    });
  });
  let result!: Promise<{ path: string; bytes: number }>;
  try {
    await halfSent;
    // Wait until half the body has reached the disk, under the temporary name only.
    const deadline = Date.now() + 5000;
    while (!(existsSync(join(dir, 'c1.mp3.part')) && readFileSync(join(dir, 'c1.mp3.part')).length > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(readFileSync(join(dir, 'c1.mp3.part')).length > 0, 'part of the body is on disk');
    assert.equal(existsSync(join(dir, 'c1.mp3')), false, 'the final name does not exist while the body is incomplete');
    release();
    const r = await result;
    assert.equal(r.bytes, body.length);
    assert.deepEqual(readFileSync(join(dir, 'c1.mp3')), body);
    assert.deepEqual(readdirSync(dir), ['c1.mp3']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
