import { z } from 'zod';

export const createCallSchema = z.object({
  to: z.string({ error: 'is required' }).min(1, 'is required').max(32),
  instructions: z.string({ error: 'is required' }).trim().min(1, 'is required').max(8000, 'is longer than 8000 characters'),
  clientId: z.string().max(64).optional(),
  provider: z.enum(['openai', 'gemini']).optional(),
  /** Place the call even outside CALLING_HOURS; recorded in the call's timeline. */
  overrideCallingHours: z.boolean().optional(),
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
