/** Prints the bridge bench's figures, the product's ratios to the baseline, and whether the run counts. */
import { fmt } from '../stats.js';
import { PHASES, type DirectionFigures, type Dist } from './analyze.js';
import type { TargetResult } from './bridge-bench.js';

const d = (x: Dist) => `${fmt(x.p50).padStart(7)} ${fmt(x.p99).padStart(8)} ${fmt(x.max).padStart(8)} ${String(x.n).padStart(9)}`;
const pct = (x: number) => `${fmt(x * 100, 0)}%`;

function printDirection(name: string, f: DirectionFigures): void {
  console.log(`  ${name.padEnd(24)} ${'all'.padEnd(7)} ${d(f.all)}   lost ${f.lost} of ${f.due}${f.lostAtEnd ? ` (${f.lostAtEnd} at the hang-up, on ${f.lostAtEndCalls} calls of which the bridge ended ${f.lostAtEndCallsEndedByBridge}; sent up to ${fmt(f.lostAtEndMaxBeforeHangupMs, 0)} ms before the hang-up)` : ''}${f.callsWithoutAudio ? `, ${f.callsWithoutAudio} calls with no audio` : ''}`);
  for (const p of PHASES) console.log(`  ${''.padEnd(24)} ${p.padEnd(7)} ${d(f.byPhase[p])}   ${pct(f.tailShare[p])} of the frames >= p99`);
}

export function printTarget(r: TargetResult): void {
  const name = r.target === 'product' ? 'Callwright (dist/main.js, as `npm start` runs it)' : 'baseline: minimal pass-through bridge';
  console.log(`\n${name}: ${r.calls} calls up, ${r.callsPlaced} placed, ${fmt(r.runSeconds, 1)} s from the first POST to the last call ended`);
  const ph = r.phaseSeconds;
  console.log(`  phases: start ${fmt(ph.start, 1)} s, steady ${fmt(ph.steady, 1)} s, end ${fmt(ph.end, 1)} s; per call, POST to model session p50 ${fmt(r.setupToModelMs.p50, 0)} / max ${fmt(r.setupToModelMs.max, 0)} ms, to first agent audio p50 ${fmt(r.setupMs.p50, 0)} / max ${fmt(r.setupMs.max, 0)} ms, teardown p50 ${fmt(r.teardownMs.p50, 0)} / max ${fmt(r.teardownMs.max, 0)} ms`);
  console.log(`  added latency, ms          phase       p50      p99      max    frames`);
  printDirection('caller -> AI (Twilio->OpenAI)', r.inbound);
  printDirection('AI -> caller (OpenAI->Twilio)', r.outbound);
  const c = r.bridgeCpu;
  console.log(`  bridge CPU: ${pct(c.avgCores)} of a core on average (peak 1 s: ${pct(c.peakCores)}); ${fmt(c.msPerCallSecond, 3)} ms per call-second over the run (setup and teardown included), ${fmt(c.steadyMsPerCallSecond, 3)} ms in steady seconds; ${fmt(c.callSeconds, 0)} call-seconds`);
  for (const p of ['all', ...PHASES] as const) {
    const l = r.bridgeLoop[p];
    if (l.samples) console.log(`  bridge event loop, ${p.padEnd(6)}: delay p99 ${fmt(l.delayP99Ms, 1)} ms (worst second), max ${fmt(l.delayMaxMs, 1)} ms; GC ${l.gcCount} pauses, ${fmt(l.gcTotalMs, 0)} ms in all, longest ${fmt(l.gcMaxMs, 1)} ms (${l.samples} s)`);
  }
  const v = r.vadWorker;
  if (v) {
    const share = r.callerFramesSent > 0 ? ` (${pct(v.frames / r.callerFramesSent)} of the ${r.callerFramesSent} caller frames sent)` : '';
    console.log(`  VAD worker (bench probe): ${v.frames} caller frames crossed to Silero${share} in ${v.batches} batches, ${v.restarts} restarts, ${v.opens} detectors opened; worker CPU ${fmt(v.workerCpuMs / 1000, 2)} s, ${fmt(c.callSeconds > 0 ? v.workerCpuMs / c.callSeconds : 0, 3)} ms per call-second (in the bridge CPU above)`);
  }
  const m = r.machine;
  console.log(`  machine: ${fmt(m.busyAvgCores * 100, 0)}% busy on average of ${m.cores * 100}% (peak ${fmt(m.busyPeakCores * 100, 0)}%), other processes ${fmt(m.othersAvgCores * 100, 0)}% (peak ${fmt(m.othersPeakCores * 100, 0)}%); saturated ${pct(m.saturatedShare)} of the seconds`);
  console.log(`  harness: load ${pct(r.harnessCpuAvgCores.load)} of a core (loop delay p99 ${fmt(r.harnessLoopP99Ms.load, 1)} ms), model ${pct(r.harnessCpuAvgCores.model)} (${fmt(r.harnessLoopP99Ms.model, 1)} ms), bench ${pct(r.harnessCpuAvgCores.bench)}: part of every latency above`);
  const odd = [
    r.callErrors.length ? `${r.callErrors.length} call errors (first: ${r.callErrors[0]})` : '',
    r.callsWithoutSession ? `${r.callsWithoutSession} calls never reached the model` : '',
    r.callsEndedByBridge ? `${r.callsEndedByBridge} calls ended by the bridge` : '',
    r.clears ? `${r.clears} clears (the bridge heard a barge-in in silence)` : '',
    r.duplicates ? `${r.duplicates} frames delivered twice` : '',
  ].filter(Boolean);
  if (odd.length) console.log(`  NOTE: ${odd.join('; ')}`);
  for (const l of r.bridgeLogProblems) console.log(`  bridge log: ${l}`);
  if (m.disturbed) console.log(`  DISTURBED RUN, discard: ${m.reason}`);
  else if (m.saturatedShare > 0.1) console.log(`  SATURATED by the bench itself in ${pct(m.saturatedShare)} of the seconds: the figures show this machine's limit, not only the bridge's`);
}

