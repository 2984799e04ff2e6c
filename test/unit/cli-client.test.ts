/**
 * The pure parts under the CLI and MCP: the SSE parser that reads a call's timeline, and where the
 * CLI finds the server and its token.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSseChunk } from '../../src/client/sse.js';
import { resolveConnection } from '../../src/cli/connection.js';

test('parseSseChunk: complete blocks only, CRLF, multi-line data, comments and retry-only blocks dropped', () => {
  const text = 'retry: 2000\n\n: keep-alive\n\nid: 3\nevent: status\ndata: {"a":1}\n\r\nevent: end\ndata: {}\n\ndata: line1\ndata: line2\n\nid: 4\nevent: trans';
  const { messages, rest } = parseSseChunk(text);
  assert.deepEqual(messages, [
    { id: '3', event: 'status', data: '{"a":1}' },
    { event: 'end', data: '{}' },
    { event: 'message', data: 'line1\nline2' },
  ]);
  assert.equal(rest, 'id: 4\nevent: trans', 'an unfinished block waits for the rest');
  assert.deepEqual(parseSseChunk(rest + 'cript\ndata: x\n\n').messages, [{ id: '4', event: 'transcript', data: 'x' }]);
});

test('resolveConnection: flags, then CALLWRIGHT_*, then API_TOKEN, then DATA_DIR/api-token; URL from PORT', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'callwright-conn-'));
  mkdirSync(join(cwd, 'data'));
  writeFileSync(join(cwd, 'data', 'api-token'), 'file-token\n');
  assert.deepEqual(resolveConnection({}, {}, cwd), { baseUrl: 'http://127.0.0.1:3000', token: 'file-token', tokenSource: join(cwd, 'data', 'api-token') });
  assert.equal(resolveConnection({}, { PORT: '4100' }, cwd).baseUrl, 'http://127.0.0.1:4100');
  assert.equal(resolveConnection({}, { PORT: '4100', CALLWRIGHT_URL: 'http://box:1' }, cwd).baseUrl, 'http://box:1');
  assert.equal(resolveConnection({ url: 'http://flag:2' }, { CALLWRIGHT_URL: 'http://box:1' }, cwd).baseUrl, 'http://flag:2');
  assert.equal(resolveConnection({}, { API_TOKEN: 'server-token' }, cwd).token, 'server-token');
  assert.equal(resolveConnection({}, { API_TOKEN: 'server-token', CALLWRIGHT_TOKEN: 'cli-token' }, cwd).token, 'cli-token');
  assert.equal(resolveConnection({ token: 'flag-token' }, { CALLWRIGHT_TOKEN: 'cli-token' }, cwd).tokenSource, '--token');
  const other = mkdtempSync(join(tmpdir(), 'callwright-conn-'));
  assert.equal(resolveConnection({}, { DATA_DIR: join(cwd, 'data') }, other).token, 'file-token');
  assert.equal(resolveConnection({ dataDir: 'nowhere' }, {}, cwd).token, undefined);
  assert.match(resolveConnection({ dataDir: 'nowhere' }, {}, cwd).tokenSource, /^none/);
});
