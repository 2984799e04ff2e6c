/**
 * What each soak call does and how it must end. Calls are numbered in the order they are placed; the
 * number travels in the dialled number (Twilio side) and in the instructions (AI side), so both
 * simulators, each on its own thread, agree on a call's plan without talking to each other.
 */
import type { CalleeScript, CalleeStep } from '../test/sim/twilio/index.js';
import type { RealtimeScenario } from '../test/sim/openai-realtime/index.js';

export type Fault = 'none' | 'provider-drop' | 'media-drop' | 'malformed-burst';

/** One call in ten of each kind: the rest are clean. Recording download failures are injected by time. */
export function faultOf(index: number): Fault {
  switch (index % 10) {
    case 3:
      return 'provider-drop';
    case 6:
      return 'media-drop';
    case 8:
      return 'malformed-burst';
    default:
      return 'none';
  }
}

export const MALFORMED_BURST = 300;

export const numberOf = (index: number) => `+1415${String(2000000 + index).padStart(7, '0')}`;
export const indexOfNumber = (to: string) => Number(to.slice(5)) - 2000000;
export const instructionsOf = (index: number) => `Soak call ${index}. Order one chicken biryani.`;
export const indexOfInstructions = (text: string) => Number(/Soak call (\d+)\./.exec(text)?.[1] ?? -1);

const USER = ['Hello?', 'Sure, what would you like?', 'Got it. Anything else?'];
const AGENT = ["Hi, I'm an AI assistant calling on behalf of Raju Kumar.", "I'd like one chicken biryani for pickup at seven.", "That's all, thank you. Goodbye!"];

function malformed(i: number): string {
  const kinds = ['{"event":"media","media":{"payload":"AAA', `{"event":"bogus-${i}"}`, '{"event":"media","streamSid":"MZ0","media":{"payload":"!!"}}', '[1,2]', '\u0000 not json'];
  return kinds[i % kinds.length];
}

/** The callee: three exchanges with a long pause in the middle (calls last ~40 s), then it hangs up. */
export function scriptOf(index: number, pauseMs: number): CalleeScript {
  const wait: CalleeStep = { waitForAgent: true, quietMs: 300, timeoutMs: 30_000 };
  const fault = faultOf(index);
  if (fault === 'media-drop') return { steps: [{ say: USER[0] }, wait, { pauseMs: 2000 }, { dropSocket: true }] };
  const burst: CalleeStep[] = fault === 'malformed-burst' ? Array.from({ length: MALFORMED_BURST }, (_, i) => ({ sendRaw: malformed(i) })) : [];
  return { steps: [{ say: USER[0] }, wait, ...burst, { say: USER[1] }, wait, { pauseMs }, { say: USER[2] }, wait, { hangup: true }] };
}

/** The AI: its three turns; a provider-drop call loses its socket mid-way through the second. */
export function scenarioOf(index: number): RealtimeScenario {
  return { turns: AGENT.map((say) => ({ say })), userTranscripts: USER, ...(faultOf(index) === 'provider-drop' ? { dropAfterResponses: 2 } : {}) };
}

/**
 * How each kind of call must end. A media socket dropped without `stop` ends Twilio's call too, and its
 * "completed" callback can reach the server before the socket's close does: then the carrier's word
 * (callee-hangup) is recorded as the reason, and the timeline still says the stream ended unexpectedly.
 */
export const expectedEnds: Record<Fault, string[]> = { none: ['callee-hangup'], 'malformed-burst': ['callee-hangup'], 'provider-drop': ['provider-error'], 'media-drop': ['media-error', 'callee-hangup'] };
