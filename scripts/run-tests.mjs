// Runs every *.test.ts under test/ (or the paths given) with Node's test runner and tsx.
// Node 20's --test does not expand globs itself, hence this small finder.
import { readFileSync, readdirSync, statSync } from 'node:fs';
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
// run on both databases in the SQLite pass (test/store-backends.ts). An e2e file mostly waits on simulated
// calls in real time (two measured at 64 s of CPU in 269 s on CI's 2-core machine: a quarter of a core), so
// files run side by side from both passes: two at once, and up to TEST_SLOTS (default 3) while the CPUs
// have room (runPool).
// - First, one at a time with nothing beside them: the files whose tests hold the product to a latency bar
//   of tens of milliseconds, fault-injection (a kill -9 and a locked database mid-call, timed against the
//   server's writes), and the unit, sim and fuzz folders (micro-benchmarks among them). In a trial beside
//   another file, answer-at-once's cascade case (about 370 ms against its 400 ms bar alone) went over the
//   bar while a browser ran; voicemail-message's message within 300 ms of the beep (about 100 ms alone) took
//   340 ms for the cascade. They run before the rest, not among them: one in the middle would wait for every
//   running file to end, leaving slots idle behind the longest.
// - Then the rest, the longest known first (a long file started last would run on alone at the end), the
//   two passes interleaved. The same file never runs in both passes at once, and the files that use Redis
//   run one at a time within a pass (some share the pass's first database: node registries, rate limits).
// - The PostgreSQL pass has Redis databases 8-15 (test/redis-backend.ts): neither pass empties the other's
//   keys or shares its rate limits.
// Each file's report is printed whole when it ends, under its pass's name, so reports never interleave; the
// slowest files and each pass's totals come last.
const TIMING_BOUND = new Set(['answer-at-once', 'barge-in', 'barge-in-noise', 'cascade-latency', 'fault-injection', 'voicemail-message'].map((f) => join('test', 'e2e', `${f}.test.ts`)));
/** Files measured at minutes each (real-time hold and phone-menu scripts, per engine): started first. */
const LONG = ['hold', 'phone-menu'].map((f) => join('test', 'e2e', `${f}.test.ts`));
const SLOTS = Math.max(1, Number(process.env.TEST_SLOTS) || 3);
const pgRedis = {};
if (process.env.TEST_REDIS_URL) {
  const url = new URL(process.env.TEST_REDIS_URL);
  url.pathname = '/8';
  pgRedis.TEST_REDIS_URL = url.toString();
}
const usesRedis = (f) => readFileSync(f, 'utf8').includes('TEST_REDIS_URL');
const perFile = (files) => files.map((f) => ({ files: [f], label: f, alone: TIMING_BOUND.has(f), redis: usesRedis(f) }));
const folder = (dir) => ({ files: find(dir), label: `${dir}/`, alone: true, redis: false });
const lanes = [
  { name: 'sqlite', env: process.env, jobs: [...perFile(find(join('test', 'e2e'))), folder(join('test', 'fuzz')), folder(join('test', 'sim')), ...perFile(find(join('test', 'ui'))), folder(join('test', 'unit'))] },
  { name: 'postgres', env: { ...process.env, ...pgRedis, TEST_STORE: 'postgres' }, jobs: [...perFile(find(join('test', 'ui'))), ...perFile(find(join('test', 'e2e')))] },
];
for (const lane of lanes) for (const job of lane.jobs) job.lane = lane;
const longRank = (job) => {
  const i = LONG.indexOf(job.label);
  return i < 0 ? LONG.length : i;
};
const alone = lanes.flatMap((l) => l.jobs.filter((j) => j.alone));
// The passes interleaved (one file of each in turn), then the long ones moved to the front (a stable sort).
const rest = [];
for (let i = 0; i < Math.max(...lanes.map((l) => l.jobs.length)); i++) for (const l of lanes) if (l.jobs[i] && !l.jobs[i].alone) rest.push(l.jobs[i]);
rest.sort((a, b) => longRank(a) - longRank(b));

const started = Date.now();
const seconds = (since) => ((Date.now() - since) / 1000).toFixed(1);
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

const durations = []; // { name, s }

