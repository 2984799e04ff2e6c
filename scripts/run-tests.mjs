// Runs every *.test.ts under test/ (or the paths given) with Node's test runner and tsx.
// Node 20's --test does not expand globs itself, hence this small finder.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
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

// The whole suite with a PostgreSQL to test on (CI): everything on SQLite, and the end-to-end and UI files
// (all but SQLITE_ONLY) a second time with every stack's server on PostgreSQL (TEST_STORE=postgres) and every call's session behind the serialising
// media host (TEST_MEDIA_HOST=checked, src/bridge/host/media-host.ts); the
// store's own unit tests run on both databases in the SQLite pass (test/store-backends.ts). An e2e file mostly waits on simulated
// calls in real time (two measured at 64 s of CPU in 269 s on CI's 2-core machine), so files run two at a
// time, from both passes (runPair), and one pass after the other would take twice as long for no more coverage.
// - First, one at a time with nothing beside them: the files whose tests hold the product to a latency bar
//   of tens of milliseconds, fault-injection (a kill -9 and a locked database mid-call, timed against the
//   server's writes), and the unit, sim and fuzz folders (micro-benchmarks among them). In a trial beside
//   another file, answer-at-once's cascade case (about 370 ms against its 400 ms bar alone) went over the
//   bar while a browser ran; voicemail-message's message within 300 ms of the beep (about 100 ms alone) took
//   340 ms for the cascade. They run before the rest, not among them: one in the middle waits for the other
//   running file to end, which left a slot idle for up to 250 s behind a long file (the two-lane runner
//   this replaced spent about 1,000 s of CI's 4,800 that way).
// - Then the rest, two at a time, never more: the longest first (a long file started last runs on alone at
//   the end), the two passes interleaved. Three at once, even only while the CPUs had room, failed cascade
//   cases on their waits in two of two fresh-clone runs on a 2-core machine; four at once failed six files.
// - Never side by side: the same file in both passes, two browser (test/ui) files, and two files that use
//   Redis in the same pass (some share the pass's first database: node registries, rate limits).
// - The PostgreSQL pass has Redis databases 8-15 (test/redis-backend.ts): neither pass empties the other's
//   keys or shares its rate limits.
// Each file's report is printed whole when it ends, under its pass's name, so reports never interleave; the
// slowest files and each pass's totals come last.
const TIMING_BOUND = new Set(['answer-at-once', 'barge-in', 'barge-in-noise', 'cascade-latency', 'fault-injection', 'voicemail-message'].map((f) => join('test', 'e2e', `${f}.test.ts`)));
/**
 * The files that take a minute or more (real-time hold, menus and calls, per engine), longest first: started
 * first, so that none starts last and runs on alone at the end. Measured in a fresh-clone run of `.ci/run`
 * on a 2-core machine (2026-12-07): phone-menu 252 s down to inbound 57 s; every other file took under 45 s.
 */
const LONG = ['phone-menu', 'call-screening', 'runbook-calls', 'hold', 'demo', 'ask-owner', 'outcome', 'transfer', 'engines', 'full-call', 'dtmf', 'inbound'].map((f) => join('test', 'e2e', `${f}.test.ts`));
/**
 * Files that never reach a store of TEST_STORE's choosing, so the PostgreSQL pass would only run them again:
 * their processes get a clean environment (the CLI's, a server spawned on DATA_DIR alone) or no server at all.
 * The demo does follow TEST_STORE, but it is the newcomer's command on embedded defaults, and its calls (order,
 * menu, hold, per engine) run on PostgreSQL in that pass's full-call, phone-menu, hold and cascade files.
 */
