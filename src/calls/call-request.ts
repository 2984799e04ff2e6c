import { z } from 'zod';
import { DTMF_MAX_LENGTH, DTMF_SEQUENCE_RE } from '../media/dtmf.js';
import { transferTargetsSchema } from './transfer/transfer-targets.js';
import { outcomeSchemaProblem } from '../outcome/schema.js';
import { metadataSchema } from './metadata.js';
import { ENGINE_NAMES } from '../voice/engine-names.js';

/** Longest voicemail message text (about a minute of speech) and composing instructions. */
export const VOICEMAIL_MESSAGE_MAX = 1000;
export const VOICEMAIL_INSTRUCTIONS_MAX = 2000;

/**
 * What to do if an answering machine answers (default: VOICEMAIL_MODE). `leave-message` speaks `message`
 * word for word after the beep, or composes one per `instructions` (else from the call's instructions).
 */
export const voicemailSchema = z
  .object({
    action: z.enum(['hangup', 'leave-message'], { error: 'must be hangup or leave-message' }),
    message: z.string().trim().min(1, 'is empty').max(VOICEMAIL_MESSAGE_MAX, `is longer than ${VOICEMAIL_MESSAGE_MAX} characters`).optional(),
    instructions: z.string().trim().min(1, 'is empty').max(VOICEMAIL_INSTRUCTIONS_MAX, `is longer than ${VOICEMAIL_INSTRUCTIONS_MAX} characters`).optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    for (const field of ['message', 'instructions'] as const) {
      if (v[field] !== undefined && v.action !== 'leave-message') ctx.addIssue({ code: 'custom', path: [field], message: 'is only used with action leave-message' });
    }
    if (v.message !== undefined && v.instructions !== undefined) ctx.addIssue({ code: 'custom', path: ['instructions'], message: 'cannot be given with message (the message is spoken as written)' });
  });
export type VoicemailRequest = z.infer<typeof voicemailSchema>;

export const createCallSchema = z.object({
  to: z.string({ error: 'is required' }).min(1, 'is required').max(32),
  instructions: z.string({ error: 'is required' }).trim().min(1, 'is required').max(8000, 'is longer than 8000 characters'),
  clientId: z.string().max(64).optional(),
  provider: z.enum(ENGINE_NAMES).optional(),
  /** Place the call even outside CALLING_HOURS; recorded in the call's timeline. */
  overrideCallingHours: z.boolean().optional(),
  /** Why calling hours are overridden: required with overrideCallingHours, kept on the call's timeline. */
  overrideReason: z.string().trim().min(1, 'is empty').max(500, 'is longer than 500 characters').optional(),
  /**
   * Place the call later, at this time (ISO 8601 with an offset, e.g. 2026-05-04T09:30:00+02:00); the
   * dial policy and caps are checked again when it dials (docs/scheduled-calls.md).
   */
  scheduledAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date and time with an offset, e.g. 2026-05-04T09:30:00+02:00' }).optional(),
  /** Set by the API when the call was made from a runbook (runbooks/<name>.md): kept on the record. */
  runbook: z.string().max(64).optional(),
  /** What counts as success, for the outcome's "goal met"; empty: the instructions are the goal. */
  goal: z.string().trim().min(1, 'is empty').max(2000, 'is longer than 2000 characters').optional(),
  /** A JSON Schema (object) whose properties are the facts the call is for; see docs/outcome.md. */
  outcomeSchema: z
    .record(z.string(), z.unknown(), { error: 'must be a JSON Schema object' })
    .superRefine((v, ctx) => {
      const problem = outcomeSchemaProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  /**
   * Where this call may be handed over (besides OWNER_PHONE, label `owner`): E.164 numbers, or
   * `{label, number}`. transfer_call picks one by label; the model never gives a number.
   */
  transferTo: transferTargetsSchema.optional(),
  /** What to do if an answering machine answers; default VOICEMAIL_MODE / VOICEMAIL_MESSAGE. */
  voicemail: voicemailSchema.optional(),
  /** Hold handling for this call (docs/hold.md): the longest hold before a polite hang-up. */
  hold: z
    .object({ maxMinutes: z.number({ error: 'maxMinutes must be a number of minutes' }).gt(0, 'maxMinutes must be more than 0').max(600, 'maxMinutes must be at most 600') }, { error: 'must be an object like {"maxMinutes": 30}' })
    .strict()
    .optional(),
  /**
   * Keys to press when the phone menu answers (an extension, a menu choice known in advance), e.g.
   * "1w204#"; w waits half a second. The call's opening is taken as the menu; the keys go once its first
   * prompt has ended (docs/phone-menus.md).
   */
  dtmf: z.string().min(1, 'is empty').max(DTMF_MAX_LENGTH, `is longer than ${DTMF_MAX_LENGTH} keys`).regex(DTMF_SEQUENCE_RE, 'may hold only 0-9, *, #, A-D and w (a half-second pause)').optional(),
  /** The caller's own labels for this call (an order id, a CRM record), returned wherever the call is. */
  metadata: metadataSchema.optional(),
})
  // An unknown field is refused, not ignored: a misspelt or unsupported setting must not place a call without it.
  .strict();
export type CreateCallInput = z.infer<typeof createCallSchema>;

/** A refusal the API shows as 4xx, naming the field at fault. */
export class CallRequestError extends Error {
  constructor(
    readonly status: number,
    readonly field: string | undefined,
    message: string,
    readonly missing?: string[],
    /** Policy refusals: the rule that refused, and when trying again can help. */
    readonly policy?: { rule: string; retryAfterSec?: number },
    /** The error's code for programs (server/errors.ts); by default one follows from the status. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'CallRequestError';
  }
}

/** Overriding calling hours is a person's decision, and the record says why. */
export function checkOverrideReason(input: Pick<CreateCallInput, 'overrideCallingHours' | 'overrideReason'>): void {
  if (input.overrideCallingHours && !input.overrideReason) {
    throw new CallRequestError(400, 'overrideReason', 'overrideReason: is required with overrideCallingHours: say why this call may be placed outside calling hours');
  }
}