async function runJob(job) {
  const t0 = Date.now();
  const { code, report } = await run(job.files, { env: job.lane.env, capture: true });
  const took = (Date.now() - t0) / 1000;
  durations.push({ name: `[${job.lane.name}] ${job.label}`, s: took });
  count(job.lane.name, report);
  if (code !== 0) {
    failed.push({ name: `[${job.lane.name}] ${job.label}`, why: failureSection(report) || `(no failing test reported: exit ${code})` });
  }
  process.stdout.write(`\n# [${job.lane.name}] ${job.label}${job.alone ? ' (alone)' : ''}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${took.toFixed(1)} s, ${seconds(started)} s into the run\n${report}`);
}

/**
 * How busy the machine's CPUs were over the last few seconds (0-1), from /proc/stat; undefined where there
 * is no /proc/stat, or before two readings.
 */
function cpuMeter(windowMs = 3000, everyMs = 500) {
  const readings = [];
  const read = () => {
    try {
      const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
      return { idle: f[3] + (f[4] || 0), total: f.reduce((a, b) => a + b, 0) };
    } catch {
      return undefined;
    }
  };
  const timer = setInterval(() => {
    const r = read();
    if (!r) return;
    readings.push(r);
    if (readings.length > windowMs / everyMs + 1) readings.shift();
  }, everyMs);
  return {
    busy() {
      if (readings.length < 2) return undefined;
      const a = readings[0];
      const b = readings[readings.length - 1];
      return b.total > a.total ? 1 - (b.idle - a.idle) / (b.total - a.total) : undefined;
    },
    stop: () => clearInterval(timer),
  };
}

/**
 * Runs the jobs, each as soon as nothing running conflicts with it: two at a time, and up to SLOTS when the
 * machine has room. With four at once on CI's 2-core machine the load average reached 7 and six files
 * failed on time (a call not ended in 30 s, an SMS not sent in 15 s, frames lost under a flood); so a job
 * past the second starts only while the CPUs were at most CPU_ROOM busy over the last 3 s, and at least
 * 5 s after the last start (a file's own start-up is seen before another is let in).
 */
const CPU_ROOM = 0.5;
async function runPool(jobs) {
  const waiting = [...jobs];
  const running = new Set();
  const meter = cpuMeter();
  let lastStart = 0;
  const conflicts = (job) =>
    [...running].some((r) => r.label === job.label || (job.redis && r.redis && r.lane === job.lane));
  const room = () => {
    if (running.size >= SLOTS) return false;
    if (running.size < 2) return true;
    if (Date.now() - lastStart < 5000) return false;
    const busy = meter.busy();
    return busy !== undefined && busy <= CPU_ROOM;
  };
  await new Promise((resolve) => {
    const next = () => {
      while (room()) {
        const i = waiting.findIndex((j) => !conflicts(j));
        if (i < 0) break;
        const [job] = waiting.splice(i, 1);
        running.add(job);
        lastStart = Date.now();
        void runJob(job).finally(() => {
          running.delete(job);
          next();
        });
      }
      if (running.size === 0 && waiting.length === 0) {
        clearInterval(poll);
        resolve();
      }
    };
    const poll = setInterval(next, 500);
    next();
  });
  meter.stop();
}

console.log(`# the whole suite: SQLite (every file) and PostgreSQL (TEST_STORE=postgres: the ${lanes[1].jobs.length} UI and end-to-end files); ${alone.length} jobs alone, then ${rest.length} jobs two at a time, up to ${SLOTS} while the CPUs have room; see scripts/run-tests.mjs`);
for (const job of alone) await runJob(job);
await runPool(rest);
console.log(`\n# the whole suite in ${seconds(started)} s; the slowest files:`);
for (const d of durations.sort((a, b) => b.s - a.s).slice(0, 15)) console.log(`#   ${d.s.toFixed(1).padStart(6)} s  ${d.name}`);
for (const lane of lanes) {
  const t = (k) => totals.get(`${lane.name} ${k}`) ?? 0;
  console.log(`# [${lane.name}] tests ${t('tests')}, pass ${t('pass')}, fail ${t('fail')}, cancelled ${t('cancelled')}, skipped ${t('skipped')}, todo ${t('todo')}`);
}
if (failed.length) {
  console.log(`\n# why, as each file reported it:\n${failed.map((f) => `# ${f.name}\n${f.why}`).join('\n\n')}`);
  console.log(`\n# failed:\n${failed.map((f) => `#   ${f.name}`).join('\n')}`);
}
process.exit(failed.length ? 1 : 0);
