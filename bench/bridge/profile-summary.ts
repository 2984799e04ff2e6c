/**
 * Reads a V8 CPU profile of the bridge (`BENCH_CPU_PROF=DIR npm run bench -- --only bridge ...`) and says
 * where the main thread's time went: how long the event loop was blocked at a stretch (a "chunk" is a run
 * of samples with no idle one between them: a task that held the loop that carries live audio), which
 * product functions those chunks ran, and the CPU per call of each function, for before/after comparisons
 * on a machine too busy for wall-clock latency to mean much.
 *
 *   node --import tsx bench/bridge/profile-summary.ts /tmp/prof/product.cpuprofile --calls 97 [--top 30] [--chunk-ms 1]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { frameLabel, isProductFrame, place, type CallFrame } from './profile-frames.js';

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { calls: { type: 'string' }, top: { type: 'string' }, 'chunk-ms': { type: 'string' } } });
const file = positionals[0];
if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [--calls N] [--top N] [--chunk-ms MS]');
const calls = Number(values.calls ?? 0);
const top = Number(values.top ?? 30);
const chunkMs = Number(values['chunk-ms'] ?? 1);
const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;

const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const isProduct = (n: ProfileNode) => isProductFrame(n.callFrame);
const label = (n: ProfileNode) => frameLabel(n.callFrame);

const stackCache = new Map<number, ProfileNode[]>();
/** Root first. */
function stack(id: number): ProfileNode[] {
  let s = stackCache.get(id);
  if (s) return s;
  s = [];
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) s.unshift(byId.get(cur)!);
  stackCache.set(id, s);
  return s;
}

// The time a sample stands for is the gap to the next one.
const dur = prof.samples.map((_, i) => (prof.timeDeltas[i + 1] ?? 0) / 1000);
const idleName = (n: ProfileNode) => n.callFrame.functionName === '(idle)';

/**
 * The two message handlers that carry a live call's audio: the carrier's media stream and the model's
 * socket. What runs under them is mostly per frame (their start/stop messages are a few per call);
 * everything else (REST, callbacks, TwiML, session start, the end, timers, the store) is call control.
 */
const MEDIA_ENTRIES = [/media-connection\.js:71$/, /openai-realtime\/engine\.js:85$/];
const category = new Map<string, number>();

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
const deepestProduct = new Map<string, number>();
let total = 0;
let idle = 0;
let gc = 0;
let program = 0;
const chunks: Array<{ ms: number; from: number; to: number }> = [];
let open: { ms: number; from: number; to: number } | undefined;

// From the first call placed (POST /api/calls): the server's own start-up is not a call's cost.
const firstCall = prof.samples.findIndex((id) => stack(id).some((f) => isProduct(f) && f.callFrame.functionName === 'place'));
for (let i = Math.max(0, firstCall); i < prof.samples.length; i++) {
  const ms = dur[i];
  total += ms;
  const node = byId.get(prof.samples[i])!;
  if (idleName(node)) {
    idle += ms;
    if (open) chunks.push(open), (open = undefined);
    continue;
  }
  if (node.callFrame.functionName === '(garbage collector)') gc += ms;
  if (node.callFrame.functionName === '(program)') program += ms;
  open ??= { ms: 0, from: i, to: i };
  open.ms += ms;
  open.to = i;
  self.set(label(node), (self.get(label(node)) ?? 0) + ms);
  const s = stack(node.id);
  const seen = new Set<string>();
  for (const f of s) {
    if (!isProduct(f)) continue;
    const l = label(f);
    if (!seen.has(l)) (seen.add(l), inclusive.set(l, (inclusive.get(l) ?? 0) + ms));
  }
  const entry = s.find(isProduct);
  const cat = !entry ? (node.callFrame.functionName.startsWith('(') ? node.callFrame.functionName : 'no product frame (node, packages)') : MEDIA_ENTRIES.some((r) => r.test(label(entry))) ? 'media and model messages' : 'call control';
  category.set(cat, (category.get(cat) ?? 0) + ms);
  const deep = [...s].reverse().find(isProduct);
  const owner = deep ? label(deep) : `(no product frame) ${place(node.callFrame.url) || node.callFrame.functionName}`;
  deepestProduct.set(owner, (deepestProduct.get(owner) ?? 0) + ms);
}
if (open) chunks.push(open);

const fmt = (ms: number) => ms.toFixed(1).padStart(9);
const perCall = (ms: number) => (calls ? `${(ms / calls).toFixed(2).padStart(7)} ms/call` : '');
const busy = total - idle;
console.log(`${file}: from the first call placed, ${(total / 1000).toFixed(1)} s sampled, main thread busy ${(busy / 1000).toFixed(2)} s (${((busy / total) * 100).toFixed(0)}%), GC ${(gc / 1000).toFixed(2)} s, (program) ${(program / 1000).toFixed(2)} s${calls ? `; ${calls} calls: ${(busy / calls).toFixed(1)} ms busy per call` : ''}`);

const sorted = [...chunks].sort((a, b) => b.ms - a.ms);
const over = (t: number) => chunks.filter((c) => c.ms > t);
console.log(`\nBlocking chunks (no idle sample between): ${chunks.length}; over ${chunkMs} ms: ${over(chunkMs).length} (${over(chunkMs).reduce((a, c) => a + c.ms, 0).toFixed(0)} ms), over 5 ms: ${over(5).length}, over 20 ms: ${over(20).length}; longest ${sorted[0]?.ms.toFixed(1)} ms`);
for (const c of sorted.slice(0, 8)) {
  const parts = new Map<string, number>();
  for (let i = c.from; i <= c.to; i++) {
    const s = stack(prof.samples[i]);
    const entry = s.find(isProduct);
    const deep = [...s].reverse().find(isProduct);
    const k = entry ? `${label(entry)} > ${deep === entry ? '' : label(deep!)}` : `(no product frame) ${place(s.at(-1)!.callFrame.url) || s.at(-1)!.callFrame.functionName}`;
    parts.set(k, (parts.get(k) ?? 0) + dur[i]);
  }
  console.log(`  ${c.ms.toFixed(1)} ms chunk:`);
  for (const [k, ms] of [...parts].sort((a, b) => b[1] - a[1]).slice(0, 6)) console.log(`    ${fmt(ms)} ms  ${k}`);
}

console.log('\nBusy time by what the task was:');
for (const [k, ms] of [...category].sort((a, b) => b[1] - a[1])) console.log(`${fmt(ms)} ms ${perCall(ms)}  ${k}`);

const table = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, ms] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${fmt(ms)} ms ${perCall(ms)}  ${k}`);
};
table('Busy time by the deepest product frame on the stack (the product code that asked for it):', deepestProduct);
table('Inclusive time of product functions:', inclusive);
table('Self time (the leaf), all code:', self);
