import type { CallRow } from '../store/calls-repo.js';
import type { OutcomeRequest } from '../store/outcomes-repo.js';

/** A POST /api/calls body that places the same call again. */
export interface RepeatRequest {
  to: string;
  instructions: string;
  clientId?: string;
  provider: string;
  goal?: string;
  outcomeSchema?: Record<string, unknown>;
  voicemail?: Record<string, unknown>;
  dtmf?: string;
  hold?: { maxMinutes: number };
}

/**
 * The request that repeats a call with the same settings: the number, the instructions as the agent got
 * them (a runbook's already filled in), the client, the engine, the goal and facts schema, and what the
 * first `status` event recorded (voicemail plan, keys to press, hold limit). Transfer destinations are
 * not repeated: the record keeps them masked.
 */
export function repeatRequest(call: CallRow, firstStatus: { data: Record<string, unknown> } | undefined, outcome: OutcomeRequest | undefined): RepeatRequest {
  const d = firstStatus?.data ?? {};
  return {
    to: call.to,
    instructions: call.instructions,
    ...(call.clientId ? { clientId: call.clientId } : {}),
    provider: call.provider,
    ...(outcome?.goal ? { goal: outcome.goal } : {}),
    ...(outcome?.schema ? { outcomeSchema: outcome.schema as Record<string, unknown> } : {}),
    ...(d.voicemail && typeof d.voicemail === 'object' ? { voicemail: d.voicemail as Record<string, unknown> } : {}),
    ...(typeof d.dtmf === 'string' ? { dtmf: d.dtmf } : {}),
    ...(d.hold && typeof d.hold === 'object' ? { hold: d.hold as { maxMinutes: number } } : {}),
  };
}
