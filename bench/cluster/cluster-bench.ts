/**
 * `npm run bench -- --only cluster`: one node vs two on the same machine (issue 16). Both arms have the
 * same PostgreSQL and Redis (started privately for the run), HAProxy in front (deploy/haproxy.cfg, as in
 * test/e2e/cluster-kill.test.ts) and the same load drivers (the Twilio and OpenAI stand-ins of the
 * `calls` bench, on threads of the bench process); only the number of server processes differs.
 *
 * Each arm: (a) N calls placed through the proxy, POST /api/calls with 32 in flight and the caps lifted,
 * timed one by one (p50/p95/p99) and as calls per second; (b) those N calls held, both audio directions
 * streaming, for the measured window: frame latency per direction and the nodes' CPU (all of them
 * together, HAProxy's apart). The summary gives each arm and the ratio two-node / one-node.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ACCOUNT_SID, API_TOKEN, AUTH_TOKEN, DriverThread } from '../concurrent-calls.js';
import { benchNumber, createSharedMeter, MAX_CALLS } from '../drivers.js';
import { fmt, percentile, processCpuMs, summarize } from '../stats.js';
import { freePort } from '../../test/sim/stack.js';
import { startServerProcess, type ServerProcess } from '../../test/sim/server-process.js';
import { startHaproxy } from '../../test/sim/haproxy.js';
import { CAPS_LIFTED } from '../caps-lifted.js';
import { startClusterServices, type ClusterServices } from './services.js';

const IN_FLIGHT = 32;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ArmResult {
  nodes: number;
  calls: number;
  place: { callsPerSecond: number; p50: number; p95: number; p99: number; max: number; spread: number[] };
  held: { seconds: number; inbound: ReturnType<typeof summarize> & { lost: number }; outbound: ReturnType<typeof summarize> & { lost: number } };
  /** Calls no longer live at the window's end (status/endReason): each one is a failure. */
  ended: string[];
  nodesCpuPctOfCore: number;
  nodesCpuMsPerCallSecond: number;
  proxyCpuPctOfCore: number;
}

export type ClusterResult = { skipped: string } | { arms: [ArmResult, ArmResult] };

export async function runClusterBench(o: { calls: number; seconds: number; log?: (l: string) => void }): Promise<ClusterResult> {
  if (o.calls > MAX_CALLS) throw new Error(`at most ${MAX_CALLS} calls`);
  const services = await startClusterServices();
  if (typeof services === 'string') return { skipped: services };
  try {
    const one = await runArm(services, 1, o);
    const two = await runArm(services, 2, o);
    return { arms: [one, two] };
  } finally {
    services.stop();
  }
}

