/**
 * Soak: N concurrent simulated calls for M minutes through the real server (a child process started as
 * `npm start` starts it), each call replaced by a new one as it ends, with faults injected all along:
 * provider sockets dropped mid-response, media sockets dropped without `stop`, bursts of malformed
 * media frames, recording downloads failing. The simulators run on two worker threads.
 *
 * Reported, with a bar of zero for each: calls that did not reach the right final state, audio frames
 * lost (callee frames sent vs appended at the AI; AI audio sent vs received by the callee), timeline
 * events lost (sequence gaps, transcript turns missing against what the simulators said), recordings
 * missing. And the server's memory after warm-up vs at the end, both after a full GC (bar: < 10%).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { freePort, simEnv, writeDemoClient, SIM_ACCOUNT_SID, SIM_API_TOKEN, SIM_AUTH_TOKEN, SIM_OPENAI_KEY } from '../test/sim/stack.js';
import { startServerProcess, type ServerProcess } from '../test/sim/server-process.js';
import { expectedEnds, faultOf, instructionsOf, MALFORMED_BURST, numberOf, type Fault } from './soak-plan.js';
import type { AiSessionSummary, Mp3Health, SimHealth, TwilioCallSummary } from './soak-sims.js';
import { startArgs } from '../test/sim/server-process.js';
import { fmt, processRssMb, summarize } from './stats.js';
import { combineHealth, monitorLoop, type LoopHealth } from './loop-health.js';

export interface SoakOptions {
  calls: number;
  minutes: number;
  /** Callee silence in the middle of each call: sets how long calls last (and so the churn). */
  pauseMs?: number;
  /** Every this often, the next 3 recording downloads fail. */
  recordingFaultEveryMs?: number;
  log?: (line: string) => void;
}

export interface SoakResult {
  calls: number;
  minutes: number;
  started: number;
  byFault: Record<Fault, number>;
  wrongEnd: string[];
  framesSent: number;
  framesLost: number;
  eventsLost: number;
  eventProblems: string[];
  recordingsMissing: number;
  recordingFailuresInjected: number;
  memory: { warm: { rssMb: number; heapMb: number }; end: { rssMb: number; heapMb: number }; rssGrowthPct: number; heapGrowthPct: number; peakRssMb: number };
  /** Not bars: whether the harness itself kept up, so a miss can be told apart from a starved simulator. */
  harness: {
    threads: Record<HarnessThread, ReturnType<typeof combineHealth>>;
    mp3: Mp3Health;
    /** The product's `calls.create` round trip to the Twilio simulator (timeline: dialing -> carrier.dialed / dial error). */
    dialMs: ReturnType<typeof summarize>;
    /** From a call's end to its recording stored (timeline: ended -> recording). */
    recordingMs: ReturnType<typeof summarize>;
  };
}

type HarnessThread = 'bench main' | 'twilio sim' | 'openai sim' | 'server';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class SimThread {
  private constructor(private readonly worker: Worker, readonly url: string) {}
  static async start(kind: 'twilio' | 'openai', pauseMs: number): Promise<SimThread> {
    const worker = new Worker(new URL('./soak-sims.mjs', import.meta.url), { workerData: { kind, accountSid: SIM_ACCOUNT_SID, authToken: SIM_AUTH_TOKEN, apiKey: SIM_OPENAI_KEY, pauseMs } });
    const first = await new Promise<{ url: string }>((resolve, reject) => (worker.once('message', resolve), worker.once('error', reject)));
    return new SimThread(worker, first.url);
  }
  ask<T>(cmd: string, extra: Record<string, unknown> = {}): Promise<T> {
    return new Promise((resolve) => (this.worker.once('message', resolve), this.worker.postMessage({ cmd, ...extra })));
  }
  post(cmd: string, extra: Record<string, unknown> = {}): void {
    this.worker.postMessage({ cmd, ...extra });
  }
  async close(): Promise<void> {
    await this.ask('close');
    await this.worker.terminate();
  }
}

