import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startClientsRescan } from '../../src/knowledge/rescan.js';

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'callwright-rescan-'));
  mkdirSync(join(dir, 'raju'));
  writeFileSync(join(dir, 'raju', 'profile.txt'), 'Full Name: Raju Kumar\n');
  mkdirSync(join(dir, 'ana'));
  const changed: string[] = [];
  const warnings: string[] = [];
  const log = { info() {}, debug() {}, error() {}, warn: (_o: object, msg: string) => void warnings.push(msg) };
  return { dir, changed, warnings, log, take: () => changed.splice(0).sort() };
}

test('rescan: reports exactly the clients whose folder changed (new, replaced even at the same size, removed), not hidden temp files', async () => {
  const s = setup();
  const rescan = await startClientsRescan({ clientsDir: s.dir, intervalMs: 3_600_000, onClientChanged: (id) => s.changed.push(id), log: s.log });
  try {
    await rescan.check();
    assert.deepEqual(s.take(), [], 'the first check only takes stock');

    writeFileSync(join(s.dir, 'raju', 'notes.md'), 'The gate code is 4512.');
    await rescan.check();
    assert.deepEqual(s.take(), ['raju']);
    await rescan.check();
    assert.deepEqual(s.take(), [], 'nothing changed since');

    // An upload's temp file is not a change; its rename over a same-size file is (a new inode).
    writeFileSync(join(s.dir, 'raju', '.upload-1.tmp'), 'The gate code is 9999.');
    await rescan.check();
    assert.deepEqual(s.take(), []);
    renameSync(join(s.dir, 'raju', '.upload-1.tmp'), join(s.dir, 'raju', 'notes.md'));
    await rescan.check();
    assert.deepEqual(s.take(), ['raju']);

    mkdirSync(join(s.dir, 'new-client'));
    writeFileSync(join(s.dir, 'new-client', 'a.txt'), 'x');
    rmSync(join(s.dir, 'ana'), { recursive: true });
    await rescan.check();
    assert.deepEqual(s.take(), ['ana', 'new-client']);
    mkdirSync(join(s.dir, '..bad'), { recursive: true });
    await rescan.check();
    assert.deepEqual(s.take(), [], 'a folder that is not a client id is not a client');
  } finally {
    rescan.close();
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test('rescan: runs by itself every intervalMs; an unreadable CLIENTS_DIR is logged once and changes nothing until it is back', async () => {
  const s = setup();
  const rescan = await startClientsRescan({ clientsDir: s.dir, intervalMs: 50, onClientChanged: (id) => s.changed.push(id), log: s.log });
  try {
    writeFileSync(join(s.dir, 'ana', 'a.md'), '# A');
    const deadline = Date.now() + 5000;
    while (!s.changed.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(s.take(), ['ana'], 'found without an explicit check');

    // The share goes away (here: the folder is replaced by a file, so reading it fails).
    renameSync(s.dir, `${s.dir}.away`);
    writeFileSync(s.dir, 'not a folder');
    await rescan.check();
    await rescan.check();
    assert.deepEqual(s.take(), [], 'a failing share reports no client as removed');
    assert.equal(s.warnings.length, 1, 'said once');
    rmSync(s.dir);
    renameSync(`${s.dir}.away`, s.dir);
    await rescan.check();
    assert.deepEqual(s.take(), [], 'back as it was: nothing to sync');

    // An unmounted share shows an empty folder: not taken for every client deleted.
    renameSync(s.dir, `${s.dir}.away`);
    mkdirSync(s.dir);
    await rescan.check();
    assert.deepEqual(s.take(), []);
    assert.equal(s.warnings.length, 2, 'said once more, after the recovery in between');
  } finally {
    rescan.close();
    rmSync(s.dir, { recursive: true, force: true });
    rmSync(`${s.dir}.away`, { recursive: true, force: true });
  }
});
