/**
 * Turns what the load and model processes saw into the bench's figures: latency per direction and per
 * phase, frames lost, server CPU per call-second, event-loop delay and GC per phase.
 *
 * Phases are times, not calls: `start` while any call is being set up (from its POST /api/calls to its
 * first agent frame at the callee), `end` while any call is being torn down (from the hang-up to the
 * stream closed, the `completed` callback answered and the model socket closed, plus END_TAIL_MS for
 * work the bridge defers), `steady` when neither. A frame belongs to the phase its send time falls in.
 */
import type { CallTimes } from './carrier-call.js';
import type { ReceivedFrames } from './frame-log.js';
import type { LoopHealth } from '../loop-health.js';
import type { MachineSample } from './machine.js';

export const END_TAIL_MS = 500;
/** An agent frame sent this close to the hang-up may rightly never arrive (it was on its way). */
export const HANGUP_GRACE_MS = 500;
const FRAME_US = 20_000;

export type Phase = 'start' | 'steady' | 'end';
export const PHASES: Phase[] = ['start', 'steady', 'end'];

export interface Dist {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export interface DirectionFigures {
  all: Dist;
  byPhase: Record<Phase, Dist>;
  /** Of the frames at or above the overall p99, the share sent in each phase. */
  tailShare: Record<Phase, number>;
  due: number;
  lost: number;
  /** Of `lost`, frames after the last one that arrived on their call: cut off by the hang-up (a latency above HANGUP_GRACE_MS) or a bridge that stopped forwarding. */
  lostAtEnd: number;
  /**
   * Where the frames lost at the end come from, to tell a bridge that sat on them (a late frame the callee
   * would have heard) from one that stopped on purpose (a call the bridge itself was ending): the calls
   * they were lost on, how many of those the bridge ended, and the most before the hang-up such a frame
   * was sent (ms).
   */
  lostAtEndCalls: number;
  lostAtEndCallsEndedByBridge: number;
  lostAtEndMaxBeforeHangupMs: number;
  /** Calls on which not one frame of this direction arrived (counted apart from `lost`). */
  callsWithoutAudio: number;
}

type Interval = [number, number];

function merge(iv: Interval[]): Interval[] {
  const s = iv.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out: Interval[] = [];
  for (const [a, b] of s) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** Whether [a, b] overlaps any merged interval (binary search). */
function overlaps(iv: Interval[], a: number, b: number): boolean {
  let lo = 0;
  let hi = iv.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (iv[mid][1] < a) lo = mid + 1;
    else if (iv[mid][0] > b) hi = mid - 1;
    else return true;
  }
  return false;
}

export class Phases {
  readonly start: Interval[];
  readonly end: Interval[];

  constructor(calls: CallTimes[], modelClosedUs: Map<number, number>) {
    this.start = merge(calls.map((c) => [c.postUs, c.streamingUs || c.hangupUs || c.postUs] as Interval));
    this.end = merge(
      calls.filter((c) => c.hangupUs).map((c) => [c.hangupUs, Math.max(c.endDoneUs, modelClosedUs.get(c.call) ?? 0, c.hangupUs) + END_TAIL_MS * 1000] as Interval),
    );
  }

  /** Seconds of [fromUs, toUs] in each phase (sampled every 10 ms). */
  seconds(fromUs: number, toUs: number): Record<Phase, number> {
    const out: Record<Phase, number> = { start: 0, steady: 0, end: 0 };
    for (let t = fromUs; t < toUs; t += 10_000) out[this.of(t)] += 0.01;
    return out;
  }

  /** The phase of an instant, or of an interval (any transition in it makes it that phase; end first). */
  of(a: number, b = a): Phase {
    if (overlaps(this.end, a, b)) return 'end';
    if (overlaps(this.start, a, b)) return 'start';
    return 'steady';
  }
}

export function dist(values: Float32Array | number[]): Dist {
  const s = Float64Array.from(values).sort();
  const at = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] : NaN);
  return { n: s.length, p50: at(50), p99: at(99), max: s.length ? s[s.length - 1] : NaN };
}

export interface SentCalls {
  calls: Map<number, { firstSendUs: number; lastSeq: number }>;
  /**
   * Frames of a call sent in this window must arrive: from when the path existed (the model session was
   * configured: caller audio before it has nowhere to go) to the hang-up less HANGUP_GRACE_MS (a frame
   * on its way when the callee hangs up may rightly be dropped). Undefined: the call never got that far.
   */
  dueUs: (call: number) => [number, number] | undefined;
  /** Whether the bridge ended the call (it asked the carrier to hang up), and when the carrier hung up. */
  end?: (call: number) => { byBridge: boolean; hangupUs: number } | undefined;
}

