/**
 * Measures what calls starting and ending cost the server's event loop: the server runs as its own
 * process (dist/main.js, as `npm start` runs it) under `--cpu-prof`, the Twilio and OpenAI Realtime
 * simulators run here; N short calls are placed a little apart (each: greeting, one exchange, goodbye and
 * end_call, then the records), so starts and ends overlap live audio of the others. The profile is then
 * read as a timeline: consecutive non-idle samples are one stretch the event loop could not run anything
 * else (a media frame included). Reported: stretches over 1 ms (count, total, longest) and the product
 * functions they were spent in, plus CPU per call.
 *
 *   npm run build && node --import tsx scripts/profile-call-churn.ts [--calls 30] [--gap-ms 150] [--keep DIR]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startTwilioSim, type CalleeScript } from '../test/sim/twilio/index.js';
import { startOpenAIRealtimeSim } from '../test/sim/openai-realtime/index.js';
import { startServerProcess } from '../test/sim/server-process.js';
import { freePort, simEnv, toRealtimeScenario, SIM_ACCOUNT_SID, SIM_AUTH_TOKEN, SIM_OPENAI_KEY, type Conversation } from '../test/sim/stack.js';

const { values } = parseArgs({ options: { calls: { type: 'string' }, 'gap-ms': { type: 'string' }, keep: { type: 'string' }, interval: { type: 'string' } } });
const calls = Number(values.calls ?? 30);
const gapMs = Number(values['gap-ms'] ?? 150);
const intervalUs = Number(values.interval ?? 100);

const script: CalleeScript = {
  steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { say: 'Yes, what is it?' }, { waitForAgent: true, quietMs: 300, timeoutMs: 8000 }],
};
const conversation: Conversation = {
  turns: [{ say: "Hi, I'm an AI assistant calling for Raju." }, { say: 'I would like one chicken biryani at seven.' }, { say: 'Thank you, goodbye!', call: { name: 'end_call', args: { reason: 'done' } } }],
  userTranscripts: ['Hello?', 'Yes, what is it?'],
};

const twilio = await startTwilioSim({ accountSid: SIM_ACCOUNT_SID, authToken: SIM_AUTH_TOKEN, numbers: ['+14155550100'], script: () => script });
const openai = await startOpenAIRealtimeSim({ apiKey: SIM_OPENAI_KEY, scenario: () => toRealtimeScenario(conversation) });
const dataDir = mkdtempSync(join(tmpdir(), 'callwright-churn-'));
const profDir = values.keep ?? mkdtempSync(join(tmpdir(), 'callwright-prof-'));
const port = await freePort();
const env = { ...simEnv({ port, dataDir, twilioUrl: twilio.url, openaiUrl: openai.url }), LOG_LEVEL: 'info', RECORD_CALLS: 'false', MAX_CONCURRENT_CALLS: '0', MAX_CALLS_PER_DAY: '0', MAX_COST_PER_CALL_USD: '0', MAX_COST_PER_DAY_USD: '0', BARGE_IN_VAD: 'energy' };
const server = await startServerProcess(env, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-interval=${intervalUs}`]);
const ids: string[] = [];
const t0 = Date.now();
for (let i = 0; i < calls; i++) {
  const r = await server.api('POST', '/api/calls', { to: `+1415555${String(1000 + i).padStart(4, '0')}`, instructions: `Profile call ${i}.` });
  if (r.status !== 201) throw new Error(`create -> ${r.status} ${JSON.stringify(r.body)}`);
  ids.push(r.body.id);
  await new Promise((res) => setTimeout(res, gapMs));
}
for (const id of ids) {
  for (;;) {
    const r = await server.api('GET', `/api/calls/${id}`);
    if (r.body.status === 'ended') break;
    await new Promise((res) => setTimeout(res, 200));
  }
}
const wallS = (Date.now() - t0) / 1000;
const reasons = new Map<string, number>();
for (const id of ids) {
  const r = await server.api('GET', `/api/calls/${id}`);
  reasons.set(r.body.endReason, (reasons.get(r.body.endReason) ?? 0) + 1);
}
await new Promise((res) => setTimeout(res, 500));
await server.stop();
await twilio.close?.();
await openai.close?.();

const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))!;
const prof = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
  startTime: number;
};
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (id: number) => {
  const f = byId.get(id)!.callFrame;
  const short = f.url.replace(/^.*\/(dist|node_modules)\//, '$1/');
  return `${f.functionName || '(anon)'} ${short}:${f.lineNumber + 1}`;
};
/** The innermost product (dist/) frame of a sample, else its top frame. */
const owner = (id: number) => {
  for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) if (byId.get(n)!.callFrame.url.includes('/dist/')) return label(n);
  return label(id);
};
const idle = (id: number) => ['(idle)'].includes(byId.get(id)!.callFrame.functionName);
// Blocks: runs of consecutive non-idle samples (timeDeltas[i] is the time before sample i).
const blocks: Array<{ ms: number; where: Map<string, number> }> = [];
let cur: { ms: number; where: Map<string, number> } | undefined;
let busyMs = 0;
let startupEnd = 0;
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i]!;
  // A sample much longer than the interval is the process being descheduled (a loaded machine), not
  // work: each counts for at most three intervals, so blocks read as CPU time rather than wall time.
  const dt = Math.min((prof.timeDeltas[i + 1] ?? 0) / 1000, (3 * intervalUs) / 1000);
  if (idle(id)) {
    if (cur) blocks.push(cur);
    cur = undefined;
    continue;
  }
  busyMs += dt;
  cur ??= { ms: 0, where: new Map() };
  cur.ms += dt;
  const w = owner(id);
  cur.where.set(w, (cur.where.get(w) ?? 0) + dt);
}
if (cur) blocks.push(cur);
void startupEnd;
// The first block over 50 ms is the server's own start-up (module loading, migrations): left out.
const first = blocks.findIndex((b) => b.ms > 50);
const big = blocks.filter((b, i) => b.ms > 1 && i !== first);
if (first >= 0) console.log(`start-up block left out: ${blocks[first]!.ms.toFixed(0)} ms`);
const sorted = big.map((b) => b.ms).sort((a, b) => a - b);
const q = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : 0);
console.log(`${calls} calls, ${gapMs} ms apart, ${wallS.toFixed(1)} s wall; end reasons ${JSON.stringify(Object.fromEntries(reasons))}`);
console.log(`server busy ${busyMs.toFixed(0)} ms in the profile (${(busyMs / calls).toFixed(1)} ms per call, start-up included)`);
console.log(`blocks > 1 ms: ${big.length}, total ${big.reduce((s, b) => s + b.ms, 0).toFixed(1)} ms; p50 ${q(0.5).toFixed(2)} p90 ${q(0.9).toFixed(2)} max ${q(1).toFixed(2)} ms`);
const top = [...big].sort((a, b) => b.ms - a.ms).slice(0, 12);
for (const b of top) {
  const w = [...b.where].sort((x, y) => y[1] - x[1]).slice(0, 4).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(' | ');
  console.log(`  ${b.ms.toFixed(2)} ms: ${w}`);
}
const agg = new Map<string, number>();
for (const b of big) for (const [k, v] of b.where) agg.set(k, (agg.get(k) ?? 0) + v);
console.log('time inside blocks > 1 ms, by innermost product function:');
for (const [k, v] of [...agg].sort((x, y) => y[1] - x[1]).slice(0, 25)) console.log(`  ${v.toFixed(1).padStart(8)} ms  ${k}`);
console.log(`profile: ${join(profDir, file)}`);
if (!values.keep) rmSync(profDir, { recursive: true, force: true });
rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