const SQLITE_ONLY = new Set(['cli-models', 'demo', 'gemini-cost-cap', 'models-pull-on-start'].map((f) => join('test', 'e2e', `${f}.test.ts`)));
const pgRedis = {};
if (process.env.TEST_REDIS_URL) {
  const url = new URL(process.env.TEST_REDIS_URL);
  url.pathname = '/8';
  pgRedis.TEST_REDIS_URL = url.toString();
}
const usesRedis = (f) => readFileSync(f, 'utf8').includes('TEST_REDIS_URL');
const perFile = (files) => files.map((f) => ({ files: [f], label: f, alone: TIMING_BOUND.has(f), redis: usesRedis(f), browser: f.startsWith(join('test', 'ui') + sep) }));
const folder = (dir) => ({ files: find(dir), label: `${dir}/`, alone: true, redis: false, browser: false });
const passes = [
  { name: 'sqlite', env: process.env, jobs: [...perFile(find(join('test', 'e2e'))), folder(join('test', 'fuzz')), folder(join('test', 'sim')), ...perFile(find(join('test', 'ui'))), folder(join('test', 'unit'))] },
  { name: 'postgres', env: { ...process.env, ...pgRedis, TEST_STORE: 'postgres', TEST_MEDIA_HOST: 'checked' }, jobs: perFile([...find(join('test', 'ui')), ...find(join('test', 'e2e'))].filter((f) => !SQLITE_ONLY.has(f))) },
];
for (const pass of passes) for (const job of pass.jobs) job.pass = pass;
const alone = passes.flatMap((p) => p.jobs.filter((j) => j.alone));
// The long files first; then the browser files, which run one at a time, so that the other slot takes the
// e2e files beside them (left to the end, they would run one after another with a slot idle); then the rest.
const rank = (job) => (LONG.includes(job.label) ? LONG.indexOf(job.label) : job.browser ? LONG.length : LONG.length + 1);
// The passes interleaved (one file of each in turn), then ranked (a stable sort).
const rest = [];
for (let i = 0; i < Math.max(...passes.map((p) => p.jobs.length)); i++) for (const p of passes) if (p.jobs[i] && !p.jobs[i].alone) rest.push(p.jobs[i]);
rest.sort((a, b) => rank(a) - rank(b));

const started = Date.now();
const seconds = (since) => ((Date.now() - since) / 1000).toFixed(1);
const totals = new Map(); // 'pass tests' -> n
const failed = []; // { name: '[pass] file', why: its report's failing-tests section, printed again at the very end }
const durations = []; // { name: '[pass] file', s }

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

function count(pass, report) {
  for (const m of report.matchAll(/^ℹ (tests|pass|fail|cancelled|skipped|todo) (\d+)$/gm)) {
    const key = `${pass} ${m[1]}`;
    totals.set(key, (totals.get(key) ?? 0) + Number(m[2]));
  }
}

async function runJob(job) {
  const t0 = Date.now();
  const { code, report } = await run(job.files, { env: job.pass.env, capture: true });
  const took = (Date.now() - t0) / 1000;
  const name = `[${job.pass.name}] ${job.label}`;
  durations.push({ name, s: took });
  count(job.pass.name, report);
  if (code !== 0) failed.push({ name, why: failureSection(report) || `(no failing test reported: exit ${code})` });
  process.stdout.write(`\n# ${name}${job.alone ? ' (alone)' : ''}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${took.toFixed(1)} s, ${seconds(started)} s into the run\n${report}`);
}

/** Runs the jobs two at a time, each the first in the queue that nothing running rules out. */
async function runPair(jobs) {
  const waiting = [...jobs];
  const running = new Set();
  const clash = (job) =>
    [...running].some((r) => r.label === job.label || (job.browser && r.browser) || (job.redis && r.redis && r.pass === job.pass));
  await new Promise((resolve) => {
    const next = () => {
      while (running.size < 2) {
        const i = waiting.findIndex((j) => !clash(j));
        if (i < 0) break;
        const [job] = waiting.splice(i, 1);
        running.add(job);
        void runJob(job).finally(() => {
          running.delete(job);
          next();
        });
      }
      if (running.size === 0 && waiting.length === 0) resolve();
    };
    next();
  });
}

console.log(`# the whole suite: SQLite (every file) and PostgreSQL (TEST_STORE=postgres, TEST_MEDIA_HOST=checked: the ${passes[1].jobs.length} UI and end-to-end files); ${alone.length} jobs alone, then ${rest.length} two at a time; see scripts/run-tests.mjs`);
for (const job of alone) await runJob(job);
await runPair(rest);
console.log(`\n# the whole suite in ${seconds(started)} s; the slowest files:`);
for (const d of durations.sort((a, b) => b.s - a.s).slice(0, 15)) console.log(`#   ${d.s.toFixed(1).padStart(6)} s  ${d.name}`);
for (const pass of passes) {
  const t = (k) => totals.get(`${pass.name} ${k}`) ?? 0;
  console.log(`# [${pass.name}] tests ${t('tests')}, pass ${t('pass')}, fail ${t('fail')}, cancelled ${t('cancelled')}, skipped ${t('skipped')}, todo ${t('todo')}`);
}
if (failed.length) {
  console.log(`\n# why, as each file reported it:\n${failed.map((f) => `# ${f.name}\n${f.why}`).join('\n\n')}`);
  console.log(`\n# failed:\n${failed.map((f) => `#   ${f.name}`).join('\n')}`);
}
process.exit(failed.length ? 1 : 0);
