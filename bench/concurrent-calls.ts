/**
 * N concurrent calls through the real server (a child process running dist/main.js, as `npm start` does), with both audio
 * directions busy all the time: the callee sends a frame every 20 ms and the AI speaks without pause.
 * Reports the server's added latency per frame in each direction, frames lost, and the server's CPU
 * and memory per call.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { benchNumber, createSharedMeter, MAX_CALLS, type SharedMeter } from './drivers.js';
import { fmt, processCpuMs, processRssMb, summarize } from './stats.js';
import { freePort } from '../test/sim/stack.js';
import { CAPS_LIFTED } from './caps-lifted.js';
import { startArgs } from '../test/sim/server-process.js';

export const ACCOUNT_SID = 'AC' + 'b2'.repeat(16);
export const AUTH_TOKEN = 'bench-auth-token-0123456789';
export const API_TOKEN = 'bench-api-token-0123456789';

export type BenchEngine = 'openai' | 'gemini';

export interface ConcurrentResult {
  engine: BenchEngine;
  calls: number;
  seconds: number;
  inbound: ReturnType<typeof summarize> & { sent: number; lost: number };
  outbound: ReturnType<typeof summarize> & { sent: number; lost: number };
  serverCpuPctOfCore: number;
  serverCpuMsPerCallSecond: number;
  rssIdleMb: number;
  rssLoadedMb: number;
  rssPerCallMb: number;
  driverCpuPctOfCore: number;
  /** The load driver's own event-loop delay p99: the measurement's noise floor. */
  driverLoopDelayP99Ms: number;
  /** Event-loop utilisation of the Twilio-side and OpenAI-side driver threads. */
  driverThreadBusyPct: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a benchmark built on this one adds: settings, files before the start, load during the measured window. */
export interface LoadHooks<T> {
  env?(dataDir: string): Record<string, string>;
  prepare?(dataDir: string): Promise<void>;
  /** Started when the measured window opens; the function it returns is called when it closes. */
  during?(ctx: { base: string; apiToken: string; dataDir: string; callIds: string[]; serverPid: number }): Promise<() => Promise<T>>;
}

