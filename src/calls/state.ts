/**
 * The call state machine. Carrier callbacks arrive late, twice, or out of order (Twilio retries), so a
 * transition is applied only if it moves the call forward; `ended` is final.
 */
export const CALL_STATUSES = ['queued', 'dialing', 'ringing', 'answered', 'screening', 'talking', 'ended'] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

export const END_REASONS = [
  'callee-hangup', // the person (or their phone) hung up
  'agent-hangup', // the AI ended the call with end_call after its goodbye played
  'user-hangup', // the Callwright user pressed hang up / POST /hangup
  'voicemail', // answering machine detected; hung up before the agent spoke
  'voicemail-left', // answering machine detected; the agent left its message after the beep, heard in full
  'no-answer',
  'busy',
  'failed', // the carrier could not place the call
  'canceled',
  'max-duration',
  'cost-limit', // the live cost ledger crossed MAX_COST_PER_CALL_USD; the agent said goodbye first
  'hold-timeout', // on hold longer than HOLD_MAX_MINUTES (or the call's hold.maxMinutes); the agent said goodbye first
  'provider-error', // the voice AI failed mid-call
  'media-error', // the carrier's media stream failed or never arrived
  'interrupted', // Callwright stopped (crash or restart) while the call was live
  'node-lost', // multi-node: the node running the call stopped renewing its lease (died); another node ended it
  'dial-error', // the carrier refused the dial request
  'menu-stuck', // a phone menu kept repeating after the operator routes (0, "representative")
  'transferred', // handed over to the owner (or a number set on the call); the carrier call may go on without the AI
] as const;
export type EndReason = (typeof END_REASONS)[number];

const rank = (s: CallStatus) => CALL_STATUSES.indexOf(s);

export function canTransition(from: CallStatus, to: CallStatus): boolean {
  if (from === 'ended') return false;
  return rank(to) > rank(from);
}

export const isLive = (s: CallStatus) => s !== 'ended';
