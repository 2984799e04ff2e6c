/**
 * The load process: Twilio for N calls, in a process of its own (as the carrier is in production).
 * It places each call through the bridge's own API (`POST /api/calls`), answers the bridge's
 * `POST Calls.json` as Twilio's REST API does, then plays the call (carrier-call.ts). It keeps N calls
 * up: all for the run, or (churn) each for a random 30-120 s and replaced by a new one as it ends.
 *
 * Started by bridge-bench.ts with an IPC channel: it sends `{url}` when listening, takes one `run`
 * message with the plan, and answers with everything it measured when every call has ended.
 */
import http from 'node:http';
import { benchNumber } from '../drivers.js';
import { CarrierCall, type CallTimes, type CarrierContext } from './carrier-call.js';
import { FrameReceiver, FrameSender } from './frame-log.js';
import { monoUs } from './tag.js';
import { prng } from '../../test/sim/shared/prng.js';
import { FrameTicker } from './ticker.js';
import { LineNoise } from './line-noise.js';

export interface LoadPlan {
  /** The bridge under test. */
  base: string;
  apiToken: string;
  calls: number;
  /** How long N calls are kept up, from the end of the ramp. */
  seconds: number;
  /** Calls placed (and, at the end, hung up) per second. */
  rampPerSecond: number;
  /** Churn: each call lasts a random time in this range (s) and is replaced when it ends. */
  churn?: { minS: number; maxS: number };
  /** Seed of the churn's durations, so runs compare. */
  seed: number;
  /** The callee's line noise (dBFS) around each caller frame's tag; none: silence. */
  lineNoiseDbfs?: number;
}

export interface LoadResult {
  calls: CallTimes[];
  inboundSent: Array<[number, { firstSendUs: number; lastSeq: number }]>;
  outbound: ReturnType<FrameReceiver['report']>;
  /** Calls up over time, [monoUs, count], one point per change. */
  activeCalls: Array<[number, number]>;
  errors: string[];
  /** Carrier REST requests that were not Calls.json creates (e.g. the bridge ending a call). */
  restOther: number;
}

const accountSid = process.env.BENCH_ACCOUNT_SID!;
const authToken = process.env.BENCH_AUTH_TOKEN!;
const ticker = new FrameTicker();
const inbound = new FrameSender();
const outbound = new FrameReceiver();
const ctx: CarrierContext = { accountSid, authToken, ticker, inbound, outbound };
const byNumber = new Map<string, CallTimes>();
const bySid = new Map<string, CarrierCall>();
const byTimes = new Map<CallTimes, CarrierCall>();
const live = new Set<CarrierCall>();
const allTimes: CallTimes[] = [];
const errors: string[] = [];
const activeCalls: Array<[number, number]> = [];
let active = 0;
let restOther = 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const noteActive = (d: number) => activeCalls.push([monoUs(), (active += d)]);

const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    const params = Object.fromEntries(new URLSearchParams(body));
    const url = req.url ?? '';
    if (req.headers.authorization !== 'Basic ' + Buffer.from(`${accountSid}:${authToken}`).toString('base64')) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"code":20003,"message":"Authenticate","status":401}');
      return;
    }
    if (req.method === 'POST' && url.endsWith('/Calls.json')) {
      const times = byNumber.get(params.To ?? '');
      if (!times) {
        res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"code":21211,"message":"not a bench number","status":400}');
        return;
      }
      const call = new CarrierCall(times, params, ctx);
      bySid.set(call.sid, call);
      byTimes.set(times, call);
      live.add(call);
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ sid: call.sid, account_sid: accountSid, status: 'queued', to: params.To, from: params.From, price: null, price_unit: 'USD' }));
      void call.run().catch((err) => call.abandon(String(err)));
      return;
    }
    restOther++;
    const m = /\/Calls\/(CA[0-9a-f]{32})\.json$/.exec(url);
    if (m) {
      const call = bySid.get(m[1]);
      // The bridge ending a call (Status=completed): the carrier hangs up and reports it.
      if (call && req.method === 'POST' && params.Status === 'completed' && !call.times.hangupUs) {
        call.times.endedByServer = true;
        void call.hangup();
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ sid: m[1], account_sid: accountSid, status: 'completed', price: null, price_unit: 'USD', duration: null }));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"code":20404,"message":"not found","status":404}');
  });
});
server.keepAliveTimeout = 30_000;
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));

