/**
 * `npm run bench [-- --calls N --seconds S]`: the concurrent-call benchmark (default 100 calls).
 */
import { parseArgs } from 'node:util';
import { printConcurrent, runConcurrentCalls } from './concurrent-calls.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '10' },
  },
});
const calls = Number(values.calls);
const seconds = Number(values.seconds);
if (!Number.isInteger(calls) || calls < 1 || !(seconds > 0)) {
  console.error('usage: npm run bench -- --calls N --seconds S');
  process.exit(2);
}
console.log(`Callwright benchmark, node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
printConcurrent(await runConcurrentCalls({ calls, seconds }));
