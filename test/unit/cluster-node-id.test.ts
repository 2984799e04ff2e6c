import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { nodeIdOf } from '../../src/cluster/node-id.js';

test("a node's name: NODE_ID when set; alone on SQLite the host name; with a shared database or Redis never one another process on the host could have", () => {
  assert.equal(nodeIdOf({ NODE_ID: 'node-a', DATABASE_URL: 'postgres://x/y', REDIS_URL: undefined }), 'node-a');
  assert.equal(nodeIdOf({ NODE_ID: undefined, DATABASE_URL: undefined, REDIS_URL: undefined }), hostname());
  // Restart recovery ends the calls left live under this node's name: two servers on one host sharing a
  // database must not share it, or each start would end the other's live calls.
  for (const shared of [{ DATABASE_URL: 'postgres://x/y', REDIS_URL: undefined }, { DATABASE_URL: undefined, REDIS_URL: 'redis://127.0.0.1:6379' }]) {
    const id = nodeIdOf({ NODE_ID: undefined, ...shared });
    assert.equal(id, `${hostname()}-${process.pid}`);
    assert.notEqual(id, hostname());
  }
});
