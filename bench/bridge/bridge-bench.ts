/**
 * `npm run bench -- --only bridge`: the bridge measured as an operator runs it. Four processes: the bridge
 * under test (the compiled server started as `npm start` starts it, or the pass-through baseline), the
 * load (Twilio, carrier-load.ts), the model (OpenAI Realtime, model-sim.ts), and this one, which only
 * starts them, samples /proc once a second and joins the figures (analyze.ts). docs/benchmarks.md says
 * how and why.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/sim/stack.js';
import { startArgs } from '../../test/sim/server-process.js';
import { processCpuMs } from '../stats.js';
import type { LoopHealth } from '../loop-health.js';
import { cpuPerCallSecond, direction, dist, type Dist, loopByPhase, Phases, HANGUP_GRACE_MS, type DirectionFigures, type LoopFigures, type Phase } from './analyze.js';
import type { LoadPlan, LoadResult } from './carrier-load.js';
import { judgeMachine, MachineMonitor, type MachineVerdict } from './machine.js';
import { CAPS_LIFTED } from '../caps-lifted.js';
import type { ModelResult } from './model-sim.js';

const ACCOUNT_SID = 'AC' + 'b3'.repeat(16);
const AUTH_TOKEN = 'bench-bridge-auth-token-0123456789';
const API_TOKEN = 'bench-bridge-api-token-0123456789';
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const PROBE = here('./server-probe.mjs');
const HEAP_PROBE = here('./heap-probe.mjs');

export type Target = 'product' | 'baseline';

export interface BridgeOptions {
  calls: number;
  seconds: number;
  churn?: { minS: number; maxS: number };
  rampPerSecond: number;
  seed: number;
  /** The product's LOG_LEVEL (default: the product's own default, as an operator runs it). */
  logLevel?: string;
  /** The callee's line: steady noise at this level (dBFS) around each caller frame's tag (line-noise.ts); none: silence. */
  lineNoiseDbfs?: number;
  log?: (line: string) => void;
}

export interface TargetResult {
  target: Target;
  calls: number;
  callsPlaced: number;
  callErrors: string[];
  callsEndedByBridge: number;
  /** Calls up for over 10 s whose model session was never configured. */
  callsWithoutSession: number;
  /** The first warnings and errors in the bridge's own log. */
  bridgeLogProblems: string[];
  clears: number;
  cancels: number;
  runSeconds: number;
  /** How much of the run each phase took. */
  phaseSeconds: Record<Phase, number>;
  /** Per call: POST /api/calls to the model session configured, and to the first agent frame at the callee; hang-up to everything closed. */
  setupToModelMs: Dist;
  setupMs: Dist;
  teardownMs: Dist;
  inbound: DirectionFigures;
  outbound: DirectionFigures;
  duplicates: number;
  bridgeCpu: { avgCores: number; peakCores: number; msPerCallSecond: number; steadyMsPerCallSecond: number; callSeconds: number };
  bridgeLoop: Record<Phase | 'all', LoopFigures>;
  /** The load and model processes' own event-loop delay: the measurement's noise floor. */
  harnessLoopP99Ms: { load: number; model: number };
  harnessCpuAvgCores: { load: number; model: number; bench: number };
  machine: MachineVerdict & { cores: number };
  /** Caller frames the load sent, and what the bridge posted to its VAD worker (server-probe.mjs): none for the baseline. */
  callerFramesSent: number;
  vadWorker?: VadTraffic;
}

/** What the bridge's main thread posted to the VAD worker over the run (server-probe.mjs counts it). */
export interface VadTraffic {
  batches: number;
  /** Caller frames that passed the energy pre-gate and crossed to Silero. */
  frames: number;
  restarts: number;
  opens: number;
  closes: number;
  /** The worker thread's CPU from its first batch on. */
  workerCpuMs: number;
}

type Child = ChildProcess & { ready: Promise<{ url: string }> };

