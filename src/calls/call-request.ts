import { z } from 'zod';
import { DTMF_MAX_LENGTH, DTMF_SEQUENCE_RE } from '../media/dtmf.js';
import { transferTargetsSchema } from './transfer/transfer-targets.js';

export const createCallSchema = z.object({
  to: z.string({ error: 'is required' }).min(1, 'is required').max(32),
  instructions: z.string({ error: 'is required' }).trim().min(1, 'is required').max(8000, 'is longer than 8000 characters'),
  clientId: z.string().max(64).optional(),
  provider: z.enum(['openai', 'gemini']).optional(),
  /** Place the call even outside CALLING_HOURS; recorded in the call's timeline. */
  overrideCallingHours: z.boolean().optional(),
  /** Set by the API when the call was made from a runbook (runbooks/<name>.md): kept on the record. */
  runbook: z.string().max(64).optional(),
  /**
   * Where this call may be handed over (besides OWNER_PHONE, label `owner`): E.164 numbers, or
   * `{label, number}`. transfer_call picks one by label; the model never gives a number.
   */
  transferTo: transferTargetsSchema.optional(),
  /**
   * Keys to press when the phone menu answers (an extension, a menu choice known in advance), e.g.
   * "1w204#"; w waits half a second. The call's opening is taken as the menu; the keys go once its first
   * prompt has ended (docs/phone-menus.md).
   */
  dtmf: z.string().min(1, 'is empty').max(DTMF_MAX_LENGTH, `is longer than ${DTMF_MAX_LENGTH} keys`).regex(DTMF_SEQUENCE_RE, 'may hold only 0-9, *, #, A-D and w (a half-second pause)').optional(),
});
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
  ) {
    super(message);
    this.name = 'CallRequestError';
  }
}
