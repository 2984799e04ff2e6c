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
