/**
 * `npm run bench -- --only store`: the concurrent-call load (both audio directions, every call) while,
 * at the same time, a new call is placed every second (daily-spend check, the call's insert, the
 * carrier's webhooks with their receipts and status changes), the API is read as the UI reads it (calls
 * list with costs, call detail, status),
 * documents are searched (10k chunks in the index), and a second process takes the database's write lock
 * (BEGIN IMMEDIATE) for seconds at a time, again and again. Reports the server's own worst event-loop
 * stall (its monitorEventLoopDelay, max and p99 over the window) and the frame latency; the bar is that
 * live audio never stalls more than 20 ms because of the store.
 */
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runConcurrentCalls, type ConcurrentResult } from './concurrent-calls.js';
import { benchNumber, MAX_CALLS } from './drivers.js';
import { fillerQuestions, writeFillerDocuments } from './retrieval-filler.js';
import { fmt, summarize } from './stats.js';
import type { LoopHealth } from './loop-health.js';

export interface StoreContentionResult {
  load: ConcurrentResult;
  loop: { maxMs: number; p99Ms: number; intervals: number };
  api: Record<string, ReturnType<typeof summarize> & { errors: number }>;
  lock: { holds: number; heldMs: number; lifetimeMs: number; holdMs: number; gapMs: number };
  chunks: number;
}

const BAR_MS = 20;

export async function runStoreContention(o: { calls: number; seconds: number; chunks?: number; holdMs?: number; gapMs?: number }): Promise<StoreContentionResult> {
  // BENCH_LOCK_HOLD_MS=0: the same load without the second process, to tell the store's share from the machine's.
  const holdMs = o.holdMs ?? Number(process.env.BENCH_LOCK_HOLD_MS ?? 2000);
  const gapMs = o.gapMs ?? 500;
  let chunks = 0;
  let probeFile = '';
  let window = { from: 0, to: 0 };
  type Extra = { api: StoreContentionResult['api']; lock: { holds: number; heldMs: number; lifetimeMs: number }; samples: Array<LoopHealth & { at: number }> };
  const load = await runConcurrentCalls<Extra>({
    calls: o.calls,
    seconds: o.seconds,
    hooks: {
      // Lexical search (no embeddings provider: nothing leaves the machine); the spend cap on, so each call's creation runs the daily-spend check; recordings off as in the load bench.
      env: (dataDir) => ({ CLIENTS_DIR: join(dataDir, 'clients'), EMBEDDINGS_PROVIDER: 'none', KNOWLEDGE_WATCH: 'false', MAX_COST_PER_DAY_USD: '100000', MAX_CALLS_PER_DAY: '100000' }),
      async prepare(dataDir) {
        const dir = join(dataDir, 'clients', 'bench');
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'profile.txt'), 'Full Name: Bench Client\nPhone: +14155550100\n');
        chunks = (await writeFillerDocuments(dir, o.chunks ?? 10_000)).chunks;
        probeFile = join(dataDir, 'loop.jsonl');
        process.env.STORE_PROBE_FILE = probeFile;
        process.env.BENCH_SERVER_NODE_ARGS = ['--import', './bench/store-probe.mjs', process.env.BENCH_SERVER_NODE_ARGS ?? ''].join(' ').trim();
      },
      async during({ base, apiToken, dataDir, callIds }) {
        const indexed = await waitForIndex(base, apiToken);
        if (!indexed) throw new Error('the bench client was not indexed in time');
        const locker = holdMs <= 0 ? undefined : fork(new URL('./db-locker.mjs', import.meta.url), [join(dataDir, 'callwright.db'), String(holdMs), String(gapMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        if (locker) await new Promise((r) => locker.once('message', r));
        window = { from: Date.now(), to: 0 };
        const api = new ApiLoad(base, apiToken, callIds, o.calls);
        const running = api.run();
        return async () => {
          window.to = Date.now();
          api.stop();
          await running;
          const lock = !locker
            ? { holds: 0, heldMs: 0, lifetimeMs: 1 }
            : await new Promise<{ holds: number; heldMs: number; lifetimeMs: number }>((resolve) => {
                locker.once('message', (m) => resolve(m as { holds: number; heldMs: number; lifetimeMs: number }));
                locker.kill('SIGTERM');
              });
          await new Promise((r) => setTimeout(r, 300)); // the probe's last interval of the window
          // The server's samples within the window (the data dir goes when the load run ends).
          const samples = readFileSync(probeFile, 'utf8')
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as LoopHealth & { at: number })
            .filter((x) => x.at > window.from + 250 && x.at <= window.to + 250);
          return { api: api.summary(), lock, samples };
        };
      },
    },
  });
  const samples = load.extra!.samples;
  return {
    load,
    loop: { maxMs: Math.max(...samples.map((s) => s.delayMaxMs)), p99Ms: Math.max(...samples.map((s) => s.delayP99Ms)), intervals: samples.length },
    api: load.extra!.api,
    lock: { ...load.extra!.lock, holdMs, gapMs },
    chunks,
  };
}

