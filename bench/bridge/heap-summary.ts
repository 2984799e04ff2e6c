// Reads a sampling heap profile written by heap-probe.mjs (BENCH_HEAP_PROF=DIR npm run bench -- --only bridge ...)
// and prints where the bridge allocated: by the function that allocated, and by the deepest product function on
// the stack (the product code that asked for it, whatever library did the allocating). With --frames N (caller
// frames sent in the run, from the bench's report), the bytes per frame pair.
//
//   node --import tsx bench/bridge/heap-summary.ts /tmp/heap/product.heapprofile --frames 24585
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { frameLabel, isProductFrame, type CallFrame } from './profile-frames.js';

interface Node {
  callFrame: CallFrame;
  selfSize: number;
  children: Node[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { frames: { type: 'string' } } });
const file = positionals[0];
if (!file) throw new Error('usage: heap-summary.ts FILE [--frames N]');
const frames = values.frames === undefined ? undefined : Number(values.frames);
const profile = JSON.parse(readFileSync(file, 'utf8')) as { head: Node };

const bySelf = new Map<string, number>();
const byProduct = new Map<string, number>();
let total = 0;
const walk = (n: Node, product: string | undefined) => {
  const here = frameLabel(n.callFrame);
  const owner = isProductFrame(n.callFrame) ? here : product;
  if (n.selfSize) {
    total += n.selfSize;
    bySelf.set(here, (bySelf.get(here) ?? 0) + n.selfSize);
    const key = owner ?? '(no product frame)';
    byProduct.set(key, (byProduct.get(key) ?? 0) + n.selfSize);
  }
  for (const c of n.children) walk(c, owner);
};
walk(profile.head, undefined);

const top = (m: Map<string, number>, n = 25) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `  ${(v / 1e6).toFixed(1).padStart(8)} MB ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`)
    .join('\n');
console.log(`${file}: ${(total / 1e6).toFixed(1)} MB allocated (sampled)${frames ? `, ${((total / frames) / 1024).toFixed(1)} KB per frame pair over ${frames} caller frames` : ''}`);
console.log(`\nBy the function that allocated:\n${top(bySelf)}`);
console.log(`\nBy the deepest product function on the stack:\n${top(byProduct)}`);
