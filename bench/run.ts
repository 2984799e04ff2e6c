/**
 * `npm run bench`: every benchmark, with its defaults. Parts and sizes can be chosen:
 *   npm run bench -- --only calls --calls 200 --seconds 15
 *   npm run bench -- --only gemini --calls 150
 *   npm run bench -- --only audio
 *   npm run bench -- --only retrieval
 */
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { printConcurrent, runConcurrentCalls } from './concurrent-calls.js';
import { runAudioBench } from './audio.js';
import { printRetrieval, runRetrievalBench } from './retrieval.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    calls: { type: 'string' },
    seconds: { type: 'string', default: '10' },
  },
});
const only = values.only;
if (only && !['calls', 'gemini', 'audio', 'retrieval'].includes(only)) {
  console.error('usage: npm run bench [-- --only calls|gemini|audio|retrieval] [--calls N] [--seconds S]');
  process.exit(2);
}
const seconds = Number(values.seconds);
const callsFor = (dflt: number) => (values.calls ? Number(values.calls) : dflt);
if (!(seconds > 0) || (values.calls && !(Number(values.calls) >= 1))) {
  console.error('--calls and --seconds must be positive numbers');
  process.exit(2);
}
console.log(`Callwright benchmarks, node ${process.version}, ${cpus().length} cores`);
if (!only || only === 'calls') printConcurrent(await runConcurrentCalls({ calls: callsFor(100), seconds, engine: 'openai' }));
if (!only || only === 'gemini') printConcurrent(await runConcurrentCalls({ calls: callsFor(100), seconds, engine: 'gemini' }));
if (!only || only === 'audio') await runAudioBench();
if (!only || only === 'retrieval') if (!printRetrieval(await runRetrievalBench())) process.exitCode = 1;
