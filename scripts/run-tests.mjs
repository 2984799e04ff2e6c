// Runs every *.test.ts under test/ (or the paths given) with Node's test runner and tsx.
// Node 20's --test does not expand globs itself, hence this small finder.
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

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
function run(list, { env = process.env, logTo } = {}) {
  return new Promise((resolve) => {
    const args = ['--import', 'tsx', '--test', '--test-force-exit', '--test-reporter=spec', ...list];
    const child = spawn(process.execPath, args, { stdio: logTo ? ['ignore', 'pipe', 'pipe'] : 'inherit', env });
    if (logTo) {
      const out = createWriteStream(logTo, { flags: 'a' });
      child.stdout.pipe(out, { end: false });
      child.stderr.pipe(out, { end: false });
      child.on('close', (code) => out.end(() => resolve(code ?? 1)));
    } else {
      child.on('close', (code) => resolve(code ?? 1));
    }
  });
}

// The whole suite (no paths given) with a PostgreSQL to test on: every end-to-end and UI file runs a second
// time with every stack's server on PostgreSQL (TEST_STORE=postgres); the store's own unit tests already run
// on both databases in the first pass (test/store-backends.ts). The two passes run side by side: an e2e file
// waits on simulated calls in real time (about a quarter of a core while it runs, measured on CI's 2-core
// machine), so one after the other would take twice as long for no more coverage. The PostgreSQL pass writes
// to a file of its own, printed when it ends, so neither pass's report is interleaved with the other's.
const wholeSuite = !process.argv.slice(2).length && process.env.TEST_DATABASE_URL && process.env.TEST_STORE !== 'postgres';
const started = Date.now();
let pgRun = Promise.resolve(0);
let pgLog;
if (wholeSuite) {
  // The UI files first, then the e2e files: the first pass starts with the e2e files (the test runner sorts
  // the files it is given, hence two runs), so the two passes run the same e2e file minutes apart, never at
  // once (two of the same timing-bound file at once, both at their busiest moments, broke answer-at-once's
  // 400 ms bar in a trial). Redis databases 8-15 of its own (test/redis-backend.ts), so neither empties the
  // other's keys or shares its rate limits.
  const pgGroups = [find(join('test', 'ui')), find(join('test', 'e2e'))];
  const redis = {};
  if (process.env.TEST_REDIS_URL) {
    const url = new URL(process.env.TEST_REDIS_URL);
    url.pathname = '/8';
    redis.TEST_REDIS_URL = url.toString();
  }
  pgLog = join(mkdtempSync(join(tmpdir(), 'callwright-pg-pass-')), 'report.txt');
  console.log(`# the ${pgGroups.flat().length} UI and end-to-end files run a second time on PostgreSQL (TEST_STORE=postgres), alongside this pass; its report (${pgLog}) follows this one`);
  const env = { ...process.env, ...redis, TEST_STORE: 'postgres' };
  pgRun = (async () => {
    let worst = 0;
    for (const group of pgGroups) worst = Math.max(worst, await run(group, { env, logTo: pgLog }));
    return worst;
  })();
}
const status = await run(files);
const firstSeconds = Math.round((Date.now() - started) / 1000);
if (wholeSuite) {
  console.log(`\n# first pass (SQLite) ended after ${firstSeconds} s with status ${status}; waiting for the PostgreSQL pass`);
}
const pgStatus = await pgRun;
if (wholeSuite) {
  console.log(`\n# the PostgreSQL pass (TEST_STORE=postgres), ended ${Math.round((Date.now() - started) / 1000)} s after the start with status ${pgStatus}:\n`);
  process.stdout.write(readFileSync(pgLog, 'utf8'));
}
process.exit(status || pgStatus);
