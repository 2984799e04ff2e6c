// Loaded into the soak's server process (with --expose-gc): on SIGUSR2 it collects garbage and prints
// the process's memory, so the soak compares like with like (live data, not garbage not yet collected).
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  process.stdout.write(`SOAKMEM ${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed })}\n`);
});
