/**
 * The OpenAPI contract: built from the routes as registered and the zod schemas that validate them, so a
 * route that is not described fails here, and the document checks as OpenAPI 3.1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { withStack } from './helpers.js';
import { Validator } from '@seriousme/openapi-schema-validator';
import { renderApiReference } from '../../src/server/openapi-reference.js';

/**
 * What the contract covers: the API, the carrier's webhooks (also under a named node's /n/<NODE_ID>/, as
 * the stack serves them with TEST_STORE=postgres) and health. The UI's pages and assets are not API.
 */
const CONTRACT = /^\/(api|twilio|n\/[^/]+\/twilio|healthz|mcp)(\/|$)/;

test('every API, webhook and health route is described in /api/openapi.json, which is served without a token', async () => {
  await withStack({}, async (stack) => {
    const undocumented = stack.app.openapi.routes.filter((r) => CONTRACT.test(r.url) && !r.doc).map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(undocumented, [], 'routes without documented({...})');
    const res = await fetch(`${stack.baseUrl}/api/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as any;
    assert.equal(doc.openapi, '3.1.0');
    const check = await new Validator().validate(doc);
    assert.ok(check.valid, `not valid OpenAPI 3.1: ${JSON.stringify(check.errors ?? []).slice(0, 800)}`);
    const described = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${path}`));
    const registered = stack.app.openapi.routes.filter((r) => CONTRACT.test(r.url)).map((r) => `${r.method} ${r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
    assert.deepEqual([...new Set(described)].sort(), [...new Set(registered)].sort());

    // The request schemas are the ones that validate: POST /api/calls names its fields, with their limits.
    const create = doc.paths['/api/calls'].post;
    const body = create.requestBody.content['application/json'].schema;
    assert.deepEqual(body.required, ['to'], 'instructions may come from a runbook');
    assert.ok(body.properties.runbook && body.properties.variables);
    assert.equal(body.properties.instructions.maxLength, 8000);
    assert.match(body.properties.dtmf.pattern, /w/);
    const list = doc.paths['/api/calls'].get.parameters.map((p: any) => p.name);
    assert.ok(['limit', 'cursor', 'status', 'endReason', 'clientId', 'q'].every((n) => list.includes(n)), list.join());
    // Path parameters are declared; every operation has an id and at least one response.
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        assert.ok(op.operationId && Object.keys(op.responses).length, `${method} ${path}`);
        for (const name of path.match(/\{([^}]+)\}/g) ?? []) {
          assert.ok(op.parameters?.some((p: any) => p.in === 'path' && `{${p.name}}` === name), `${method} ${path} declares ${name}`);
        }
      }
    }
    const ids = Object.values<any>(doc.paths).flatMap((ops) => Object.values<any>(ops).map((op) => op.operationId));
    assert.equal(new Set(ids).size, ids.length, 'operation ids are unique');
  });
});

test('docs/openapi.json and docs/api-reference.md are the document the server serves (regenerate with npm run openapi)', async () => {
  // The documents are one server's without NODE_ID (empty: unset, also under TEST_STORE=postgres).
  await withStack({ env: { NODE_ID: '' } }, async (stack) => {
    const served = await (await fetch(`${stack.baseUrl}/api/openapi.json`)).json();
    const committed = JSON.parse(readFileSync('docs/openapi.json', 'utf8'));
    assert.deepEqual(committed, served);
    assert.equal(readFileSync('docs/api-reference.md', 'utf8'), renderApiReference(served as Record<string, any>), 'docs/api-reference.md is current');
  });
});
