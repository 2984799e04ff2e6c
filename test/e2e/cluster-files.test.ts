import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSettings } from '../../src/config/settings.js';
import { buildApp, type App } from '../../src/server/app.js';
import { FULL_CONVERSATION, withStack, until } from './helpers.js';
import { SIM_API_TOKEN, writeDemoClient } from '../sim/stack.js';
import { freshPostgresDatabase, TEST_DATABASE_URL } from '../store-backends.js';
import { redisUrlFor, TEST_REDIS_URL } from '../redis-backend.js';

// Issue 16: several nodes share one folder for recordings, transcripts and client documents
// (docs/deployment.md, "Shared files"). Each node has its own DATA_DIR; only the shared folder and the
// store (and Redis, where set) are common.

const PG_SKIP = TEST_DATABASE_URL ? undefined : 'needs TEST_DATABASE_URL (scripts/test-postgres.sh): the call row must be in a store both nodes read';

async function node(env: Record<string, string>): Promise<{ app: App; base: string; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'callwright-node-'));
  const app = await buildApp({ settings: parseSettings({ DATA_DIR: dataDir, KNOWLEDGE_WATCH: 'false', ...env }), apiToken: SIM_API_TOKEN, logger: false });
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  return { app, base: `http://127.0.0.1:${(app.server.addresses()[0] as { port: number }).port}`, dataDir };
}

const auth = { Authorization: `Bearer ${SIM_API_TOKEN}` };

test('a recording fetched by node A is served by node B from the shared folder, and deleting the call on B removes the shared files', { skip: PG_SKIP }, async () => {
  const shared = mkdtempSync(join(tmpdir(), 'callwright-shared-'));
  const sharedOnB = `${shared}-mounted-on-b`;
  const db = await freshPostgresDatabase();
  const common = { DATABASE_URL: db.url, RECORDINGS_DIR: join(shared, 'recordings'), TRANSCRIPTS_DIR: join(shared, 'transcripts') };
  let b: Awaited<ReturnType<typeof node>> | undefined;
  try {
    await withStack({ script: () => FULL_CONVERSATION.script, scenario: () => FULL_CONVERSATION.scenario, env: { ...common, NODE_ID: 'node-a' } }, async (stack) => {
      const id = await stack.placeCall();
      await stack.waitForEnd(id, 30_000);
      const onA = await until('the recording on node A', async () => {
        const r = await fetch(`${stack.baseUrl}/api/calls/${id}/recording.mp3`, { headers: auth });
        return r.status === 200 ? new Uint8Array(await r.arrayBuffer()) : undefined;
      }, 20_000);
      // Written to the shared folder, nothing in node A's own DATA_DIR.
      assert.deepEqual(readdirSync(join(shared, 'recordings')), [`${id}.mp3`]);
      assert.ok(existsSync(join(shared, 'transcripts', `${id}.txt`)));
      assert.equal(existsSync(join(stack.dataDir, 'recordings')), false);

      // Node B mounts the share elsewhere: it must find the file by the row's name, not by A's path.
      renameSync(shared, sharedOnB);
      b = await node({ DATABASE_URL: db.url, RECORDINGS_DIR: join(sharedOnB, 'recordings'), TRANSCRIPTS_DIR: join(sharedOnB, 'transcripts'), NODE_ID: 'node-b', CLIENTS_DIR: join(stack.dataDir, 'clients') });
      const fromB = await fetch(`${b.base}/api/calls/${id}/recording.mp3`, { headers: auth });
      assert.equal(fromB.status, 200);
      assert.equal(fromB.headers.get('content-type'), 'audio/mpeg');
      assert.deepEqual(new Uint8Array(await fromB.arrayBuffer()), onA, 'the same bytes from either node');

      const del = await fetch(`${b.base}/api/calls/${id}`, { method: 'DELETE', headers: auth });
      assert.equal(del.status, 200);
      assert.equal(((await del.json()) as { files: number }).files, 2, 'the recording and the transcript, deleted from node B');
      assert.deepEqual(readdirSync(join(sharedOnB, 'recordings')), []);
      assert.deepEqual(readdirSync(join(sharedOnB, 'transcripts')).filter((f) => !f.startsWith('.')), []);
    });
  } finally {
    await b?.app.close();
    if (b) rmSync(b.dataDir, { recursive: true, force: true });
    await db.drop();
    rmSync(shared, { recursive: true, force: true });
    rmSync(sharedOnB, { recursive: true, force: true });
  }
});

