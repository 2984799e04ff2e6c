/**
 * The bridge bench's command line (from bench/run.ts):
 *   npm run bench -- --only bridge --calls 200 --seconds 60 --churn --baseline
 *   npm run bench -- --only bridge --calls 20 --seconds 20 --churn --call-seconds 5-15 --baseline
 *   npm run bench -- --only bridge --find-max --seconds 20 --churn [--baseline]   (largest N with p99 under 20 ms;
 *   with --baseline the pass-through bridge is searched the same way after it, and the ratio printed)
 * --ramp R: calls placed (and at the end hung up) per second, default 20. --json FILE: every figure.
 * --line-noise DBFS: the callee's line carries steady noise at that level (e.g. -43) instead of silence,
 *   so caller frames pass Silero's fixed pre-gate floor and cross to the VAD worker until the pre-gate has
 *   learnt the line's noise (line-noise.ts says which levels).
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { runBridgeTarget, type BridgeOptions, type Target, type TargetResult } from './bridge-bench.js';
import { describeFindMax, findLargest, type FindMaxResult } from './find-max.js';
import { printComparison, printTarget, verdict } from './report.js';
import { HOLD_MUSIC_FLOOR_DBFS, LineNoise } from './line-noise.js';
import { VAD_FLOOR_DBFS_DEFAULT } from '../../src/media/silero-vad.js';

export interface BridgeCli {
  calls?: string;
  seconds?: string;
  churn?: boolean;
  'call-seconds'?: string;
  baseline?: boolean;
  'find-max'?: boolean;
  ramp?: string;
  json?: string;
  'log-level'?: string;
  'line-noise'?: string;
}

/** The issue's bar for the largest N: p99 added latency under this, each way, and nothing lost. */
const FIND_MAX_P99_MS = 20;
const P99_BAR_MS = 5;

function options(v: BridgeCli): BridgeOptions {
  const range = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(v['call-seconds'] ?? '30-120');
  if (!range || Number(range[1]) <= 0 || Number(range[2]) < Number(range[1])) throw new Error('--call-seconds must be MIN-MAX seconds, e.g. 30-120');
  const o: BridgeOptions = {
    calls: Number(v.calls ?? '200'),
    seconds: Number(v.seconds ?? '60'),
    rampPerSecond: Number(v.ramp ?? '20'),
    churn: v.churn ? { minS: Number(range[1]), maxS: Number(range[2]) } : undefined,
    seed: 18,
    logLevel: v['log-level'],
    lineNoiseDbfs: v['line-noise'] === undefined ? undefined : Number(v['line-noise']),
    log: (l) => console.log(`  [${new Date().toISOString().slice(11, 19)}] ${l}`),
  };
  if (!(o.calls >= 1) || !(o.seconds > 0) || !(o.rampPerSecond > 0)) throw new Error('--calls, --seconds and --ramp must be positive numbers');
  return o;
}

/** Which caller audio the load plays, and what the bridge's barge-in VAD makes of it, for the run's header. */
function callerAudio(o: BridgeOptions): string {
  // The bridge inherits this process's environment (bridge-bench.ts): BARGE_IN_VAD=energy there runs no Silero.
  const vad = process.env.BARGE_IN_VAD ?? 'silero';
  const floor = Number(process.env.BARGE_IN_VAD_FLOOR_DBFS ?? VAD_FLOOR_DBFS_DEFAULT);
  const setting = `bridge's BARGE_IN_VAD=${vad}${process.env.BARGE_IN_VAD ? ' (from the environment)' : ' (the default)'}`;
  if (o.lineNoiseDbfs === undefined) return `caller audio: exact silence around the timestamp tag (at most -48 dBFS peak); ${setting}${vad === 'silero' ? `: every caller frame is under Silero's pre-gate (${floor} dBFS) and none crosses to the VAD worker` : ''}`;
  // Built here too so a bad level fails before any process starts.
  const noise = new LineNoise(o.lineNoiseDbfs, o.seed);
  const crosses =
    vad === 'silero'
      ? o.lineNoiseDbfs >= floor
        ? `: above Silero's fixed pre-gate floor (${floor} dBFS), so caller frames cross to the VAD worker until the pre-gate has learnt the line's noise (about 2 s into each call; src/media/silero-pre-gate.ts), then stay on the main thread`
        : `: under Silero's pre-gate (${floor} dBFS), so no caller frame crosses to the VAD worker`
      : '';
  const hold = o.lineNoiseDbfs >= HOLD_MUSIC_FLOOR_DBFS - 0.5 ? `. WARNING: at or near the hold detector's floor (${HOLD_MUSIC_FLOOR_DBFS.toFixed(1)} dBFS) steady noise is hold music to the product: after 3 s each call goes on hold (a clear, and caller audio no longer reaches the model), so this run measures calls on hold; -43 keeps the conversation` : '';
  return `caller audio: ${noise.describe()}; ${setting}${crosses}${hold}`;
}

