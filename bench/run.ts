/**
 * `npm run bench`: every benchmark, with its defaults. Parts and sizes can be chosen:
 *   npm run bench -- --only calls --calls 200 --seconds 15
 *   npm run bench -- --only gemini --calls 150
 *   npm run bench -- --only audio
 *   npm run bench -- --only soak --calls 200 --minutes 5     (not part of a plain `npm run bench`)
 *   npm run bench -- --only retrieval
 *   npm run bench -- --only store --calls 50 --seconds 20   (calls + API + search + a locked database; not part of a plain run)
 *   npm run bench -- --only answer --calls 20     (end of "Hello?" to first agent audio, both engines)
 *   npm run bench -- --only voicemail --calls 12  (end of the beep to the message, both engines)
 *   npm run bench -- --only hold --seconds 60     (AI cost of a hold minute vs a talking minute, both engines; not part of a plain run)
 *   npm run bench -- --only bargein               (noise, backchannels, speech over the agent, both engines; VAD cost)
 *   npm run bench -- --only bargein --vad energy  (the same calls with the energy VAD, for comparison)
 *   npm run bench -- --only bridge --calls 200 --seconds 60 --churn --baseline   (as an operator runs it: separate
 *     processes, REST path, calls starting and ending, vs a minimal pass-through bridge; not part of a plain run;
 *     see bench/bridge/main.ts and docs/benchmarks.md)
 *   npm run bench -- --only cluster --calls 100 --seconds 10   (one node vs two behind HAProxy on one PostgreSQL +
 *     Redis, started privately; calls placed per second and calls held; not part of a plain run; bench/cluster/)
 *   npm run bench -- --only cascade --calls 4 --turns 5 [--json FILE]   (per-turn latency breakdown of the cascade
 *     engine with simulated stages of known delay; own added latency p95 under 50 ms; see bench/cascade/)
 */
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { printConcurrent, runConcurrentCalls } from './concurrent-calls.js';
import { runAudioBench } from './audio.js';
import { printSoak, runSoak } from './soak.js';
import { printRetrieval, runRetrievalBench } from './retrieval.js';
import { printStoreContention, runStoreContention } from './store-contention.js';
import { printAnswer, runAnswerBench } from './answer-at-once.js';
import { printVoicemail, runVoicemailBench } from './voicemail.js';
import { printHold, runHoldBench } from './hold.js';
import { printBargeIn, runBargeInBench, runVadCost } from './barge-in.js';
import { runBridgeCli } from './bridge/main.js';
import { printCascade, runCascadeBench } from './cascade/cascade-bench.js';
import { printCluster, runClusterBench } from './cluster/cluster-bench.js';

