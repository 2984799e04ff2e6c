import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { nodeIdOf, registryIdOf } from '../../src/cluster/node-id.js';

test("a node's name on its calls and claims: NODE_ID when set; alone on SQLite the host name; on a shared database never one another process on the host could have", () => {
  assert.equal(nodeIdOf({ NODE_ID: 'node-a', DATABASE_URL: 'postgres://x/y' }), 'node-a');
  // One process per DATA_DIR: the host name is stable across restarts and no other process shares the store.
  assert.equal(nodeIdOf({ NODE_ID: undefined, DATABASE_URL: undefined }), hostname());
  // Restart recovery ends the calls left live under this node's name: two servers on one host sharing a
  // database must not share it, or each start would end the other's live calls.
  assert.equal(nodeIdOf({ NODE_ID: undefined, DATABASE_URL: 'postgres://x/y' }), `${hostname()}-${process.pid}`);
});

test("a process's name in Redis is never shared by two servers on one host, whatever their store", () => {
  assert.equal(registryIdOf({ NODE_ID: 'node-a' }), 'node-a');
  assert.equal(registryIdOf({ NODE_ID: undefined }), `${hostname()}-${process.pid}`);
});