export function direction(recv: ReceivedFrames, sent: SentCalls, phases: Phases): DirectionFigures {
  const byPhase: Record<Phase, number[]> = { start: [], steady: [], end: [] };
  const phaseOf = new Uint8Array(recv.latencyMs.length);
  for (let i = 0; i < recv.latencyMs.length; i++) {
    const ph = phases.of(recv.sentUs[i]);
    phaseOf[i] = PHASES.indexOf(ph);
    byPhase[ph].push(recv.latencyMs[i]);
  }
  const all = dist(recv.latencyMs);
  const tail: Record<Phase, number> = { start: 0, steady: 0, end: 0 };
  let tailN = 0;
  for (let i = 0; i < recv.latencyMs.length; i++) {
    if (recv.latencyMs[i] >= all.p99) {
      tail[PHASES[phaseOf[i]]]++;
      tailN++;
    }
  }
  let due = 0;
  let lost = 0;
  let lostAtEnd = 0;
  let callsWithoutAudio = 0;
  let lostAtEndCalls = 0;
  let lostAtEndCallsEndedByBridge = 0;
  let lostAtEndMaxBeforeHangupMs = 0;
  for (const [call, s] of sent.calls) {
    const seen = recv.seen.get(call);
    const window = sent.dueUs(call);
    if (!window) continue;
    // Frame q went out at firstSendUs + (q-1) * 20 ms or a little later (the senders' clocks do not drift).
    const first = Math.max(1, Math.ceil((window[0] - s.firstSendUs) / FRAME_US) + 1);
    const last = Math.min(s.lastSeq, Math.floor((window[1] - s.firstSendUs) / FRAME_US) + 1);
    if (last < first) continue;
    if (!seen) {
      callsWithoutAudio++;
      continue;
    }
    let lastSeen = seen.length - 1;
    while (lastSeen > 0 && !seen[lastSeen]) lastSeen--;
    const atEndBefore = lostAtEnd;
    for (let q = first; q <= last; q++) {
      due++;
      if (!(q < seen.length && seen[q])) {
        lost++;
        if (q > lastSeen) {
          lostAtEnd++;
          const end = sent.end?.(call);
          if (end) lostAtEndMaxBeforeHangupMs = Math.max(lostAtEndMaxBeforeHangupMs, (end.hangupUs - (s.firstSendUs + (q - 1) * FRAME_US)) / 1000);
        }
      }
    }
    if (lostAtEnd > atEndBefore) {
      lostAtEndCalls++;
      if (sent.end?.(call)?.byBridge) lostAtEndCallsEndedByBridge++;
    }
  }
  return {
    all,
    byPhase: { start: dist(byPhase.start), steady: dist(byPhase.steady), end: dist(byPhase.end) },
    tailShare: { start: tail.start / (tailN || 1), steady: tail.steady / (tailN || 1), end: tail.end / (tailN || 1) },
    due,
    lost,
    lostAtEnd,
    lostAtEndCalls,
    lostAtEndCallsEndedByBridge,
    lostAtEndMaxBeforeHangupMs,
    callsWithoutAudio,
  };
}

export interface LoopFigures {
  samples: number;
  delayP99Ms: number;
  delayMaxMs: number;
  gcCount: number;
  gcTotalMs: number;
  gcMaxMs: number;
}

/** Event-loop delay (worst interval's p99, and max) and GC pauses of one process, per phase. */
export function loopByPhase(samples: Array<LoopHealth & { atUs: number }>, phases: Phases, fromUs: number, toUs: number, everyMs = 1000): Record<Phase | 'all', LoopFigures> {
  const empty = (): LoopFigures => ({ samples: 0, delayP99Ms: 0, delayMaxMs: 0, gcCount: 0, gcTotalMs: 0, gcMaxMs: 0 });
  const out = { all: empty(), start: empty(), steady: empty(), end: empty() };
  for (const s of samples) {
    const a = s.atUs - everyMs * 1000;
    if (s.atUs < fromUs || a > toUs) continue;
    for (const f of [out.all, out[phases.of(a, s.atUs)]]) {
      f.samples++;
      f.delayP99Ms = Math.max(f.delayP99Ms, s.delayP99Ms);
      f.delayMaxMs = Math.max(f.delayMaxMs, s.delayMaxMs);
      f.gcCount += s.gcCount;
      f.gcTotalMs += s.gcTotalMs;
      f.gcMaxMs = Math.max(f.gcMaxMs, s.gcMaxMs);
    }
  }
  return out;
}

/** Calls up at an instant, from the load's step function. */
function activeAt(steps: Array<[number, number]>, t: number): number {
  let v = 0;
  for (const [at, n] of steps) {
    if (at > t) break;
    v = n;
  }
  return v;
}

/** The bridge's CPU per call-second: over the whole run (setup and teardown included), and in steady seconds only. */
export function cpuPerCallSecond(
  bridgeCpuMs: number,
  calls: CallTimes[],
  machine: MachineSample[],
  steps: Array<[number, number]>,
  phases: Phases,
): { wholeRun: number; steady: number; callSeconds: number } {
  const callSeconds = calls.reduce((a, c) => a + (c.hangupUs > c.postUs ? (c.hangupUs - c.postUs) / 1e6 : 0), 0);
  let cpuMs = 0;
  let cs = 0;
  for (let i = 1; i < machine.length; i++) {
    const a = machine[i - 1].atUs;
    const b = machine[i].atUs;
    const n = activeAt(steps, a);
    if (n === 0 || phases.of(a, b) !== 'steady' || n !== activeAt(steps, b)) continue;
    cpuMs += (machine[i].procCores.bridge ?? 0) * ((b - a) / 1000);
    cs += (n * (b - a)) / 1e6;
  }
  return { wholeRun: callSeconds > 0 ? bridgeCpuMs / callSeconds : NaN, steady: cs > 0 ? cpuMs / cs : NaN, callSeconds };
}
