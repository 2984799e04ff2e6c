/**
 * A call set for later, as the REST API shows it (GET /api/scheduled-calls). Types only, importing
 * nothing, so the browser build can use them.
 */
export const SCHEDULED_CALL_STATUSES = ['scheduled', 'dialing', 'placed', 'missed', 'refused', 'failed', 'cancelled'] as const;
/**
 * `scheduled`: waiting for its time; `dialing`: claimed, being placed; `placed`: the call exists (`callId`);
 * `missed`: its time passed while Callwright was down, beyond the grace window; `refused`: the dial policy or
 * a cap refused it when it was due; `failed`: it could not be placed for another reason; `cancelled`: by a
 * user. Every status but the first two is final, and `reason` says why.
 */
export type ScheduledCallStatus = (typeof SCHEDULED_CALL_STATUSES)[number];

export interface ScheduledCall {
  id: string;
  createdAt: string;
  /** When it dials, UTC (ISO 8601). */
  scheduledAt: string;
  status: ScheduledCallStatus;
  to: string;
  clientId: string | null;
  /** The call's instructions, as they will be given to the agent. */
  instructions: string;
  runbook: string | null;
  provider: string | null;
  overrideCallingHours: boolean;
  overrideReason: string | null;
  /** The call it became, once placed. */
  callId: string | null;
  /** Why it is missed, refused, failed or cancelled. */
  reason: string | null;
  updatedAt: string;
}
