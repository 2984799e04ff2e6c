// Loaded into the soak's server process (with --expose-gc). On SIGUSR2 it collects garbage and prints
// the process's memory, so the soak compares like with like (live data, not garbage not yet collected).
// Every 10 s it prints how well the server's event loop kept up (loop-health.ts, loaded through tsx's
// scoped import so it does not depend on when the server's own loader registers).
import { tsImport } from 'tsx/esm/api';

process.on('SIGUSR2', () => {
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  process.stdout.write(`SOAKMEM ${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed })}\n`);
});

const { monitorLoop } = await tsImport('./loop-health.ts', import.meta.url);
const loop = monitorLoop();
setInterval(() => process.stdout.write(`SOAKLOOP ${JSON.stringify(loop.sample())}\n`), 10_000).unref();
