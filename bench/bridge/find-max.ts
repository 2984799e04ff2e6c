/**
 * The search behind `--find-max`: the largest number of calls that still meets a bar, for any target.
 * Kept apart from the runs so that the search itself is tested (test/unit/bench-bridge.test.ts) and the
 * product and the pass-through baseline are searched the same way, in the same run.
 */

export interface FindMaxStep {
  calls: number;
  pass: boolean;
  /** The worse direction's p99 added latency, ms. */
  p99: number;
  disturbed: boolean;
}

export interface FindMaxResult {
  largest: number;
  steps: FindMaxStep[];
}

/**
 * Doubles N from `start` until a step fails, then halves the gap until it is within 10% (or 5 calls).
 * A step is one bench run; `runStep` reruns a disturbed one itself. Stops doubling at `cap` (a machine
 * that passes at 4,000 calls says more about the harness than about the bridge).
 */
export async function findLargest(start: number, runStep: (calls: number) => Promise<FindMaxStep>, cap = 4000): Promise<FindMaxResult> {
  if (!(start >= 1)) throw new Error(`find-max: start must be at least 1 call, got ${start}`);
  const steps: FindMaxStep[] = [];
  const tryN = async (calls: number) => {
    const s = await runStep(calls);
    steps.push(s);
    return s.pass;
  };
  let lo = 0;
  let hi = 0;
  for (let n = start; ; n *= 2) {
    if (await tryN(n)) lo = n;
    else {
      hi = n;
      break;
    }
    if (n >= cap) return { largest: lo, steps };
  }
  while (hi - lo > Math.max(5, lo * 0.1)) {
    const mid = Math.round((lo + hi) / 2);
    if (await tryN(mid)) lo = mid;
    else hi = mid;
  }
  return { largest: lo, steps };
}

/** One line for a search's outcome: the largest N and the p99 of every step tried, in the order tried. */
export function describeFindMax(label: string, r: FindMaxResult, barMs: number): string {
  const steps = r.steps.map((s) => `${s.calls}: ${s.p99.toFixed(1)} ms${s.pass ? '' : ' (fail)'}${s.disturbed ? ' (disturbed)' : ''}`).join(', ');
  return `${label}: largest N with p99 under ${barMs} ms each way and nothing lost: ${r.largest} (p99 at N=${steps})`;
}
