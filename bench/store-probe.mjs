// Loaded into the server process by the store benchmark: every 250 ms it appends the server's own
// event-loop delay (p99 and max over the interval, loop-health.ts) to STORE_PROBE_FILE, with the time,
// so the benchmark can take exactly its measured window.
import { appendFileSync } from 'node:fs';
import { tsImport } from 'tsx/esm/api';

const file = process.env.STORE_PROBE_FILE;
if (file) {
  const { monitorLoop } = await tsImport('./loop-health.ts', import.meta.url);
  const loop = monitorLoop();
  setInterval(() => appendFileSync(file, JSON.stringify({ at: Date.now(), ...loop.sample() }) + '\n'), 250).unref();
}
