// Runs every *.test.ts under test/ (or the paths given) with Node's test runner and tsx.
// Node 20's --test does not expand globs itself, hence this small finder.
import { readdirSync, statSync } from 'node:fs';
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

// --test-force-exit: a test file whose tests have all finished is ended even if a stray timer keeps its
// process alive. Without it one leaked handle (seen once in 700 tests: a referenced timer after
// test/e2e/web-ui.test.ts had passed) holds the whole suite until CI's limit, reporting nothing.
const ARGS = ['--import', 'tsx', '--test', '--test-force-exit', '--test-reporter=spec'];

/** Runs the files in one test runner; `capture`: its report is returned instead of printed as it comes. */
function run(files, { env = process.env, capture = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...ARGS, ...files], { stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit', env });
    const chunks = [];
    if (capture) {
      child.stdout.on('data', (c) => chunks.push(c));
      child.stderr.on('data', (c) => chunks.push(c));
    }
    child.on('close', (code) => resolve({ code: code ?? 1, report: Buffer.concat(chunks).toString('utf8') }));
  });
}

const given = process.argv.slice(2);
const wholeSuite = given.length === 0 && process.env.TEST_DATABASE_URL && process.env.TEST_STORE !== 'postgres';
if (!wholeSuite) {
  const files = (given.length ? given : ['test']).flatMap((r) => (statSync(r).isDirectory() ? find(r) : [r]));
  if (files.length === 0) {
    console.error('no test files found');
    process.exit(1);
  }
  process.exit((await run(files)).code);
}

// The whole suite with a PostgreSQL to test on (CI): everything on SQLite, and every end-to-end and UI file
// a second time with every stack's server on PostgreSQL (TEST_STORE=postgres); the store's own unit tests
// run on both databases in the first pass (test/store-backends.ts). The two passes run side by side, in two
// lanes: an e2e file mostly waits on simulated calls in real time (two measured at 64 s of CPU in 269 s on
// CI's 2-core machine), so one pass after the other would take twice as long for no more coverage.
// - The files whose tests hold the product to a latency bar of tens of milliseconds, fault-injection (a
//   kill -9 and a locked database mid-call, timed against the server's writes), and the unit, sim and fuzz folders
//   (micro-benchmarks among them), run alone: the other lane finishes its file and waits. In a
//   trial without this, answer-at-once's cascade case (about 370 ms against its 400 ms bar alone) went over
//   the bar while the other lane ran a browser; voicemail-message's message within 300 ms of the beep (about
//   100 ms alone) took 340 ms for the cascade beside the other lane.
// - The PostgreSQL lane starts with the UI files, so the two lanes run the same e2e file minutes apart.
// - The PostgreSQL lane has Redis databases 8-15 (test/redis-backend.ts): neither lane empties the other's
//   keys or shares its rate limits.
// Each file's report is printed whole when it ends, under the lane's name, so the lanes never interleave.
const TIMING_BOUND = new Set(['answer-at-once', 'barge-in', 'barge-in-noise', 'cascade-latency', 'fault-injection', 'voicemail-message'].map((f) => join('test', 'e2e', `${f}.test.ts`)));
const pgRedis = {};
if (process.env.TEST_REDIS_URL) {
  const url = new URL(process.env.TEST_REDIS_URL);
  url.pathname = '/8';
  pgRedis.TEST_REDIS_URL = url.toString();
}
const perFile = (files) => files.map((f) => ({ files: [f], label: f, alone: TIMING_BOUND.has(f) }));
const folder = (dir) => ({ files: find(dir), label: `${dir}/`, alone: true });
const lanes = [
  { name: 'sqlite', env: process.env, jobs: [...perFile(find(join('test', 'e2e'))), folder(join('test', 'fuzz')), folder(join('test', 'sim')), ...perFile(find(join('test', 'ui'))), folder(join('test', 'unit'))] },
  { name: 'postgres', env: { ...process.env, ...pgRedis, TEST_STORE: 'postgres' }, jobs: [...perFile(find(join('test', 'ui'))), ...perFile(find(join('test', 'e2e')))] },
];

const started = Date.now();
const seconds = (since) => ((Date.now() - since) / 1000).toFixed(1);
let aloneHolder; // the lane whose job runs alone, or is waiting for the other lane to finish its file
const busy = new Set();
const tick = () => new Promise((r) => setTimeout(r, 100));
const totals = new Map(); // 'lane tests' -> n
const failed = []; // { name: '[lane] file', why: its report's failing-tests section, printed again at the very end }

/**
 * The spec reporter's "failing tests" section of a file's report, short: CI keeps the tail of the run's
 * output, and a file's report printed whole hours earlier said what failed but not why. Stack frames past
 * the first two of each error, and anything past a few thousand characters, are left out.
 */
function failureSection(report) {
  const at = report.lastIndexOf('✖ failing tests:');
  if (at < 0) return '';
  const lines = [];
  let frames = 0;
  for (const line of report.slice(at).split('\n')) {
    if (/^\s+at /.test(line)) {
      if (++frames > 2) continue;
    } else frames = 0;
    lines.push(line);
  }
  const text = lines.join('\n').trim();
  return text.length > 4000 ? `${text.slice(0, 4000)}\n[... cut; the file's whole report is above]` : text;
}

function count(lane, report) {
  for (const m of report.matchAll(/^ℹ (tests|pass|fail|cancelled|skipped|todo) (\d+)$/gm)) {
    const key = `${lane} ${m[1]}`;
    totals.set(key, (totals.get(key) ?? 0) + Number(m[2]));
  }
}

async function runLane(lane) {
  const other = lanes.find((l) => l !== lane);
  for (const job of lane.jobs) {
    if (job.alone) {
      while (aloneHolder && aloneHolder !== lane) await tick();
      aloneHolder = lane;
      while (busy.has(other)) await tick();
    } else {
      while (aloneHolder && aloneHolder !== lane) await tick();
    }
    busy.add(lane);
    const t0 = Date.now();
    const { code, report } = await run(job.files, { env: lane.env, capture: true });
    busy.delete(lane);
    if (aloneHolder === lane) aloneHolder = undefined;
    count(lane.name, report);
    if (code !== 0) {
      failed.push({ name: `[${lane.name}] ${job.label}`, why: failureSection(report) || `(no failing test reported: exit ${code})` });
    }
    process.stdout.write(`\n# [${lane.name}] ${job.label}${job.alone ? ' (alone)' : ''}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${seconds(t0)} s, ${seconds(started)} s into the run\n${report}`);
  }
}

console.log(`# two lanes side by side: SQLite (the whole suite) and PostgreSQL (TEST_STORE=postgres: the ${lanes[1].jobs.length} UI and end-to-end files); see scripts/run-tests.mjs`);
await Promise.all(lanes.map(runLane));
console.log(`\n# the whole suite, both lanes, in ${seconds(started)} s`);
for (const lane of lanes) {
  const t = (k) => totals.get(`${lane.name} ${k}`) ?? 0;
  console.log(`# [${lane.name}] tests ${t('tests')}, pass ${t('pass')}, fail ${t('fail')}, cancelled ${t('cancelled')}, skipped ${t('skipped')}, todo ${t('todo')}`);
}
if (failed.length) {
  console.log(`\n# why, as each file reported it:\n${failed.map((f) => `# ${f.name}\n${f.why}`).join('\n\n')}`);
  console.log(`\n# failed:\n${failed.map((f) => `#   ${f.name}`).join('\n')}`);
}
process.exit(failed.length ? 1 : 0);
