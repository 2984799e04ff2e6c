// Preloaded (`node --import`) into the bridge under test by the bridge bench only, with BENCH_HEAP_PROF=DIR:
// V8's sampling heap profiler, from the moment the bench starts placing calls (it sends SIGUSR2) until the
// bridge exits, with the objects that minor and major GCs collected kept in the profile. That is what
// "allocation per frame pair" means: a frame's garbage is the cost, not what is still alive at the end
// (`node --heap-prof` keeps only the latter). bench/bridge/heap-summary.ts reads the file.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_HEAP_PROF_FILE;
if (file) {
  const session = new Session();
  session.connect();
  let sampling = false;
  process.on('SIGUSR2', () => {
    if (sampling) return;
    sampling = true;
    session.post('HeapProfiler.startSampling', {
      samplingInterval: Number(process.env.BENCH_HEAP_PROF_INTERVAL ?? 4096),
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  });
  // An in-thread inspector session answers synchronously, so the profile is written before the exit completes.
  process.on('exit', () => {
    if (!sampling) return;
    session.post('HeapProfiler.stopSampling', (err, r) => {
      if (err) console.error(`heap probe: ${err.message}`);
      else writeFileSync(file, JSON.stringify(r.profile));
    });
  });
}
