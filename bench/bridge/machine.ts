/**
 * How busy the machine was, and who made it busy: /proc/stat for the whole machine, /proc/<pid>/stat for
 * each bench process (the bridge under test, the load, the model, this orchestrator). What the machine
 * did beyond the bench's own processes is someone else's work; a run where that was large is flagged
 * as disturbed (its tail says more about the neighbours than about the bridge).
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { processCpuMs } from '../stats.js';
import { monoUs } from './tag.js';

export interface MachineSample {
  atUs: number;
  /** Machine busy over the interval, in cores (2 = both cores of a 2-core machine). */
  busyCores: number;
  /** CPU of each bench process over the interval, in cores. */
  procCores: Record<string, number>;
  /** Busy that none of the bench's processes account for, in cores. */
  othersCores: number;
}

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: idle and iowait are not busy. Steal is: the core
  // was taken by another guest, which is exactly "busy with something else".
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total };
}

export class MachineMonitor {
  readonly samples: MachineSample[] = [];
  private timer?: NodeJS.Timeout;
  private last = { at: monoUs(), m: machineTicks(), p: {} as Record<string, number> };
  readonly cores = cpus().length;

  constructor(private readonly pids: Record<string, number>) {
    this.last.p = this.procMs();
  }

  private procMs(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      try {
        out[name] = processCpuMs(pid);
      } catch {
        out[name] = this.last?.p?.[name] ?? 0; // exited
      }
    }
    return out;
  }

  start(everyMs = 1000): void {
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): void {
    const at = monoUs();
    const m = machineTicks();
    const p = this.procMs();
    const wallMs = (at - this.last.at) / 1000;
    const busyCores = m.total > this.last.m.total ? ((m.busy - this.last.m.busy) / (m.total - this.last.m.total)) * this.cores : 0;
    const procCores: Record<string, number> = {};
    let ours = 0;
    for (const name of Object.keys(p)) {
      procCores[name] = wallMs > 0 ? (p[name] - (this.last.p[name] ?? 0)) / wallMs : 0;
      ours += procCores[name];
    }
    this.samples.push({ atUs: at, busyCores, procCores, othersCores: Math.max(0, busyCores - ours) });
    this.last = { at, m, p };
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

export interface MachineVerdict {
  busyAvgCores: number;
  busyPeakCores: number;
  othersAvgCores: number;
  othersPeakCores: number;
  /** Share of 1 s samples where the machine had less than a tenth of a core left. */
  saturatedShare: number;
  disturbed: boolean;
  reason?: string;
}

/** Other processes above this share of one core on average, or saturating the machine, spoil a run. */
export const OTHERS_MAX_AVG_CORES = 0.2;

export function judgeMachine(samples: MachineSample[], cores: number): MachineVerdict {
  const n = Math.max(1, samples.length);
  const avg = (f: (s: MachineSample) => number) => samples.reduce((a, s) => a + f(s), 0) / n;
  const peak = (f: (s: MachineSample) => number) => samples.reduce((a, s) => Math.max(a, f(s)), 0);
  const saturated = samples.filter((s) => s.busyCores > cores - 0.1);
  const v: MachineVerdict = {
    busyAvgCores: avg((s) => s.busyCores),
    busyPeakCores: peak((s) => s.busyCores),
    othersAvgCores: avg((s) => s.othersCores),
    othersPeakCores: peak((s) => s.othersCores),
    saturatedShare: saturated.length / n,
    disturbed: false,
  };
  const othersWhenSaturated = saturated.filter((s) => s.othersCores > 0.5).length;
  if (v.othersAvgCores > OTHERS_MAX_AVG_CORES) {
    v.disturbed = true;
    v.reason = `other processes used ${(v.othersAvgCores * 100).toFixed(0)}% of a core on average (peak ${(v.othersPeakCores * 100).toFixed(0)}%; limit ${OTHERS_MAX_AVG_CORES * 100}%)`;
  } else if (othersWhenSaturated > 0) {
    v.disturbed = true;
    v.reason = `the machine was saturated with other processes using over half a core in ${othersWhenSaturated} of ${samples.length} seconds`;
  }
  return v;
}
