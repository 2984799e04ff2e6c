// Preloaded (`node --import`) into the bridge under test by the bridge bench only, never by `npm start`:
// every BENCH_PROBE_MS (default 1000) it appends one JSON line to BENCH_PROBE_FILE with the event-loop
// delay, utilisation and GC pauses of that interval (bench/loop-health.ts, the soak's own monitor) and
// the monotonic time (CLOCK_MONOTONIC, shared with the bench's other processes) at which it was taken.
// The product's code is untouched; the probe costs one native histogram and a GC observer.
//
// It also counts, in `vad`, what the main thread posts to the VAD worker (src/media/vad-worker/: one
// batch a turn, `{batch, ops, pcm}`), by wrapping Worker.prototype.postMessage in this process: caller
// frames that crossed the pre-gate (`frame` ops), restarts, opens and closes, and the worker's CPU
// (worker.cpuUsage(), from its first batch on: the model it loads at server start is not counted). So
// the bench can show whether caller audio reaches Silero at all without a counter in the product. Totals
// since the process started.
import { appendFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

const file = process.env.BENCH_PROBE_FILE;
if (file) {
  const { monitorLoop } = await tsImport('../loop-health.ts', import.meta.url);
  const loop = monitorLoop();
  const monoUs = () => {
    const [s, ns] = process.hrtime();
    return s * 1e6 + ns / 1e3;
  };
  const vad = { batches: 0, frames: 0, restarts: 0, opens: 0, closes: 0, workerCpuMs: 0 };
  /** The VAD workers seen: CPU ms at the first batch and at the last reading (a worker that died keeps its last). */
  const workerCpu = new Map();
  const cpuMs = (w) => (typeof w.cpuUsage === 'function' ? w.cpuUsage() : Promise.reject(new Error('no worker.cpuUsage'))).then((u) => (u.user + u.system) / 1000);
  const post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (msg, transfer) {
    if (msg && Array.isArray(msg.ops)) {
      if (!workerCpu.has(this)) {
        const c = { first: 0, last: 0 };
        workerCpu.set(this, c);
        cpuMs(this).then((ms) => (c.first = c.last = ms), () => undefined);
      }
      vad.batches++;
      for (const o of msg.ops) {
        if (o.op === 'frame') vad.frames++;
        else if (o.op === 'restart') vad.restarts++;
        else if (o.op === 'open') vad.opens++;
        else if (o.op === 'close') vad.closes++;
      }
    }
    return post.call(this, msg, transfer);
  };
  const readWorkers = () => {
    for (const [w, c] of workerCpu) {
      cpuMs(w).then(
        (ms) => (c.last = Math.max(c.last, ms)),
        () => undefined, // not running any more
      );
    }
  };
  setInterval(() => {
    vad.workerCpuMs = [...workerCpu.values()].reduce((a, c) => a + c.last - c.first, 0);
    appendFileSync(file, JSON.stringify({ atUs: monoUs(), ...loop.sample(), vad }) + '\n');
    readWorkers();
  }, Number(process.env.BENCH_PROBE_MS ?? 1000)).unref();
}