async function run(plan: LoadPlan): Promise<LoadResult> {
  const random = prng(plan.seed); // seeded: the churn's durations are the same run after run
  if (plan.lineNoiseDbfs !== undefined) ctx.lineNoise = new LineNoise(plan.lineNoiseDbfs, plan.seed);
  let next = 0;
  let replacing = true;
  const ended: Array<Promise<void>> = [];
  const gapMs = 1000 / plan.rampPerSecond;
  const countedDown = new Set<CarrierCall>();

  const place = async (): Promise<void> => {
    const i = next++;
    const times: CallTimes = { call: i, postUs: monoUs(), streamingUs: 0, hangupUs: 0, endDoneUs: 0, endedByServer: false, clears: 0, marksEchoed: 0 };
    allTimes.push(times);
    byNumber.set(benchNumber(i), times);
    noteActive(+1);
    let done!: () => void;
    ended.push(new Promise<void>((r) => (done = r)));
    try {
      const r = await fetch(`${plan.base}/api/calls`, { method: 'POST', headers: { Authorization: `Bearer ${plan.apiToken}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ to: benchNumber(i), instructions: `Benchmark call ${i}.` }) });
      const text = await r.text();
      if (r.status !== 201) throw new Error(`POST /api/calls -> ${r.status} ${text.slice(0, 200)}`);
    } catch (err) {
      times.error = String(err);
      times.hangupUs = times.endDoneUs = monoUs();
      noteActive(-1);
      errors.push(`call ${i}: ${times.error}`);
      return done();
    }
    const call = await waitFor(() => byTimes.get(times), 10_000);
    if (!call) {
      times.error = 'the bridge never called Calls.json';
      times.hangupUs = times.endDoneUs = monoUs();
      noteActive(-1);
      return done();
    }
    if (plan.churn) {
      const lifeMs = (plan.churn.minS + random() * (plan.churn.maxS - plan.churn.minS)) * 1000;
      setTimeout(() => {
        if (!replacing) return; // the run's end hangs it up
        void end(call);
        void place();
      }, lifeMs);
    }
    void call.ended.then(() => {
      live.delete(call);
      byTimes.delete(times);
      if (!countedDown.has(call)) (countedDown.add(call), noteActive(-1));
      if (call.times.error) errors.push(`call ${i}: ${call.times.error}`);
      done();
    });
  };
  const end = async (call: CarrierCall): Promise<void> => {
    if (call.times.hangupUs) return;
    const p = call.hangup();
    countedDown.add(call);
    noteActive(-1);
    await p;
  };

  for (let i = 0; i < plan.calls; i++) {
    void place();
    await sleep(gapMs);
  }
  // Steady state starts once every call streams (or 30 s, if some never do: they are reported).
  await waitFor(() => allTimes.slice(0, plan.calls).every((t) => t.streamingUs || t.hangupUs || t.error), 30_000);
  await sleep(plan.seconds * 1000);
  replacing = false;
  // Every call still up hangs up, at the ramp's pace; one placed a moment ago is caught once its
  // Calls.json has arrived.
  const until = Date.now() + 30_000;
  for (let pending = allTimes.filter((t) => !t.hangupUs); pending.length && Date.now() < until; pending = allTimes.filter((t) => !t.hangupUs)) {
    for (const t of pending) {
      const call = byTimes.get(t);
      if (!call || call.times.hangupUs) continue;
      void end(call);
      await sleep(gapMs);
    }
    await sleep(50);
  }
  // Calls the bridge ended itself were counted down when it did.
  await Promise.race([Promise.all(ended), sleep(30_000)]);
  await sleep(1000); // frames in flight arrive before the count
  ticker.stop();
  for (const t of allTimes) if (t.hangupUs && !t.endDoneUs) t.error ??= 'the call did not finish ending within 30 s';
  return { calls: allTimes, inboundSent: [...inbound.calls], outbound: outbound.report(), activeCalls, errors: errors.slice(0, 20), restOther };
}

async function waitFor<T>(f: () => T, ms: number): Promise<T | undefined> {
  const until = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > until) return undefined;
    await sleep(20);
  }
}

process.on('message', (m: { cmd: string; plan?: LoadPlan }) => {
  if (m.cmd === 'run') void run(m.plan!).then((r) => process.send!({ type: 'done', result: r }), (err) => process.send!({ type: 'failed', error: String(err) }));
  if (m.cmd === 'exit') process.exit(0);
});
process.send!({ type: 'ready', url: `http://127.0.0.1:${(server.address() as { port: number }).port}` });
