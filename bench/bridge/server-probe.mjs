// Preloaded (`node --import`) into the bridge under test by the bridge bench only, never by `npm start`:
// every BENCH_PROBE_MS (default 1000) it appends one JSON line to BENCH_PROBE_FILE with the event-loop
// delay, utilisation and GC pauses of that interval (bench/loop-health.ts, the soak's own monitor) and
// the monotonic time (CLOCK_MONOTONIC, shared with the bench's other processes) at which it was taken.
// The product's code is untouched; the probe costs one native histogram and a GC observer.
import { appendFileSync } from 'node:fs';
import { tsImport } from 'tsx/esm/api';

const file = process.env.BENCH_PROBE_FILE;
if (file) {
  const { monitorLoop } = await tsImport('../loop-health.ts', import.meta.url);
  const loop = monitorLoop();
  const monoUs = () => {
    const [s, ns] = process.hrtime();
    return s * 1e6 + ns / 1e3;
  };
  setInterval(() => appendFileSync(file, JSON.stringify({ atUs: monoUs(), ...loop.sample() }) + '\n'), Number(process.env.BENCH_PROBE_MS ?? 1000)).unref();
}