function forkTs(file: string, env: Record<string, string>): Child {
  const child = fork(here(file), [], { execArgv: ['--import', 'tsx', '--import', PROBE], env: { ...process.env, ...env }, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }) as Child;
  child.ready = new Promise((resolve, reject) => {
    child.once('message', (m: { type: string; url: string }) => (m.type === 'ready' ? resolve(m) : reject(new Error(`${file}: ${JSON.stringify(m)}`))));
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
  return child;
}

function ask<T>(child: ChildProcess, msg: object, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (m: { type: string; result?: T; error?: string }) => {
      if (m.type === type) (child.off('message', on), resolve(m.result as T));
      else if (m.type === 'failed') (child.off('message', on), reject(new Error(m.error)));
    };
    child.on('message', on);
    child.send(msg);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitHealthy(base: string, child: ChildProcess, logFile: string): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the bridge exited with ${child.exitCode}: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > until) throw new Error(`the bridge did not answer /healthz within 60 s: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    await sleep(100);
  }
}

/** Where the heap probe writes the bridge's allocation profile, with BENCH_HEAP_PROF=DIR. */
const heapProfileFile = (target: Target) => (process.env.BENCH_HEAP_PROF ? join(process.env.BENCH_HEAP_PROF, `${target}.heapprofile`) : undefined);

/** The bridge under test in its own process, its output to a file (a pipe could stall it on a busy bench). */
function startBridge(target: Target, o: BridgeOptions, urls: { carrier: string; model: string }, port: number, dataDir: string, probeFile: string): ChildProcess {
  const args = startArgs();
  const entry = args.find((a) => a.endsWith('.js'))!;
  const flags = args.filter((a) => a !== entry);
  const out = openSync(join(dataDir, 'bridge.log'), 'a');
  const base = `http://127.0.0.1:${port}`;
  const heap = heapProfileFile(target);
  const common = { BENCH_PROBE_FILE: probeFile, PORT: String(port), ...(heap ? { BENCH_HEAP_PROF_FILE: heap } : {}) };
  // BENCH_NODE_FLAGS="--trace-gc ...": more Node flags for the bridge (its output is bridge.log; BENCH_KEEP_DIR keeps it).
  if (process.env.BENCH_NODE_FLAGS) flags.push(...process.env.BENCH_NODE_FLAGS.split(/\s+/).filter(Boolean));
  // BENCH_HEAP_PROF=DIR: what the bridge allocates from the first call placed on (heap-probe.mjs, heap-summary.ts).
  if (heap) flags.push('--import', HEAP_PROBE);
  // BENCH_CPU_PROF=DIR: a V8 CPU profile of the bridge (written when it exits on SIGTERM), for
  // attributing main-thread time to call start and end (bench/bridge/profile-summary.ts reads it).
  if (process.env.BENCH_CPU_PROF) flags.push('--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`, `--cpu-prof-name=${target}.cpuprofile`, '--cpu-prof-interval=100');
  const child =
    target === 'product'
      ? spawn(process.execPath, [...flags, '--import', PROBE, entry], {
          stdio: ['ignore', out, out],
          env: {
            ...process.env,
            ...common,
            PUBLIC_URL: base,
            DATA_DIR: dataDir,
            API_TOKEN,
            TWILIO_ACCOUNT_SID: ACCOUNT_SID,
            TWILIO_AUTH_TOKEN: AUTH_TOKEN,
            TWILIO_FROM_NUMBER: '+14155550100',
            TWILIO_API_URL: urls.carrier,
            OPENAI_API_KEY: 'sk-bench',
            OPENAI_REALTIME_URL: urls.model,
            AI_PROVIDER: 'openai',
            // The carrier's side of recordings (MP3s to download) is not played by the load process.
            RECORD_CALLS: 'false',
            ...(o.logLevel ? { LOG_LEVEL: o.logLevel } : {}),
            MAX_CALL_SECONDS: '14400',
            ...CAPS_LIFTED,
          },
        })
      : spawn(process.execPath, [...flags, '--import', 'tsx', '--import', PROBE, here('./passthrough-bridge.ts')], {
          stdio: ['ignore', out, out],
          env: { ...process.env, ...common, CARRIER_URL: urls.carrier, MODEL_URL: urls.model, ACCOUNT_SID, AUTH_TOKEN, API_TOKEN },
        });
  closeSync(out);
  return child;
}

function problems(logFile: string): string[] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, 'utf8').split('\n').filter((l) => /"level":(40|50|60)/.test(l) || /^(Error|TypeError)/.test(l)).slice(0, 5).map((l) => l.slice(0, 300));
}

/** The probe's totals at its last line (they only grow), less those at its last line before the run. */
function vadTraffic(lines: Array<{ atUs: number; vad?: VadTraffic }>, fromUs: number): VadTraffic | undefined {
  const last = lines.at(-1)?.vad;
  if (!last) return undefined;
  const before = lines.filter((l) => l.atUs <= fromUs).at(-1)?.vad;
  const keys = ['batches', 'frames', 'restarts', 'opens', 'closes', 'workerCpuMs'] as const;
  return Object.fromEntries(keys.map((k) => [k, last[k] - (before?.[k] ?? 0)])) as unknown as VadTraffic;
}

function readProbe(file: string): Array<LoopHealth & { atUs: number; vad?: VadTraffic }> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

export async function runBridgeTarget(target: Target, o: BridgeOptions): Promise<TargetResult> {
  const log = o.log ?? (() => undefined);
  const dataDir = mkdtempSync(join(tmpdir(), `callwright-bridge-${target}-`));
  const probe = (name: string) => join(dataDir, `probe-${name}.jsonl`);
  const model = forkTs('./model-sim.ts', { BENCH_PROBE_FILE: probe('model') });
  const load = forkTs('./carrier-load.ts', { BENCH_PROBE_FILE: probe('load'), BENCH_ACCOUNT_SID: ACCOUNT_SID, BENCH_AUTH_TOKEN: AUTH_TOKEN });
  let bridge: ChildProcess | undefined;
  try {
    const [{ url: modelUrl }, { url: carrierUrl }] = await Promise.all([model.ready, load.ready]);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    bridge = startBridge(target, o, { carrier: carrierUrl, model: modelUrl }, port, dataDir, probe('bridge'));
    await waitHealthy(base, bridge, join(dataDir, 'bridge.log'));
    await sleep(500);
    log(`${target}: ${o.calls} calls${o.churn ? `, churn ${o.churn.minS}-${o.churn.maxS} s` : ''}, ${o.seconds} s steady (pids: bridge ${bridge.pid}, load ${load.pid}, model ${model.pid})`);
    const machine = new MachineMonitor({ bridge: bridge.pid!, load: load.pid!, model: model.pid!, bench: process.pid });
    const cpu0 = processCpuMs(bridge.pid!);
    machine.start();
    const plan: LoadPlan = { base, apiToken: API_TOKEN, calls: o.calls, seconds: o.seconds, rampPerSecond: o.rampPerSecond, churn: o.churn, seed: o.seed, lineNoiseDbfs: o.lineNoiseDbfs };
    // The heap probe samples from here on: the server's start-up allocations are not the bridge's per-call cost.
    if (process.env.BENCH_HEAP_PROF) bridge.kill('SIGUSR2');
    const lr = await ask<LoadResult>(load, { cmd: 'run', plan }, 'done');
    const bridgeCpuMs = processCpuMs(bridge.pid!) - cpu0;
    machine.stop();
    const mr = await ask<ModelResult>(model, { cmd: 'report' }, 'report');

    const closed = new Map(mr.closedUs);
    const phases = new Phases(lr.calls, closed);
    const times = new Map(lr.calls.map((c) => [c.call, c]));
    const ready = new Map(mr.readyUs);
    const due = (call: number): [number, number] | undefined => {
      const c = times.get(call);
      const from = ready.get(call);
      return c?.hangupUs && from ? [from, c.hangupUs - HANGUP_GRACE_MS * 1000] : undefined;
    };
    const end = (call: number) => {
      const c = times.get(call);
      return c?.hangupUs ? { byBridge: c.endedByServer, hangupUs: c.hangupUs } : undefined;
    };
    const inbound = direction(mr.inbound, { calls: new Map(lr.inboundSent), dueUs: due, end }, phases);
    const outbound = direction(lr.outbound, { calls: new Map(mr.outboundSent), dueUs: due, end }, phases);
    const fromUs = Math.min(...lr.calls.map((c) => c.postUs));
    const toUs = Math.max(...lr.calls.map((c) => c.endDoneUs || c.hangupUs));
    const cpu = cpuPerCallSecond(bridgeCpuMs, lr.calls, machine.samples, lr.activeCalls, phases);
    const runS = (toUs - fromUs) / 1e6;
    const procAvg = (name: string) => machine.samples.reduce((a, s) => a + (s.procCores[name] ?? 0), 0) / Math.max(1, machine.samples.length);
    const loopP99 = (name: string) => loopByPhase(readProbe(probe(name)), phases, fromUs, toUs).all.delayP99Ms;
    return {
      target,
      calls: o.calls,
      callsPlaced: lr.calls.length,
      callErrors: lr.errors,
      callsEndedByBridge: lr.calls.filter((c) => c.endedByServer).length,
      clears: lr.calls.reduce((a, c) => a + c.clears, 0),
      cancels: mr.cancels,
      runSeconds: runS,
      phaseSeconds: phases.seconds(fromUs, toUs),
      setupToModelMs: dist(lr.calls.filter((c) => ready.has(c.call)).map((c) => (ready.get(c.call)! - c.postUs) / 1000)),
      callsWithoutSession: lr.calls.filter((c) => !ready.has(c.call) && c.hangupUs - c.postUs > 10e6).length,
      bridgeLogProblems: problems(join(dataDir, 'bridge.log')),
      setupMs: dist(lr.calls.filter((c) => c.streamingUs).map((c) => (c.streamingUs - c.postUs) / 1000)),
      teardownMs: dist(lr.calls.filter((c) => c.hangupUs).map((c) => (Math.max(c.endDoneUs, closed.get(c.call) ?? 0) - c.hangupUs) / 1000)),
      inbound,
      outbound,
      duplicates: mr.inbound.duplicates + lr.outbound.duplicates,
      bridgeCpu: {
        avgCores: bridgeCpuMs / 1000 / runS,
        peakCores: machine.samples.reduce((a, s) => Math.max(a, s.procCores.bridge ?? 0), 0),
        msPerCallSecond: cpu.wholeRun,
        steadyMsPerCallSecond: cpu.steady,
        callSeconds: cpu.callSeconds,
      },
      bridgeLoop: loopByPhase(readProbe(probe('bridge')), phases, fromUs, toUs),
      harnessLoopP99Ms: { load: loopP99('load'), model: loopP99('model') },
      harnessCpuAvgCores: { load: procAvg('load'), model: procAvg('model'), bench: procAvg('bench') },
      machine: { ...judgeMachine(machine.samples, machine.cores), cores: machine.cores },
      callerFramesSent: lr.inboundSent.reduce((a, [, c]) => a + c.lastSeq, 0),
      vadWorker: target === 'product' ? vadTraffic(readProbe(probe('bridge')), fromUs) : undefined,
    };
  } finally {
    if (bridge && bridge.exitCode === null) {
      bridge.kill('SIGTERM');
      // A CPU profile is written only on a clean exit, after the server has shut down.
      await Promise.race([new Promise((r) => bridge!.once('exit', r)), sleep(process.env.BENCH_CPU_PROF ? 60_000 : 10_000)]);
      if (bridge.exitCode === null) bridge.kill('SIGKILL');
    }
    for (const c of [load, model]) if (c.connected) c.send({ cmd: 'exit' });
    await sleep(200);
    for (const c of [load, model]) if (c.exitCode === null) c.kill('SIGKILL');
    const heap = heapProfileFile(target);
    if (heap) log(`heap profile (once the bridge has exited): node --import tsx bench/bridge/heap-summary.ts ${heap} --frames <caller frames sent>`);
    if (process.env.BENCH_KEEP_DIR) log(`kept ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}
