/**
 * "Answer at once": the time from the end of the callee's "Hello?" to the first agent audio played at
 * the carrier, over real calls through the server and the simulators (Twilio, OpenAI Realtime, Gemini
 * Live), with the answering-machine verdict at 1, 2.5 and 4 s in turn. Measured on the Twilio
 * simulator's line clock (media time), so a loaded machine shifts the event loop, not the figure's
 * clock. Bar: the engine's end-of-turn silence (VAD_SILENCE_MS) + its response latency (0 in the
 * simulators) + 100 ms.
 */
import { startStack, type Engine } from '../test/sim/stack.js';
import { summarize } from './stats.js';

const VERDICT_DELAYS_MS = [1000, 2500, 4000];
const GREETING = "Hi, I'm an AI assistant calling on behalf of Raju Kumar.";
/** The product's default end-of-turn silence; the bar follows it. */
const VAD_SILENCE_MS = 500;
const ENGINE_RESPONSE_LATENCY_MS = 0;
/** The product's default concurrency cap: calls are placed in waves of this many. */
const WAVE = 5;

export interface AnswerResult {
  engine: Engine;
  calls: number;
  gapsMs: number[];
  failures: string[];
  barMs: number;
}

export async function runAnswerBench(o: { calls: number; engine: Engine }): Promise<AnswerResult> {
  let n = 0;
  const stack = await startStack({
    engine: o.engine,
    env: { VAD_SILENCE_MS: String(VAD_SILENCE_MS), MAX_CALLS_PER_DAY: '0' },
    script: () => ({ answeredBy: 'human', amdDelayMs: VERDICT_DELAYS_MS[n++ % VERDICT_DELAYS_MS.length], steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 200 }, { hangup: true }] }),
    conversation: () => ({ turns: [{ say: GREETING }], userTranscripts: ['Hello?'] }),
  });
  const gapsMs: number[] = [];
  const failures: string[] = [];
  try {
    for (let done = 0; done < o.calls; done += WAVE) {
      const ids = await Promise.all(Array.from({ length: Math.min(WAVE, o.calls - done) }, () => stack.placeCall()));
      await Promise.all(ids.map((id) => stack.waitForEnd(id, 30_000)));
    }
    for (const c of stack.twilio.calls) {
      const said = c.log.find((l) => l.type === 'callee-said' && l.index === 0)?.lineMs as number | undefined;
      if (said === undefined || c.firstAgentAudioLineMs === null) failures.push(`${c.sid}: no "Hello?" or no agent audio`);
      else gapsMs.push(c.firstAgentAudioLineMs - said);
    }
  } finally {
    await stack.close();
  }
  return { engine: o.engine, calls: o.calls, gapsMs, failures, barMs: VAD_SILENCE_MS + ENGINE_RESPONSE_LATENCY_MS + 100 };
}

/** Prints the figures and PASS/FAIL against the bar; returns whether it passed. */
export function printAnswer(r: AnswerResult): boolean {
  const s = summarize(r.gapsMs);
  const pass = r.failures.length === 0 && s.n === r.calls && s.max <= r.barMs;
  console.log(
    `\nanswer at once [${r.engine}]: ${r.calls} calls, verdicts at ${VERDICT_DELAYS_MS.map((d) => d / 1000).join('/')} s, VAD_SILENCE_MS=${VAD_SILENCE_MS}\n` +
      `  end of "Hello?" -> first agent audio: p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms (bar ${r.barMs} ms) ${pass ? 'PASS' : 'FAIL'}`,
  );
  for (const f of r.failures) console.log(`  ${f}`);
  return pass;
}