/** Two nodes with their own DATA_DIR (their own knowledge index) on one CLIENTS_DIR. */
async function twoNodesOnOneClientsDir(env: Record<string, string>, fn: (a: string, b: string, clientsDir: string) => Promise<void>) {
  const clientsDir = mkdtempSync(join(tmpdir(), 'callwright-shared-clients-'));
  writeDemoClient(clientsDir);
  const nodes: Array<Awaited<ReturnType<typeof node>>> = [];
  try {
    nodes.push(await node({ ...env, CLIENTS_DIR: clientsDir, NODE_ID: 'node-a' }));
    nodes.push(await node({ ...env, CLIENTS_DIR: clientsDir, NODE_ID: 'node-b' }));
    await fn(nodes[0]!.base, nodes[1]!.base, clientsDir);
  } finally {
    for (const n of nodes) {
      await n.app.close();
      rmSync(n.dataDir, { recursive: true, force: true });
    }
    rmSync(clientsDir, { recursive: true, force: true });
  }
}

async function upload(base: string, clientId: string, name: string, text: string) {
  const form = new FormData();
  form.append('file', new Blob([Buffer.from(text)]), name);
  const res = await fetch(`${base}/api/clients/${clientId}/documents`, { method: 'POST', headers: auth, body: form });
  assert.equal(res.status, 201);
  return ((await res.json()) as { documents: Array<{ id: string }> }).documents[0]!.id;
}

async function searchFiles(base: string, clientId: string, q: string): Promise<string[]> {
  const res = await fetch(`${base}/api/clients/${clientId}/search?q=${encodeURIComponent(q)}`, { headers: auth });
  assert.equal(res.status, 200);
  return ((await res.json()) as { results: Array<{ file: string }> }).results.map((r) => r.file);
}

test('without Redis: a document uploaded on node A is found on node B within the rescan period, and its deletion too', async () => {
  await twoNodesOnOneClientsDir({ KNOWLEDGE_RESCAN_S: '1' }, async (a, b) => {
    assert.deepEqual(await searchFiles(b, 'raju', 'gate code'), []);
    // No Redis and no file watching: only B's rescan (every 1 s) can find it. The deadline is generous
    // for a loaded test machine; the rescan test in test/unit/knowledge-rescan.test.ts times it closely.
    const docId = await upload(a, 'raju', 'access.md', '# Access\n\nThe gate code is 4512.');
    await until('node B finds the new document', async () => (await searchFiles(b, 'raju', 'gate code')).includes('access.md'), 15_000);

    const del = await fetch(`${a}/api/clients/raju/documents/${docId}`, { method: 'DELETE', headers: auth });
    assert.equal(del.status, 204);
    await until('node B forgets the deleted document', async () => (await searchFiles(b, 'raju', 'gate code')).length === 0, 15_000);
  });
});

test('with Redis: node B re-syncs as soon as node A announces the upload, with the rescan off', { skip: TEST_REDIS_URL ? undefined : 'needs TEST_REDIS_URL (scripts/test-redis.sh)' }, async () => {
  const redisUrl = await redisUrlFor(4);
  await twoNodesOnOneClientsDir({ KNOWLEDGE_RESCAN_S: '0', REDIS_URL: redisUrl }, async (a, b, clientsDir) => {
    await upload(a, 'raju', 'parking.md', '# Parking\n\nPark behind the bakery on Elm Street.');
    // The rescan is off: only A's word can have told B.
    await until('node B finds the document at once', async () => (await searchFiles(b, 'raju', 'bakery parking')).includes('parking.md'), 3000);
    assert.ok(readFileSync(join(clientsDir, 'raju', 'parking.md'), 'utf8').includes('bakery'));
  });
});