const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? `${fmt(a / b, 2)}x` : 'n/a');

export function printComparison(p: TargetResult, b: TargetResult): void {
  console.log('\nCallwright / baseline (same run, same load):');
  for (const [name, key] of [['caller -> AI', 'inbound'], ['AI -> caller', 'outbound']] as const) {
    const x = p[key];
    const y = b[key];
    console.log(`  ${name}: p99 ${ratio(x.all.p99, y.all.p99)} (steady ${ratio(x.byPhase.steady.p99, y.byPhase.steady.p99)}, start ${ratio(x.byPhase.start.p99, y.byPhase.start.p99)}, end ${ratio(x.byPhase.end.p99, y.byPhase.end.p99)}), p50 ${ratio(x.all.p50, y.all.p50)}`);
  }
  console.log(`  CPU per call-second: ${ratio(p.bridgeCpu.msPerCallSecond, b.bridgeCpu.msPerCallSecond)} over the run, ${ratio(p.bridgeCpu.steadyMsPerCallSecond, b.bridgeCpu.steadyMsPerCallSecond)} in steady seconds`);
  console.log(`  event-loop delay p99: ${ratio(p.bridgeLoop.all.delayP99Ms, b.bridgeLoop.all.delayP99Ms)}`);
  if (p.machine.disturbed || b.machine.disturbed) console.log('  DISTURBED: at least one half of this run was disturbed by other processes; the ratios do not count');
}

/** The issue's bars: 0 frames lost, p99 under the bar each way, CPU per call-second within 1.3x the baseline. */
export function verdict(p: TargetResult, b: TargetResult | undefined, p99BarMs: number): { pass: boolean; lines: string[] } {
  const lines: string[] = [];
  const lost = p.inbound.lost + p.outbound.lost;
  const silentCalls = p.inbound.callsWithoutAudio + p.outbound.callsWithoutAudio + p.callsWithoutSession;
  const measured = p.inbound.all.n > 0 && p.outbound.all.n > 0;
  lines.push(`${lost === 0 && silentCalls === 0 && measured ? 'PASS' : 'FAIL'} frames lost: ${lost}${silentCalls ? `, and ${silentCalls} calls (directions) with no audio at all` : ''}${measured ? '' : ' (no frame arrived in at least one direction: nothing was measured)'}`);
  const worst = Math.max(p.inbound.all.p99, p.outbound.all.p99);
  lines.push(`${worst < p99BarMs ? 'PASS' : 'FAIL'} p99 added latency, worse direction: ${fmt(worst)} ms (bar: under ${p99BarMs} ms)`);
  let pass = lost === 0 && silentCalls === 0 && measured && worst < p99BarMs;
  if (b) {
    const r = p.bridgeCpu.msPerCallSecond / b.bridgeCpu.msPerCallSecond;
    lines.push(`${r <= 1.3 ? 'PASS' : 'FAIL'} CPU per call-second: ${fmt(r, 2)}x the baseline (bar: at most 1.3x)`);
    pass &&= r <= 1.3;
  }
  if (p.machine.disturbed || b?.machine.disturbed) lines.push('(disturbed run: not a measurement; run again on a quiet machine)');
  return { pass, lines };
}