// parseArgs refuses an option value that starts with '-' as ambiguous: a negative number after an
// option that takes one (`--line-noise -35`) is that option's value.
const argv = process.argv.slice(2);
const args: string[] = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--line-noise' && /^-\d/.test(argv[i + 1] ?? '')) args.push(`--line-noise=${argv[++i]}`);
  else args.push(argv[i]);
}
const { values } = parseArgs({
  args,
  options: {
    only: { type: 'string' },
    calls: { type: 'string' },
    seconds: { type: 'string' },
    minutes: { type: 'string', default: '5' },
    vad: { type: 'string', default: 'silero' },
    // --only bridge
    churn: { type: 'boolean' },
    'call-seconds': { type: 'string' },
    baseline: { type: 'boolean' },
    'find-max': { type: 'boolean' },
    ramp: { type: 'string' },
    json: { type: 'string' },
    'log-level': { type: 'string' },
    'line-noise': { type: 'string' },
    // --only cascade
    turns: { type: 'string' },
  },
});
const only = values.only;
if (only && !['calls', 'gemini', 'audio', 'retrieval', 'answer', 'voicemail', 'soak', 'store', 'hold', 'bargein', 'bridge', 'cascade', 'cluster'].includes(only)) {
  console.error('usage: npm run bench [-- --only calls|gemini|audio|retrieval|answer|voicemail|soak|store|hold|bargein|bridge|cascade|cluster] [--calls N] [--seconds S] [--minutes M (soak)] [--vad silero|energy (bargein)] [--churn --call-seconds MIN-MAX --baseline --find-max --ramp R --json FILE --line-noise DBFS (bridge)] [--turns T --json FILE (cascade)]');
  process.exit(2);
}
// Seconds per call: 10 for the load benchmarks, 60 on hold (and talking) for the hold cost.
const seconds = Number(values.seconds ?? (only === 'hold' ? '60' : '10'));
const callsFor = (dflt: number) => (values.calls ? Number(values.calls) : dflt);
if (!(seconds > 0) || (values.calls && !(Number(values.calls) >= 1))) {
  console.error('--calls and --seconds must be positive numbers');
  process.exit(2);
}
console.log(`Callwright benchmarks, node ${process.version}, ${cpus().length} cores`);
if (only === 'bridge') {
  try {
    if (!(await runBridgeCli(values))) process.exitCode = 1;
  } catch (err) {
    console.error(String(err));
    process.exitCode = 1;
  }
}
if (!only || only === 'calls') printConcurrent(await runConcurrentCalls({ calls: callsFor(100), seconds, engine: 'openai' }));
if (!only || only === 'gemini') printConcurrent(await runConcurrentCalls({ calls: callsFor(100), seconds, engine: 'gemini' }));
if (!only || only === 'audio') await runAudioBench();
if (!only || only === 'retrieval') if (!printRetrieval(await runRetrievalBench())) process.exitCode = 1;
if (only === 'store') if (!printStoreContention(await runStoreContention({ calls: callsFor(50), seconds }))) process.exitCode = 1;
if (!only || only === 'answer') {
  for (const engine of ['openai', 'gemini'] as const) if (!printAnswer(await runAnswerBench({ calls: callsFor(21), engine }))) process.exitCode = 1;
}
if (!only || only === 'voicemail') {
  for (const engine of ['openai', 'gemini'] as const) if (!printVoicemail(await runVoicemailBench({ calls: callsFor(12), engine }))) process.exitCode = 1;
}
if (only === 'hold') if (!printHold(await runHoldBench({ seconds, engines: ['openai', 'gemini'] }))) process.exitCode = 1;
if (!only || only === 'bargein') {
  const vad = values.vad === 'energy' ? 'energy' : 'silero';
  for (const engine of ['openai', 'gemini'] as const) if (!printBargeIn(await runBargeInBench({ engine, vad }))) process.exitCode = 1;
  runVadCost();
}
if (only === 'soak') {
  const minutes = Number(values.minutes);
  if (!(minutes > 0)) {
    console.error('--minutes must be a positive number');
    process.exit(2);
  }
  const r = await runSoak({ calls: callsFor(200), minutes });
  printSoak(r);
  const pass = r.wrongEnd.length === 0 && r.framesLost === 0 && r.eventsLost === 0 && r.eventProblems.length === 0 && r.recordingsMissing === 0 && r.memory.rssGrowthPct < 10 && r.memory.heapGrowthPct < 10;
  process.exitCode = pass ? 0 : 1;
}
if (only === 'cluster') if (!printCluster(await runClusterBench({ calls: callsFor(100), seconds, log: (l) => console.log(`  ${l}`) }))) process.exitCode = 1;
if (!only || only === 'cascade') {
  const turns = Number(values.turns ?? '5');
  if (!(turns >= 1)) {
    console.error('--turns must be a positive number');
    process.exit(2);
  }
  // Known stage delays, typical of a local set (faster-whisper small on a GPU, an 8B model's prompt, Kokoro).
  const delays = { sttMs: 150, llmFirstTokenMs: 300, ttsFirstAudioMs: 120 };
  const r = await runCascadeBench({ calls: callsFor(4), turns, delays, silenceMs: 500, log: (l) => console.log(`  ${l}`) });
  if (!printCascade(r, only === 'cascade' ? values.json : undefined)) process.exitCode = 1;
}
