/**
 * How well one thread keeps up: event-loop delay (how late a timer fires; a stalled loop answers nothing,
 * HTTP included), event-loop utilization (busy share of wall time) and garbage-collection pauses. The soak
 * samples it on each of its threads, so a missed bar can be told apart from a harness that fell behind.
 */
import { monitorEventLoopDelay, performance, PerformanceObserver, type EventLoopUtilization } from 'node:perf_hooks';

export interface LoopHealth {
  /** Event-loop delay since the previous sample, ms. */
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
  /** Busy share of wall time since the previous sample, 0..1. */
  utilization: number;
  /** GC pauses since the previous sample. */
  gcCount: number;
  gcTotalMs: number;
  gcMaxMs: number;
  heapUsedMb: number;
}

export interface LoopMonitor {
  /** Figures since the previous call (or since start), then starts a new interval. */
  sample(): LoopHealth;
  stop(): void;
}

const RESOLUTION_MS = 10;

export function monitorLoop(): LoopMonitor {
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  // The histogram's samples include the sampling timer's own interval.
  const late = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
  delay.enable();
  let elu: EventLoopUtilization = performance.eventLoopUtilization();
  let gc = { count: 0, total: 0, max: 0 };
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      gc.total += e.duration;
      gc.max = Math.max(gc.max, e.duration);
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return {
    sample() {
      const used = performance.eventLoopUtilization(elu);
      elu = performance.eventLoopUtilization();
      const out: LoopHealth = {
        delayP50Ms: late(delay.percentile(50)),
        delayP99Ms: late(delay.percentile(99)),
        delayMaxMs: late(delay.max),
        utilization: used.utilization,
        gcCount: gc.count,
        gcTotalMs: gc.total,
        gcMaxMs: gc.max,
        heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20,
      };
      delay.reset();
      gc = { count: 0, total: 0, max: 0 };
      return out;
    },
    stop() {
      delay.disable();
      obs.disconnect();
    },
  };
}

/** Combines interval samples into whole-run figures (percentiles: the worst interval's). */
export function combineHealth(samples: LoopHealth[]): LoopHealth & { intervals: number } {
  const max = (f: (h: LoopHealth) => number) => samples.reduce((m, h) => Math.max(m, f(h)), 0);
  const sum = (f: (h: LoopHealth) => number) => samples.reduce((m, h) => m + f(h), 0);
  return {
    intervals: samples.length,
    delayP50Ms: max((h) => h.delayP50Ms),
    delayP99Ms: max((h) => h.delayP99Ms),
    delayMaxMs: max((h) => h.delayMaxMs),
    utilization: samples.length ? sum((h) => h.utilization) / samples.length : 0,
    gcCount: sum((h) => h.gcCount),
    gcTotalMs: sum((h) => h.gcTotalMs),
    gcMaxMs: max((h) => h.gcMaxMs),
    heapUsedMb: max((h) => h.heapUsedMb),
  };
}
