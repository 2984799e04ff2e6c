// Runs every *.test.ts under test/ (or the paths given) with Node's test runner and tsx.
// Node 20's --test does not expand globs itself, hence this small finder.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['test'];
const files = roots.flatMap((r) => (statSync(r).isDirectory() ? find(r) : [r]));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// --test-force-exit: a test file whose tests have all finished is ended even if a stray timer keeps its
// process alive. Without it one leaked handle (seen once in 700 tests: a referenced timer after
// test/e2e/web-ui.test.ts had passed) holds the whole suite until CI's limit, reporting nothing.
const run = (list, env = process.env) => spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-force-exit', '--test-reporter=spec', ...list], { stdio: 'inherit', env }).status ?? 1;
const status = run(files);

// The whole suite (no paths given) with a PostgreSQL to test on: the end-to-end files that exercise the
// store most run a second time with every stack's server on PostgreSQL (TEST_STORE=postgres). The store's
// own tests already run on both databases in the first pass; the whole e2e suite twice does not fit CI's
// time (docs/store.md).
const POSTGRES_E2E = ['session', 'campaigns', 'campaigns-restart', 'full-call', 'fault-injection', 'faults', 'dial-policy', 'hardening', 'store-locked', 'cluster-events', 'scheduled-calls', 'carrier-id', 'inbound', 'outcome', 'mcp', 'security', 'api-contract', 'client-edit-api', 'media-format'];
let pgStatus = 0;
if (!process.argv.slice(2).length && process.env.TEST_DATABASE_URL && process.env.TEST_STORE !== 'postgres') {
  console.log(`\n# the store-heavy end-to-end files again, on PostgreSQL (TEST_STORE=postgres): ${POSTGRES_E2E.join(', ')}`);
  pgStatus = run(POSTGRES_E2E.map((f) => join('test', 'e2e', `${f}.test.ts`)), { ...process.env, TEST_STORE: 'postgres' });
}
process.exit(status || pgStatus);