async function memory(server: ServerProcess): Promise<{ rssMb: number; heapMb: number }> {
  const line = new Promise<string>((resolve) => {
    const on = (d: Buffer) => {
      const m = /SOAKMEM (.*)/.exec(String(d));
      if (m) (server.child.stdout!.off('data', on), resolve(m[1]));
    };
    server.child.stdout!.on('data', on);
  });
  server.child.kill('SIGUSR2');
  const m = JSON.parse(await line) as { rss: number; heapUsed: number };
  return { rssMb: m.rss / 2 ** 20, heapMb: m.heapUsed / 2 ** 20 };
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? ((l: string) => console.log(l));
  const pauseMs = o.pauseMs ?? 20_000;
  const mainLoop = monitorLoop();
  const [tw, ai] = await Promise.all([SimThread.start('twilio', pauseMs), SimThread.start('openai', pauseMs)]);
  const dataDir = mkdtempSync(join(tmpdir(), 'callwright-soak-'));
  writeDemoClient(join(dataDir, 'clients'));
  const port = await freePort();
  const args = startArgs();
  const server = await startServerProcess(
    { ...simEnv({ port, dataDir, twilioUrl: tw.url, openaiUrl: ai.url }), RECORD_CALLS: 'true',
      MAX_CALL_SECONDS: '600',
      // Hundreds of calls a few minutes apart: the safety caps (5 at once, 100 a day, cost) would refuse them.
      MAX_CONCURRENT_CALLS: '0',
      MAX_CALLS_PER_DAY: '0',
      MAX_COST_PER_CALL_USD: '0',
      MAX_COST_PER_DAY_USD: '0',
    },
    [...args.slice(0, args.indexOf('--import')), '--expose-gc', '--import', './bench/soak-probe.mjs'],
  );
  const placed = new Map<string, number>();
  const active = new Set<string>();
  let next = 0;
  let recordingFailuresInjected = 0;
  const twilioCalls: TwilioCallSummary[] = [];
  const aiSessions: AiSessionSummary[] = [];
  const collect = async () => {
    twilioCalls.push(...(await tw.ask<TwilioCallSummary[]>('report')));
    aiSessions.push(...(await ai.ask<AiSessionSummary[]>('report')));
  };
  const health: Record<HarnessThread, LoopHealth[]> = { 'bench main': [], 'twilio sim': [], 'openai sim': [], server: [] };
  const mp3: Mp3Health[] = [];
  createInterface({ input: server.child.stdout! }).on('line', (line) => {
    if (line.startsWith('SOAKLOOP ')) health.server.push(JSON.parse(line.slice(9)) as LoopHealth);
  });
  let reportedServerSamples = 0;
  /** Samples every thread; returns a one-line digest of the interval. */
  const sampleHealth = async (): Promise<string> => {
    const t = await tw.ask<SimHealth>('health');
    const a = await ai.ask<SimHealth>('health');
    const m = mainLoop.sample();
    health['twilio sim'].push(t);
    health['openai sim'].push(a);
    health['bench main'].push(m);
    if (t.mp3) mp3.push(t.mp3);
    const srv = health.server.slice(reportedServerSamples);
    reportedServerSamples = health.server.length;
    const d = (h: LoopHealth) => `${fmt(h.delayMaxMs, 0)} ms (busy ${fmt(h.utilization * 100, 0)}%, GC max ${fmt(h.gcMaxMs, 0)} ms)`;
    return `loop delay max: twilio ${d(t)}, openai ${d(a)}, bench ${d(m)}, server ${srv.length ? d(combineHealth(srv)) : 'n/a'}; mp3 ${t.mp3?.encodes ?? 0} encoded, longest wait ${fmt(t.mp3?.waitMaxMs ?? 0, 0)} ms`;
  };
  try {
    const place = async () => {
      const i = next++;
      const r = await server.api('POST', '/api/calls', { to: numberOf(i), instructions: instructionsOf(i), clientId: 'raju' });
      if (r.status !== 201) throw new Error(`create call ${i} -> ${r.status} ${JSON.stringify(r.body)}`);
      placed.set(r.body.id, i);
      active.add(r.body.id);
    };
    const pollEnded = async () => {
      // The list is newest first; live calls are among the newest.
      let cursor: string | null = null;
      let seen = 0;
      do {
        const r = await server.api('GET', `/api/calls?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
        for (const c of r.body.calls as Array<{ id: string; status: string }>) {
          if (!active.has(c.id)) continue;
          seen++;
          if (c.status === 'ended') active.delete(c.id);
        }
        cursor = r.body.nextCursor;
      } while (cursor && seen < active.size);
    };

    const t0 = Date.now();
    const endAt = t0 + o.minutes * 60_000;
    const warmAt = t0 + Math.min(60_000, (o.minutes * 60_000) / 5);
    let warm: SoakResult['memory']['warm'] | undefined;
    let peakRssMb = 0;
    let lastRecordingFault = t0;
    let lastLog = 0;
    for (let i = 0; i < o.calls; i += 20) await Promise.all(Array.from({ length: Math.min(20, o.calls - i) }, place));
    while (Date.now() < endAt) {
      await sleep(500);
      await pollEnded();
      const missing = o.calls - active.size;
      for (let k = 0; k < missing; k++) await place();
      if (Date.now() - lastRecordingFault >= (o.recordingFaultEveryMs ?? 15_000)) {
        tw.post('failRecordings', { n: 3 });
        recordingFailuresInjected += 3;
        lastRecordingFault = Date.now();
      }
      peakRssMb = Math.max(peakRssMb, processRssMb(server.child.pid!));
      if (!warm && Date.now() >= warmAt) warm = await memory(server);
      if (Date.now() - lastLog > 30_000) {
        lastLog = Date.now();
        log(`soak: ${Math.round((Date.now() - t0) / 1000)} s, ${next} calls placed, ${active.size} live, server RSS ${fmt(processRssMb(server.child.pid!), 0)} MB, bench RSS ${fmt(processRssMb(process.pid), 0)} MB`);
        log(`  ${await sampleHealth()}`);
        await collect();
      }
    }
    const end = await memory(server);
    log(`soak: load window over; ${next} calls placed; waiting for the ${active.size} live calls to end`);
    const drainDeadline = Date.now() + 180_000;
    while (active.size && Date.now() < drainDeadline) {
      await sleep(1000);
      await pollEnded();
    }
    // Recordings still being encoded (a wave of calls ending together queues them) are still to be fetched.
    const encodeDeadline = Date.now() + 180_000;
    while ((await tw.ask<number>('mp3Pending')) > 0 && Date.now() < encodeDeadline) await sleep(1000);
    // The simulators summarize a call once the server has had time to fetch its recording.
    await sleep(22_000);
    await collect();
    log(`soak: drained; ${await sampleHealth()}`);

    // ---- verification ----------------------------------------------------------------------------
    const byFault: Record<Fault, number> = { none: 0, 'provider-drop': 0, 'media-drop': 0, 'malformed-burst': 0 };
    const wrongEnd: string[] = [];
    const eventProblems: string[] = [];
    let eventsLost = 0;
    let recordingsMissing = 0;
    let framesSent = 0;
    let framesLost = 0;
    const dialMs: number[] = [];
    const recordingMs: number[] = [];
    const twBy = new Map(twilioCalls.map((c) => [c.index, c]));
    const aiBy = new Map(aiSessions.map((s) => [s.index, s]));
    for (const [id, i] of placed) {
      const fault = faultOf(i);
      byFault[fault]++;
      const call = (await server.api('GET', `/api/calls/${id}`)).body;
      const a = aiBy.get(i);
      // A provider drop is planned mid-way through the second response; a call whose callee hung up
      // before that response never had the fault, and must end as a clean call does.
      const expected = fault === 'provider-drop' && a && !a.dropped ? ['callee-hangup'] : expectedEnds[fault];
      if (call.status !== 'ended' || !expected.includes(call.endReason)) {
        wrongEnd.push(`call ${i} (${fault}): ${call.status} ${call.endReason ?? ''} ${call.error ?? ''}`.trim());
        continue;
      }
      // Every turn the simulators said is in the transcript: each callee transcription, and each finished
      // AI response (a cut or cancelled one appears when part of it was heard, not otherwise).
      const said = call.transcript.map((t: { speaker: string }) => t.speaker) as string[];
      if (!a) eventProblems.push(`call ${i}: no simulator summary`);
      else {
        const callee = said.filter((s) => s === 'callee').length;
        const agent = said.filter((s) => s === 'agent').length;
        const missing = Math.max(0, a.calleeTranscripts - callee) + Math.max(0, a.completedResponses - agent);
        if (missing || callee > a.calleeTranscripts || agent > a.responses) {
          eventsLost += missing;
          eventProblems.push(`call ${i} (${fault}, ${call.endReason}): transcript ${callee} callee / ${agent} agent turns; the simulators said ${a.calleeTranscripts} / ${a.completedResponses} finished of ${a.responses}`);
        }
      }
      if (!call.recording) recordingsMissing++;
      // The event stream ends once the call's late records (price, recording) are in; one still open
      // this long after the run is a call whose records never completed.
      const text = await eventsText(server, id);
      if (text === null) {
        eventProblems.push(`call ${i} (${fault}): records never completed (its event stream is still open)`);
        continue;
      }
      const incomplete = /"type":"records\.complete","data":\{"missing":(\[[^\]]*\])/.exec(text);
      if (incomplete) eventProblems.push(`call ${i} (${fault}): records completed without ${incomplete[1]}`);
      const at = timesOf(text);
      if (at.dialing !== undefined && at.dialed !== undefined) dialMs.push(at.dialed - at.dialing);
      if (at.ended !== undefined && at.recording !== undefined) recordingMs.push(at.recording - at.ended);
      const seqs = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
      const gaps = seqs.filter((s, k) => s !== k + 1).length;
      if (gaps) (eventsLost += gaps), eventProblems.push(`call ${i}: ${gaps} sequence gaps`);
      if ((text.match(/"type":"status","data":\{"status":"ended"/g) ?? []).length !== 1) eventProblems.push(`call ${i}: not exactly one "ended"`);
      if (fault === 'media-drop' && call.endReason === 'media-error' && !/"type":"media\.ended","data":\{"expected":false/.test(text)) eventProblems.push(`call ${i}: the drop is not on record`);
      if (fault === 'malformed-burst') {
        const counted = [...text.matchAll(/"type":"media\.invalidFrames","data":\{[^}]*"count":(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
        if (counted !== MALFORMED_BURST) eventProblems.push(`call ${i}: ${counted} of ${MALFORMED_BURST} malformed frames recorded`);
      }
      // Audio is compared exactly where the callee ended the call (every frame it sent precedes its `stop`).
      if (fault === 'none' || fault === 'malformed-burst') {
        const t = twBy.get(i);
        if (!t || !a) {
          eventProblems.push(`call ${i}: no simulator summary`);
          continue;
        }
        framesSent += t.calleeFrames + a.agentBytes / 160;
        framesLost += Math.max(0, t.calleeFrames - a.appends) + Math.max(0, (a.agentBytes - t.agentBytes) / 160);
      }
    }
    const pct = (a: number, b: number) => ((b - a) / a) * 100;
    const warmMem = warm ?? end;
    return {
      calls: o.calls,
      minutes: o.minutes,
      started: placed.size,
      byFault,
      wrongEnd,
      framesSent,
      framesLost,
      eventsLost,
      eventProblems,
      recordingsMissing,
      recordingFailuresInjected,
      memory: { warm: warmMem, end, rssGrowthPct: pct(warmMem.rssMb, end.rssMb), heapGrowthPct: pct(warmMem.heapMb, end.heapMb), peakRssMb },
      harness: {
        threads: Object.fromEntries(Object.entries(health).map(([k, v]) => [k, combineHealth(v)])) as SoakResult['harness']['threads'],
        mp3: mp3.reduce((a, b) => ({ encodes: a.encodes + b.encodes, encodeTotalMs: a.encodeTotalMs + b.encodeTotalMs, encodeMaxMs: Math.max(a.encodeMaxMs, b.encodeMaxMs), waitMaxMs: Math.max(a.waitMaxMs, b.waitMaxMs) }), { encodes: 0, encodeTotalMs: 0, encodeMaxMs: 0, waitMaxMs: 0 }),
        dialMs: summarize(dialMs),
        recordingMs: summarize(recordingMs),
      },
    };
  } finally {
    mainLoop.stop();
    await server.stop();
    await Promise.all([tw.close(), ai.close()]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A call's whole timeline as its event stream's text, or null if the stream has not ended within 10 s. */
async function eventsText(server: ServerProcess, id: string): Promise<string | null> {
  try {
    const r = await fetch(`${server.base}/api/calls/${id}/events`, { headers: { Authorization: `Bearer ${SIM_API_TOKEN}` }, signal: AbortSignal.timeout(10_000) });
    return await r.text();
  } catch (e) {
    if ((e as Error).name === 'TimeoutError') return null;
    throw e;
  }
}

/** When, in a call's timeline (the event stream's text), it was dialled, answered by the carrier's API, ended, recorded. */
function timesOf(text: string): { dialing?: number; dialed?: number; ended?: number; recording?: number } {
  const out: { dialing?: number; dialed?: number; ended?: number; recording?: number } = {};
  for (const m of text.matchAll(/^data: (\{"seq".*)$/gm)) {
    const ev = JSON.parse(m[1]) as { at: string; type: string; data: { status?: string; code?: string } };
    const t = Date.parse(ev.at);
    if (ev.type === 'status' && ev.data.status === 'dialing') out.dialing = t;
    else if (ev.type === 'carrier.dialed' || (ev.type === 'error' && ev.data.code === 'dial_failed')) out.dialed = t;
    else if (ev.type === 'status' && ev.data.status === 'ended') out.ended = t;
    else if (ev.type === 'recording') out.recording = t;
  }
  return out;
}

export function printSoak(r: SoakResult): void {
  const ok = (v: boolean) => (v ? 'ok' : 'FAIL');
  console.log(`\nSoak: ${r.calls} concurrent calls for ${r.minutes} min, calls replaced as they end; faults injected throughout`);
  console.log(`calls started: ${r.started} (${Object.entries(r.byFault).map(([f, n]) => `${f} ${n}`).join(', ')}); recording download failures injected: ${r.recordingFailuresInjected}`);
  console.log(`calls completed (ended as their fault calls for): ${r.started - r.wrongEnd.length} of ${r.started}`);
  console.log(`calls not reaching the right final state: ${r.wrongEnd.length}  ${ok(r.wrongEnd.length === 0)}`);
  for (const w of r.wrongEnd.slice(0, 10)) console.log(`  ${w}`);
  console.log(`audio frames lost: ${fmt(r.framesLost, 0)} of ${fmt(r.framesSent, 0)}  ${ok(r.framesLost === 0)}`);
  console.log(`timeline events lost: ${r.eventsLost}  ${ok(r.eventsLost === 0 && r.eventProblems.length === 0)}`);
  for (const p of r.eventProblems.slice(0, 10)) console.log(`  ${p}`);
  console.log(`recordings missing: ${r.recordingsMissing}  ${ok(r.recordingsMissing === 0)}`);
  const m = r.memory;
  console.log(
    `server memory after GC: warm ${fmt(m.warm.rssMb, 0)} MB RSS / ${fmt(m.warm.heapMb, 1)} MB heap, end ${fmt(m.end.rssMb, 0)} MB / ${fmt(m.end.heapMb, 1)} MB: growth ${fmt(m.rssGrowthPct, 1)}% RSS, ${fmt(m.heapGrowthPct, 1)}% heap  ${ok(m.rssGrowthPct < 10 && m.heapGrowthPct < 10)} (peak RSS ${fmt(m.peakRssMb, 0)} MB)`,
  );
  const h = r.harness;
  console.log('harness (not bars; did the simulators keep up?):');
  for (const [name, t] of Object.entries(h.threads)) {
    console.log(
      `  ${name}: event-loop delay p99 ${fmt(t.delayP99Ms, 0)} ms (worst of ${t.intervals} intervals), max ${fmt(t.delayMaxMs, 0)} ms; busy ${fmt(t.utilization * 100, 0)}% (mean); GC ${t.gcCount} pauses, ${fmt(t.gcTotalMs / 1000, 1)} s in all, longest ${fmt(t.gcMaxMs, 0)} ms; heap max ${fmt(t.heapUsedMb, 0)} MB`,
    );
  }
  console.log(`  mp3 encoder thread: ${h.mp3.encodes} recordings, ${fmt(h.mp3.encodeTotalMs / 1000, 1)} s CPU, longest ${fmt(h.mp3.encodeMaxMs, 0)} ms; longest download wait ${fmt(h.mp3.waitMaxMs, 0)} ms`);
  const sm = (x: ReturnType<typeof summarize>) => `p50 ${fmt(x.p50, 0)} ms, p99 ${fmt(x.p99, 0)} ms, max ${fmt(x.max, 0)} ms (${x.n} calls)`;
  console.log(`  calls.create round trip (product -> Twilio simulator): ${sm(h.dialMs)}`);
  console.log(`  call end -> recording stored: ${sm(h.recordingMs)}`);
}