export async function runConcurrentCalls<T = undefined>(opts: { calls: number; seconds: number; engine?: BenchEngine; warmupMs?: number; hooks?: LoadHooks<T> }): Promise<ConcurrentResult & { extra?: T }> {
  const engine = opts.engine ?? 'openai';
  if (opts.calls > MAX_CALLS) throw new Error(`at most ${MAX_CALLS} calls`);
  const shared = createSharedMeter();
  const tw = await DriverThread.start('twilio', shared, engine);
  const ai = await DriverThread.start(engine === 'gemini' ? 'gemini' : 'realtime', shared, engine);
  const dataDir = mkdtempSync(join(tmpdir(), 'callwright-bench-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  await opts.hooks?.prepare?.(dataDir);
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS ? process.env.BENCH_SERVER_NODE_ARGS.split(' ') : [];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, ...startArgs()], {
    env: {
      ...process.env,
      PORT: String(port),
      PUBLIC_URL: base,
      DATA_DIR: dataDir,
      API_TOKEN,
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_FROM_NUMBER: '+14155550100',
      TWILIO_API_URL: tw.url,
      OPENAI_API_KEY: 'sk-bench',
      OPENAI_REALTIME_URL: engine === 'openai' ? ai.url : 'ws://127.0.0.1:9/unused',
      GEMINI_API_KEY: 'gm-bench',
      GEMINI_LIVE_URL: engine === 'gemini' ? ai.url : 'ws://127.0.0.1:9',
      AI_PROVIDER: engine,
      RECORD_CALLS: 'false',
      LOG_LEVEL: 'warn',
      MAX_CALL_SECONDS: '3600',
      ...CAPS_LIFTED,
      ...opts.hooks?.env?.(dataDir),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d) => String(d).includes('listening') && resolve());
      // BENCH_SERVER_LOG=file keeps the server's output (e.g. with BENCH_SERVER_NODE_ARGS=--trace-gc).
      if (process.env.BENCH_SERVER_LOG) child.stdout!.pipe(createWriteStream(process.env.BENCH_SERVER_LOG));
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    await sleep(300);
    const rssIdleMb = processRssMb(child.pid!);

    const ids: string[] = [];
    let n = 0;
    const place = async () => {
      // The call's index travels in the number dialled and in the instructions (the engine side reads it there).
      const i = n++;
      const r = await fetch(`${base}/api/calls`, { method: 'POST', headers: { Authorization: `Bearer ${API_TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ to: benchNumber(i), instructions: `Benchmark call ${i}.` }) });
      const b = (await r.json()) as { id: string };
      if (r.status !== 201) throw new Error(`create -> ${r.status} ${JSON.stringify(b)}`);
      ids.push(b.id);
    };
    for (let i = 0; i < opts.calls; i += 20) await Promise.all(Array.from({ length: Math.min(20, opts.calls - i) }, place));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const st = (await tw.ask('status')) as { streaming: number; errors: string[] };
      if (st.streaming >= opts.calls) break;
      if (Date.now() > deadline) throw new Error(`only ${st.streaming}/${opts.calls} calls streaming; errors: ${st.errors.join('; ')}`);
      await sleep(100);
    }
    await sleep(opts.warmupMs ?? 2000);

    await Promise.all([tw.ask('record'), ai.ask('record')]);
    Atomics.store(shared.control, 1, 0);
    Atomics.store(shared.control, 2, 0);
    Atomics.store(shared.control, 0, 1);
    const stopDuring = await opts.hooks?.during?.({ base, apiToken: API_TOKEN, dataDir, callIds: ids, serverPid: child.pid! });
    const cpu0 = processCpuMs(child.pid!);
    const t0 = Date.now();
    let rssLoadedMb = 0;
    while (Date.now() - t0 < opts.seconds * 1000) {
      await sleep(500);
      rssLoadedMb = Math.max(rssLoadedMb, processRssMb(child.pid!));
    }
    const elapsedS = (Date.now() - t0) / 1000;
    const cpuMs = processCpuMs(child.pid!) - cpu0;
    Atomics.store(shared.control, 0, 0);
    const extra = await stopDuring?.();
    type Stop = { received: number; latenciesMs: number[]; loopDelayP99Ms: number; processCpuMs: number; utilization: number };
    const [twStop, aiStop] = (await Promise.all([tw.ask('stop'), ai.ask('stop')])) as [Stop, Stop];
    const sentIn = Atomics.load(shared.control, 1);
    const sentOut = Atomics.load(shared.control, 2);
    const dir = (d: Stop, sent: number) => ({ ...summarize(d.latenciesMs), sent, lost: sent - d.received });
    return {
      engine,
      calls: opts.calls,
      seconds: elapsedS,
      inbound: dir(aiStop, sentIn),
      outbound: dir(twStop, sentOut),
      serverCpuPctOfCore: (cpuMs / (elapsedS * 1000)) * 100,
      serverCpuMsPerCallSecond: cpuMs / (elapsedS * opts.calls),
      rssIdleMb,
      rssLoadedMb,
      rssPerCallMb: (rssLoadedMb - rssIdleMb) / opts.calls,
      driverCpuPctOfCore: (twStop.processCpuMs / (elapsedS * 1000)) * 100,
      driverThreadBusyPct: [twStop.utilization * 100, aiStop.utilization * 100],
      driverLoopDelayP99Ms: Math.max(twStop.loopDelayP99Ms, aiStop.loopDelayP99Ms),
      extra,
    };
  } finally {
    // SIGTERM lets the server shut down cleanly (and write a CPU profile when asked for one).
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    await Promise.all([tw.close(), ai.close()]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function printConcurrent(r: ConcurrentResult): void {
  const path = r.engine === 'gemini' ? 'Gemini Live, transcoding both ways' : 'OpenAI Realtime, mu-law pass-through';
  console.log(`\n${r.calls} concurrent calls on ${path}, both directions streaming, ${fmt(r.seconds, 1)} s measured`);
  console.log('direction                      frames   lost   p50 ms   p99 ms   max ms');
  const ai = r.engine === 'gemini' ? 'Gemini' : 'OpenAI';
  for (const [name, d] of [[`caller -> AI  (Twilio->${ai})`, r.inbound], [`AI -> caller  (${ai}->Twilio)`, r.outbound]] as const) {
    console.log(`${name.padEnd(30)} ${String(d.sent).padStart(7)} ${String(d.lost).padStart(6)} ${fmt(d.p50).padStart(8)} ${fmt(d.p99).padStart(8)} ${fmt(d.max).padStart(8)}`);
  }
  console.log(`server CPU: ${fmt(r.serverCpuPctOfCore, 1)}% of one core = ${fmt(r.serverCpuMsPerCallSecond, 3)} ms CPU per call-second`);
  console.log(`server memory: ${fmt(r.rssIdleMb, 0)} MB idle, ${fmt(r.rssLoadedMb, 0)} MB loaded = ${fmt(r.rssPerCallMb * 1024, 0)} KB per call`);
  console.log(`load drivers: ${fmt(r.driverCpuPctOfCore, 1)}% of one core, threads busy ${r.driverThreadBusyPct.map((p) => fmt(p, 0) + '%').join(' / ')}, event-loop delay p99 ${fmt(r.driverLoopDelayP99Ms)} ms (the latency above includes loopback and the drivers)`);
}

/** A load driver on its own thread, driven by simple request/response messages (also the cluster bench's, bench/cluster/). */
export class DriverThread {
  private constructor(private readonly worker: Worker, readonly url: string) {}

  static async start(kind: 'twilio' | 'realtime' | 'gemini', shared: SharedMeter, engine: BenchEngine): Promise<DriverThread> {
    const worker = new Worker(new URL('./driver-worker.mjs', import.meta.url), { workerData: { kind, engine, shared, accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN } });
    const first = await new Promise<{ url: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    return new DriverThread(worker, first.url);
  }

  ask(cmd: string): Promise<unknown> {
    return new Promise((resolve) => {
      this.worker.once('message', resolve);
      this.worker.postMessage({ cmd });
    });
  }

  async close(): Promise<void> {
    await this.ask('close');
    await this.worker.terminate();
  }
}

/** The server is started exactly as `npm start` starts it (same Node flags), minus npm itself. */
