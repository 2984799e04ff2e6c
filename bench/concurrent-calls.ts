/**
 * N concurrent calls through the real server (a child process running src/main.ts), with both audio
 * directions busy all the time: the callee sends a frame every 20 ms and the AI speaks without pause.
 * Reports the server's added latency per frame in each direction, frames lost, and the server's CPU
 * and memory per call.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Meter, RealtimeDriver, TwilioDriver, FRAME_MS } from './drivers.js';
import { fmt, processCpuMs, processRssMb, summarize } from './stats.js';
import { freePort } from '../test/sim/stack.js';

const ACCOUNT_SID = 'AC' + 'b2'.repeat(16);
const AUTH_TOKEN = 'bench-auth-token-0123456789';
const API_TOKEN = 'bench-api-token-0123456789';

export interface ConcurrentResult {
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
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runConcurrentCalls(opts: { calls: number; seconds: number; warmupMs?: number }): Promise<ConcurrentResult> {
  const meter = new Meter();
  let k = 0;
  const stagger = () => (k++ * 7.31) % FRAME_MS; // spread frame phases across calls, as real calls are
  const tw = await TwilioDriver.start({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, meter, staggerMs: stagger });
  const ai = await RealtimeDriver.start({ meter, staggerMs: stagger });
  const dataDir = mkdtempSync(join(tmpdir(), 'callwright-bench-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS ? process.env.BENCH_SERVER_NODE_ARGS.split(' ') : [];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts'], {
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
      OPENAI_REALTIME_URL: ai.url,
      RECORD_CALLS: 'false',
      LOG_LEVEL: 'warn',
      MAX_CALL_SECONDS: '3600',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d) => String(d).includes('listening') && resolve());
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    await sleep(300);
    const rssIdleMb = processRssMb(child.pid!);

    const ids: string[] = [];
    const place = async () => {
      const r = await fetch(`${base}/api/calls`, { method: 'POST', headers: { Authorization: `Bearer ${API_TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ to: '+14155550123', instructions: 'Benchmark call.' }) });
      const b = (await r.json()) as { id: string };
      if (r.status !== 201) throw new Error(`create -> ${r.status} ${JSON.stringify(b)}`);
      ids.push(b.id);
    };
    for (let i = 0; i < opts.calls; i += 20) await Promise.all(Array.from({ length: Math.min(20, opts.calls - i) }, place));
    const deadline = Date.now() + 30_000;
    while (tw.streaming < opts.calls) {
      if (Date.now() > deadline) throw new Error(`only ${tw.streaming}/${opts.calls} calls streaming; errors: ${tw.errors.slice(0, 3).join('; ')}`);
      await sleep(50);
    }
    await sleep(opts.warmupMs ?? 2000);

    meter.reset();
    meter.recording = true;
    const cpu0 = processCpuMs(child.pid!);
    const driverCpu0 = process.cpuUsage();
    const t0 = Date.now();
    let rssLoadedMb = 0;
    while (Date.now() - t0 < opts.seconds * 1000) {
      await sleep(500);
      rssLoadedMb = Math.max(rssLoadedMb, processRssMb(child.pid!));
    }
    const elapsedS = (Date.now() - t0) / 1000;
    const cpuMs = processCpuMs(child.pid!) - cpu0;
    const du = process.cpuUsage(driverCpu0);
    meter.recording = false;
    tw.stopSending();
    ai.stopSending();
    await sleep(1000); // let frames in flight arrive before counting losses

    const dir = (d: typeof meter.inbound) => ({ ...summarize(d.latenciesMs), sent: d.sent, lost: d.sent - d.received });
    return {
      calls: opts.calls,
      seconds: elapsedS,
      inbound: dir(meter.inbound),
      outbound: dir(meter.outbound),
      serverCpuPctOfCore: (cpuMs / (elapsedS * 1000)) * 100,
      serverCpuMsPerCallSecond: cpuMs / (elapsedS * opts.calls),
      rssIdleMb,
      rssLoadedMb,
      rssPerCallMb: (rssLoadedMb - rssIdleMb) / opts.calls,
      driverCpuPctOfCore: ((du.user + du.system) / 1000 / (elapsedS * 1000)) * 100,
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
  console.log(`\n${r.calls} concurrent calls, both directions streaming, ${fmt(r.seconds, 1)} s measured`);
  console.log('direction                      frames   lost   p50 ms   p99 ms   max ms');
  for (const [name, d] of [['caller -> AI  (Twilio->OpenAI)', r.inbound], ['AI -> caller  (OpenAI->Twilio)', r.outbound]] as const) {
    console.log(`${name.padEnd(30)} ${String(d.sent).padStart(7)} ${String(d.lost).padStart(6)} ${fmt(d.p50).padStart(8)} ${fmt(d.p99).padStart(8)} ${fmt(d.max).padStart(8)}`);
  }
  console.log(`server CPU: ${fmt(r.serverCpuPctOfCore, 1)}% of one core = ${fmt(r.serverCpuMsPerCallSecond, 3)} ms CPU per call-second`);
  console.log(`server memory: ${fmt(r.rssIdleMb, 0)} MB idle, ${fmt(r.rssLoadedMb, 0)} MB loaded = ${fmt(r.rssPerCallMb * 1024, 0)} KB per call`);
  console.log(`(load driver itself: ${fmt(r.driverCpuPctOfCore, 1)}% of one core; latency includes loopback and the driver's event loop)`);
}
