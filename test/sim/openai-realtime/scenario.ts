/** Scenario defaults and how turns are picked. */
import type { AgentTurn, RealtimeScenario } from './types.js';

export const DEFAULT_USER_TRANSCRIPT = '(inaudible)';

/** What the agent says once the script has run out: short, so stray responses don't dominate a test's timing. */
export const FALLBACK_TURN: AgentTurn = { say: 'Okay.' };

export function defaultScenario(): RealtimeScenario {
  return {
    turns: [
      { say: 'Hello! This is your assistant. How can I help you today?' },
      { say: 'Sure, I can help with that.' },
      { say: 'Thank you, that is all I needed. Have a great day!' },
    ],
  };
}

/** `index` is 0-based over all responses of the session. */
export function turnAt(scenario: RealtimeScenario, index: number): AgentTurn {
  return scenario.turns[index] ?? FALLBACK_TURN;
}

export function userTranscriptAt(scenario: RealtimeScenario, index: number): string {
  return scenario.userTranscripts?.[index] ?? DEFAULT_USER_TRANSCRIPT;
}

/** The turn a response.create with these `instructions` gets instead of a scripted one, if the scenario has one. */
export function instructedTurn(scenario: RealtimeScenario, instructions: string | undefined): AgentTurn | undefined {
  if (!instructions) return undefined;
  const lower = instructions.toLowerCase();
  const hit = scenario.onInstructions?.find((r) => lower.includes(r.match.toLowerCase()));
  return hit ? { say: hit.say } : undefined;
}

/** Fills `{{toolOutput}}` with the latest function output (or "(no tool output)"). */
export function withToolOutput(turn: AgentTurn, latestOutput: string | undefined): AgentTurn {
  if (!turn.say?.includes('{{toolOutput}}')) return turn;
  return { ...turn, say: turn.say.replaceAll('{{toolOutput}}', latestOutput ?? '(no tool output)') };
}
