// Reads a sampling heap profile written by heap-probe.mjs (BENCH_HEAP_PROF=DIR npm run bench -- --only bridge ...)
// and prints where the bridge allocated: by the function that allocated, and by the deepest product function on
// the stack (the product code that asked for it, whatever library did the allocating). With --frames N (caller
// frames sent in the run, from the bench's report), the bytes per frame pair.
//
//   node --import tsx bench/bridge/heap-summary.ts /tmp/heap/product.heapprofile --frames 24585
import { readFileSync } from 'node:fs';

interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
}

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const framesAt = args.indexOf('--frames');
const frames = framesAt >= 0 ? Number(args[framesAt + 1]) : undefined;
if (!file) {
  console.error('usage: heap-summary.ts FILE [--frames N]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as { head: Node };

const PRODUCT = /\/dist\/(?!.*node_modules)/;
const where = (f: Node['callFrame']) => `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^file:\/\//, '')}:${f.lineNumber + 1}`;
const bySelf = new Map<string, number>();
const byProduct = new Map<string, number>();
let total = 0;
const walk = (n: Node, product: string | undefined) => {
  const here = where(n.callFrame);
  const owner = PRODUCT.test(n.callFrame.url) ? here : product;
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