async function waitForIndex(base: string, token: string): Promise<boolean> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const r = await fetch(`${base}/api/clients/bench/documents`, { headers: { Authorization: `Bearer ${token}` } });
    if (r.ok) {
      const docs = ((await r.json()) as { documents: Array<{ status: string }> }).documents;
      if (docs.length && docs.every((d) => d.status === 'indexed')) return true;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** The UI's reads and the agent's lookups, a few in flight at a time, timed one by one. */
class ApiLoad {
  private stopped = false;
  private readonly times = new Map<string, { ms: number[]; errors: number }>();
  private readonly questions = fillerQuestions(50);

  constructor(
    private readonly base: string,
    private readonly token: string,
    private readonly callIds: string[],
    private nextCall: number,
  ) {}

  stop(): void {
    this.stopped = true;
  }

  async run(): Promise<void> {
    const kinds: Array<[string, () => string]> = [
      ['calls list (50, with costs)', () => '/api/calls?limit=50'],
      ['call detail', () => `/api/calls/${this.callIds[Math.floor(Math.random() * this.callIds.length)]}`],
      ['status', () => '/api/status'],
      ['document search', () => `/api/clients/bench/search?q=${encodeURIComponent(this.questions[Math.floor(Math.random() * this.questions.length)]!)}`],
    ];
    let i = 0;
    const worker = async () => {
      while (!this.stopped) {
        const [name, path] = kinds[i++ % kinds.length]!;
        const t0 = performance.now();
        let ok = false;
        try {
          const r = await fetch(this.base + path(), { headers: { Authorization: `Bearer ${this.token}` } });
          await r.arrayBuffer();
          ok = r.ok;
        } catch {
          ok = false;
        }
        const t = this.times.get(name) ?? { ms: [], errors: 0 };
        if (ok) t.ms.push(performance.now() - t0);
        else t.errors++;
        this.times.set(name, t);
      }
    };
    // A new call every second: its creation runs the daily-spend check and writes the call, then the
    // carrier's signed status callbacks (webhook receipts, status changes) and its timeline follow.
    const placer = async () => {
      while (!this.stopped && this.nextCall < MAX_CALLS) {
        const i = this.nextCall++;
        const t0 = performance.now();
        const r = await fetch(`${this.base}/api/calls`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${this.token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ to: benchNumber(i), instructions: `Benchmark call ${i}.` }),
        }).catch(() => undefined);
        const t = this.times.get('place a call') ?? { ms: [], errors: 0 };
        if (r?.status === 201) t.ms.push(performance.now() - t0);
        else t.errors++;
        await r?.arrayBuffer();
        this.times.set('place a call', t);
        await new Promise((res) => setTimeout(res, 1000));
      }
    };
    await Promise.all([worker(), worker(), worker(), worker(), placer()]);
  }

  summary(): StoreContentionResult['api'] {
    return Object.fromEntries([...this.times].map(([k, v]) => [k, { ...summarize(v.ms), errors: v.errors }]));
  }
}

export function printStoreContention(r: StoreContentionResult): boolean {
  const l = r.load;
  console.log(`\nStore under contention: ${l.calls} concurrent calls (OpenAI path) for ${fmt(l.seconds, 1)} s, with API reads, document search over ${r.chunks} chunks,`);
  console.log(`and a second process holding the database's write lock ${fmt(r.lock.holdMs / 1000, 1)} s at a time (${r.lock.holds} times, locked ${fmt((100 * r.lock.heldMs) / r.lock.lifetimeMs, 0)}% of the time)`);
  console.log(`server event loop: max stall ${fmt(r.loop.maxMs, 1)} ms, p99 ${fmt(r.loop.p99Ms, 1)} ms (${r.loop.intervals} intervals of 250 ms)`);
  console.log('direction                      frames   lost   p50 ms   p99 ms   max ms');
  for (const [name, d] of [['caller -> AI', l.inbound], ['AI -> caller', l.outbound]] as const) {
    console.log(`${name.padEnd(30)} ${String(d.sent).padStart(7)} ${String(d.lost).padStart(6)} ${fmt(d.p50).padStart(8)} ${fmt(d.p99).padStart(8)} ${fmt(d.max).padStart(8)}`);
  }
  console.log('API request                    count  errors   p50 ms   p99 ms   max ms');
  for (const [name, s] of Object.entries(r.api)) console.log(`${name.padEnd(30)} ${String(s.n).padStart(5)} ${String(s.errors).padStart(7)} ${fmt(s.p50).padStart(8)} ${fmt(s.p99).padStart(8)} ${fmt(s.max).padStart(8)}`);
  const pass = r.loop.maxMs <= BAR_MS && l.inbound.lost === 0 && l.outbound.lost === 0 && Object.values(r.api).every((s) => s.errors === 0);
  console.log(`bar: server event loop never stalls more than ${BAR_MS} ms, no frame lost, no API error: ${pass ? 'met' : 'NOT met'}`);
  return pass;
}