const passes = (r: TargetResult, barMs: number) =>
  Math.max(r.inbound.all.p99, r.outbound.all.p99) < barMs &&
  r.inbound.lost + r.outbound.lost + r.inbound.callsWithoutAudio + r.outbound.callsWithoutAudio + r.callsWithoutSession === 0;

/** find-max for one target: each step a bench run at its N, rerun once if other processes disturbed it. */
async function findMax(target: Target, o: BridgeOptions): Promise<FindMaxResult> {
  return findLargest(o.calls, async (calls) => {
    let r = await runBridgeTarget(target, { ...o, calls });
    if (r.machine.disturbed) r = await runBridgeTarget(target, { ...o, calls });
    const step = { calls, pass: passes(r, FIND_MAX_P99_MS), p99: Math.max(r.inbound.all.p99, r.outbound.all.p99), disturbed: r.machine.disturbed };
    console.log(`  ${target} N=${calls}: p99 ${step.p99.toFixed(2)} ms, ${step.pass ? 'under' : 'NOT under'} ${FIND_MAX_P99_MS} ms${step.disturbed ? ' (disturbed)' : ''}${r.machine.saturatedShare > 0 ? `, the bench saturated the machine in ${(r.machine.saturatedShare * 100).toFixed(0)}% of the seconds` : ''}`);
    return step;
  });
}

export async function runBridgeCli(v: BridgeCli): Promise<boolean> {
  const o = options(v);
  console.log(`\nBridge as an operator runs it: separate processes for the bridge, the Twilio load and the OpenAI model, ${cpus().length} cores`);
  if (cpus().length <= 2) console.log('  (a 2-core machine: the bridge, the load and the model share it, so absolute figures are this machine\'s; compare ratios)');
  console.log(`  ${callerAudio(o)}`);
  if (v['find-max']) {
    const from = { ...o, calls: v.calls ? o.calls : 50 };
    const product = await findMax('product', from);
    // The baseline is searched after the product, on the same machine in the same run: its largest N is
    // what this machine and harness allow a bridge that does nothing, so the ratio is the comparable figure.
    const baseline = v.baseline ? await findMax('baseline', from) : undefined;
    console.log(`\n${describeFindMax('Callwright', product, FIND_MAX_P99_MS)}`);
    if (baseline) {
      console.log(describeFindMax('pass-through baseline', baseline, FIND_MAX_P99_MS));
      console.log(`ratio: ${baseline.largest > 0 ? (product.largest / baseline.largest).toFixed(2) : 'n/a'}x the baseline's largest N`);
    }
    if ([product, baseline].some((r) => r?.steps.some((s) => s.disturbed))) console.log('  (some steps disturbed even when rerun: see above)');
    if (v.json) writeFileSync(v.json, JSON.stringify({ product, baseline }, null, 2));
    return true;
  }
  const product = await runBridgeTarget('product', o);
  printTarget(product);
  let baseline: TargetResult | undefined;
  if (v.baseline) {
    baseline = await runBridgeTarget('baseline', o);
    printTarget(baseline);
    printComparison(product, baseline);
  }
  const bars = verdict(product, baseline, P99_BAR_MS);
  console.log(`\nBars (${o.calls} calls${o.churn ? ' with churn' : ''}):`);
  for (const l of bars.lines) console.log(`  ${l}`);
  if (v.json) writeFileSync(v.json, JSON.stringify({ options: { ...o, log: undefined }, callerAudio: callerAudio(o), product, baseline }, (_k, x) => (x instanceof Map ? undefined : x), 2));
  return bars.pass;
}
