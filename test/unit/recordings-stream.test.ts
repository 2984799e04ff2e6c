import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { downloadRecording } from '../../src/records/recordings.js';

const CHUNK = Buffer.alloc(64 * 1024, 0x55);

/** A local recording server; `serve` answers each request (attempt numbers start at 1). */
async function recordingServer(serve: (res: ServerResponse, attempt: number) => void) {
  let attempt = 0;
  const server = createServer((_req, res) => serve(res, ++attempt));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rec.mp3`;
  return { url, attempts: () => attempt, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

/** Streams `total` bytes without a Content-Length (chunked), as a storage redirect target may; reports whether it all went out. */
function streamBody(res: ServerResponse, total: number, sent: { all?: boolean; bytes: number }) {
  res.writeHead(200, { 'content-type': 'audio/mpeg' });
  const next = () => {
    while (sent.bytes < total) {
      sent.bytes += CHUNK.length;
      if (!res.write(CHUNK)) return void res.once('drain', next);
    }
    res.end(() => (sent.all = true));
  };
  res.on('close', () => undefined);
  next();
}

test('a recording larger than RECORDING_MAX_BYTES is cut off while streaming, refused, and leaves no partial file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'callwright-rec-'));
  const sent: { all?: boolean; bytes: number } = { bytes: 0 };
  const total = 256 * 1024 * 1024;
  const srv = await recordingServer((res) => streamBody(res, total, sent));
  try {
    await assert.rejects(downloadRecording({ url: srv.url, headers: {}, dir, callId: 'c1', attempts: 3, firstDelayMs: 1, maxBytes: 1024 * 1024 }), /larger than 1048576 bytes \(RECORDING_MAX_BYTES\)/);
    assert.equal(srv.attempts(), 1, 'a recording over the cap is not retried');
    assert.deepEqual(readdirSync(dir), [], 'no partial and no final file');
    assert.notEqual(sent.all, true, 'the download stopped at the cap instead of reading the whole body');
    assert.ok(sent.bytes < total / 4, `sent ${sent.bytes} of ${total} bytes`);
  } finally {
    await srv.close();
  }
});

test('a declared Content-Length over the cap is refused before the body is read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'callwright-rec-'));
  const srv = await recordingServer((res) => {
    res.writeHead(200, { 'content-length': String(8 * 1024 * 1024) });
    res.end(Buffer.alloc(8 * 1024 * 1024));
  });
  try {
    await assert.rejects(downloadRecording({ url: srv.url, headers: {}, dir, callId: 'c2', attempts: 1, maxBytes: 1024 * 1024 }), /RECORDING_MAX_BYTES/);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    await srv.close();
  }
});

test('a download cut off mid-body is retried from scratch; the partial file is gone and the complete one is stored', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'callwright-rec-'));
  const body = Buffer.concat([CHUNK, CHUNK, CHUNK]);
  const srv = await recordingServer((res, attempt) => {
    if (attempt === 1) {
      // Half the declared body, then the connection drops.
      res.writeHead(200, { 'content-length': String(body.length) });
      res.write(body.subarray(0, CHUNK.length), () => res.destroy());
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length) });
    res.end(body);
  });
  try {
    const r = await downloadRecording({ url: srv.url, headers: {}, dir, callId: 'c3', attempts: 3, firstDelayMs: 1, maxBytes: 1024 * 1024 });
    assert.equal(r.attempts, 2);
    assert.equal(r.bytes, body.length);
    assert.deepEqual(readdirSync(dir), ['c3.mp3']);
    assert.ok(readFileSync(join(dir, 'c3.mp3')).equals(body));
  } finally {
    await srv.close();
  }
});