async function runArm(services: ClusterServices, count: number, o: { calls: number; seconds: number; log?: (l: string) => void }): Promise<ArmResult> {
  o.log?.(`${count} node(s): starting`);
  await services.flushRedis();
  const db = await services.freshDatabase();
  const shared = createSharedMeter();
  const tw = await DriverThread.start('twilio', shared, 'openai');
  const ai = await DriverThread.start('realtime', shared, 'openai');
  const run = randomBytes(3).toString('hex');
  const proxyPort = await freePort();
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;
  const nodes: Array<{ id: string; port: number; dataDir: string; server?: ServerProcess }> = [];
  for (let i = 0; i < count; i++) nodes.push({ id: `bench-${run}-${i + 1}`, port: await freePort(), dataDir: mkdtempSync(join(tmpdir(), 'callwright-bench-node-')) });
  const envOf = (n: (typeof nodes)[number]) => ({
    PORT: String(n.port),
    // The carrier reaches every node through the proxy, as in production (/n/<NODE_ID>/ routing).
    PUBLIC_URL: proxyUrl,
    NODE_ID: n.id,
    DATABASE_URL: db.url,
    REDIS_URL: services.redisUrl,
    DATA_DIR: n.dataDir,
    API_TOKEN,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_FROM_NUMBER: '+14155550100',
    TWILIO_API_URL: tw.url,
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_REALTIME_URL: ai.url,
    AI_PROVIDER: 'openai',
    RECORD_CALLS: 'false',
    LOG_LEVEL: 'warn',
    MAX_CALL_SECONDS: '3600',
    ...CAPS_LIFTED,
  });
  let proxy: Awaited<ReturnType<typeof startHaproxy>> | undefined;
  try {
    // The first node migrates the new database; then the others start together.
    nodes[0]!.server = await startServerProcess(envOf(nodes[0]!));
    await Promise.all(nodes.slice(1).map(async (n) => (n.server = await startServerProcess(envOf(n)))));
    proxy = await startHaproxy(services.haproxy, proxyPort, nodes);
    await sleep(500);

    // (a) Placing: as fast as the service takes them, IN_FLIGHT at a time, through the proxy.
    const placeMs: number[] = [];
    const ids: string[] = [];
    let next = 0;
    const placer = async () => {
      while (next < o.calls) {
        const i = next++;
        const t0 = performance.now();
        const r = await fetch(`${proxyUrl}/api/calls`, { method: 'POST', headers: { Authorization: `Bearer ${API_TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ to: benchNumber(i), instructions: `Benchmark call ${i}.` }) });
        const text = await r.text();
        if (r.status !== 201) throw new Error(`POST /api/calls (call ${i}, ${count} node(s)) -> ${r.status} ${text}`);
        placeMs.push(performance.now() - t0);
        ids.push((JSON.parse(text) as { id: string }).id);
      }
    };
    const p0 = performance.now();
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, o.calls) }, placer));
    const placeS = (performance.now() - p0) / 1000;
    o.log?.(`${count} node(s): ${o.calls} placed in ${fmt(placeS, 2)} s`);

    // (b) Holding: every call streaming both ways, then the measured window.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const st = (await tw.ask('status')) as { streaming: number; errors: string[] };
      if (st.streaming >= o.calls) break;
      if (Date.now() > deadline) throw new Error(`${count} node(s): only ${st.streaming}/${o.calls} calls streaming; errors: ${st.errors.slice(0, 3).join('; ')}`);
      await sleep(100);
    }
    // Each node's own live calls (asked directly, not through the proxy): how the round robin spread them.
    const spread = await Promise.all(nodes.map(async (n) => ((await getJson(`http://127.0.0.1:${n.port}/api/calls/overview`)) as { live?: { now?: number } }).live?.now ?? NaN));
    await sleep(2000);
    await Promise.all([tw.ask('record'), ai.ask('record')]);
    Atomics.store(shared.control, 1, 0);
    Atomics.store(shared.control, 2, 0);
    Atomics.store(shared.control, 0, 1);
    const pids = nodes.map((n) => n.server!.child.pid!);
    const cpu0 = pids.map(processCpuMs);
    const proxyCpu0 = processCpuMs(proxy.pid);
    const t0 = Date.now();
    await sleep(o.seconds * 1000);
    const elapsedMs = Date.now() - t0;
    const cpuMs = pids.reduce((sum, pid, i) => sum + processCpuMs(pid) - cpu0[i]!, 0);
    const proxyCpuMs = processCpuMs(proxy.pid) - proxyCpu0;
    Atomics.store(shared.control, 0, 0);
    type Stop = { received: number; latenciesMs: number[] };
    const [twStop, aiStop] = (await Promise.all([tw.ask('stop'), ai.ask('stop')])) as [Stop, Stop];
    // A held call must still be live at the window's end: one that ended is a failure, not a fast call.
    const rows = (await Promise.all(ids.map((id) => getJson(`${proxyUrl}/api/calls/${id}`)))) as Array<{ status?: string; endReason?: string; error?: string }>;
    const ended = rows.filter((c) => c.status === 'ended').map((c) => `${c.status}/${c.endReason ?? ''}${c.error ? ` (${c.error})` : ''}`);
    const sorted = [...placeMs].sort((a, b) => a - b);
    return {
      nodes: count,
      calls: o.calls,
      place: { callsPerSecond: o.calls / placeS, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted.at(-1)!, spread },
      held: {
        seconds: elapsedMs / 1000,
        inbound: { ...summarize(aiStop.latenciesMs), lost: Atomics.load(shared.control, 1) - aiStop.received },
        outbound: { ...summarize(twStop.latenciesMs), lost: Atomics.load(shared.control, 2) - twStop.received },
      },
      ended,
      nodesCpuPctOfCore: (cpuMs / elapsedMs) * 100,
      nodesCpuMsPerCallSecond: cpuMs / ((elapsedMs / 1000) * o.calls),
      proxyCpuPctOfCore: (proxyCpuMs / elapsedMs) * 100,
    };
  } finally {
    await proxy?.close();
    // SIGTERM: the nodes end their calls and write them, as a node does when it is stopped.
    await Promise.all(nodes.map((n) => n.server?.stop()));
    await Promise.all([tw.close(), ai.close()]);
    await db.drop();
    for (const n of nodes) rmSync(n.dataDir, { recursive: true, force: true });
  }
}

async function getJson(url: string): Promise<unknown> {
  const r = await fetch(url, { headers: { Authorization: `Bearer ${API_TOKEN}` } });
  const text = await r.text();
  if (!r.ok) throw new Error(`GET ${url} -> ${r.status} ${text}`);
  return JSON.parse(text);
}

export function printCluster(r: ClusterResult): boolean {
  if ('skipped' in r) {
    console.log(`\nCluster (one node vs two): skipped: ${r.skipped}`);
    return true;
  }
  const [one, two] = r.arms;
  const ratio = (a: number, b: number) => fmt(b / a, 2);
  console.log(`\nCluster: one node vs two behind HAProxy, same PostgreSQL + Redis, same machine; ${one.calls} calls placed (${IN_FLIGHT} in flight), then held ${fmt(one.held.seconds, 1)} s, both directions streaming`);
  console.log('                                   1 node    2 nodes   2/1');
  const row = (name: string, a: number, b: number, d = 1) => console.log(`${name.padEnd(32)} ${fmt(a, d).padStart(9)} ${fmt(b, d).padStart(9)} ${ratio(a, b).padStart(6)}`);
  row('placed: calls/s', one.place.callsPerSecond, two.place.callsPerSecond);
  row('placed: POST p50 ms', one.place.p50, two.place.p50);
  row('placed: POST p95 ms', one.place.p95, two.place.p95);
  row('placed: POST p99 ms', one.place.p99, two.place.p99);
  row('held: caller->AI p50 ms', one.held.inbound.p50, two.held.inbound.p50, 2);
  row('held: caller->AI p99 ms', one.held.inbound.p99, two.held.inbound.p99, 2);
  row('held: AI->caller p50 ms', one.held.outbound.p50, two.held.outbound.p50, 2);
  row('held: AI->caller p99 ms', one.held.outbound.p99, two.held.outbound.p99, 2);
  row('held: nodes CPU % of a core', one.nodesCpuPctOfCore, two.nodesCpuPctOfCore);
  row('held: nodes CPU ms/call-second', one.nodesCpuMsPerCallSecond, two.nodesCpuMsPerCallSecond, 3);
  row('held: HAProxy CPU % of a core', one.proxyCpuPctOfCore, two.proxyCpuPctOfCore);
  for (const a of r.arms) if (a.ended.length) console.log(`${a.nodes} node(s): ${a.ended.length} of ${a.calls} calls ended before the window closed: ${[...new Set(a.ended)].join(', ')}`);
  console.log(`frames lost: 1 node ${one.held.inbound.lost + one.held.outbound.lost}, 2 nodes ${two.held.inbound.lost + two.held.outbound.lost}; calls per node (2 nodes): ${two.place.spread.join(' / ')}`);
  return r.arms.every((a) => a.ended.length === 0 && a.held.inbound.lost + a.held.outbound.lost === 0);
}
