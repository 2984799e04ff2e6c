import { z } from 'zod';
import { voicemailSchema } from '../calls/call-request.js';

export const CAMPAIGN_STATUSES = ['active', 'paused', 'cancelled', 'completed'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** Where a number is: waiting (maybe for a retry), being dialled, on a call, or done (with an outcome). */
export const NUMBER_STATES = ['pending', 'dialing', 'calling', 'done'] as const;
export type NumberState = (typeof NUMBER_STATES)[number];

/** What came of a number, once it is done. */
export const NUMBER_OUTCOMES = ['answered', 'voicemail', 'voicemail-left', 'busy', 'no-answer', 'failed', 'refused', 'interrupted', 'cancelled'] as const;
export type NumberOutcome = (typeof NUMBER_OUTCOMES)[number];

export const MAX_CAMPAIGN_NUMBERS = 5000;
const VARIABLE_KEY_RE = /^[A-Za-z0-9_.-]+$/;

const variablesSchema = z
  .record(z.string().regex(VARIABLE_KEY_RE, 'names may hold only letters, digits, "_", "-" and "."').max(64), z.union([z.string().max(500, 'is longer than 500 characters'), z.number().finite()]), {
    error: 'must be an object of name: value',
  })
  .optional();

const timezoneSchema = z
  .string()
  .max(64)
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-GB', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'is not an IANA time zone (e.g. Europe/Berlin)');

export const campaignNumberSchema = z
  .object({
    to: z.string({ error: 'is required' }).trim().min(1, 'is required').max(32),
    variables: variablesSchema,
    /** The callee's time zone when the number does not tell it (a mobile, a non-geographic number). */
    timezone: timezoneSchema.optional(),
  })
  .strict();
export type CampaignNumberInput = z.infer<typeof campaignNumberSchema>;

export const createCampaignSchema = z
  .object({
    name: z.string({ error: 'is required' }).trim().min(1, 'is required').max(200, 'is longer than 200 characters'),
    /** A runbook (runbooks/<name>.md) whose variables each number fills in... */
    runbook: z.string().min(1, 'is empty').max(64).optional(),
    /** ...or instructions with {{name}} placeholders filled from each number's variables (with a runbook: notes added to it). */
    instructions: z.string().trim().min(1, 'is empty').max(8000, 'is longer than 8000 characters').optional(),
    clientId: z.string().max(64).optional(),
    provider: z.enum(['openai', 'gemini', 'cascade']).optional(),
    /** The numbers, as JSON... */
    numbers: z.array(campaignNumberSchema, { error: 'must be a list of {to, variables?, timezone?}' }).min(1, 'is empty').max(MAX_CAMPAIGN_NUMBERS, `holds more than ${MAX_CAMPAIGN_NUMBERS} numbers`).optional(),
    /** ...or as CSV text: a header row with a `to` (or `phone`) column, an optional `timezone` column; every other column is a variable. */
    csv: z.string().min(1, 'is empty').max(250_000).optional(),
    /** Dial only inside this window of the callee's local time, e.g. "09:00-18:00" (on top of CALLING_HOURS). */
    callingHours: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM-HH:MM, e.g. 09:00-18:00').optional(),
    /** The time zone for numbers whose zone the number does not tell. */
    timezone: timezoneSchema.optional(),
    /** How many of this campaign's calls may be dialling or live at once. */
    concurrency: z.number().int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100').default(2),
    retries: z
      .object({
        /** Further tries after a no-answer, and after a busy line. */
        noAnswer: z.number().int().min(0).max(10).default(2),
        busy: z.number().int().min(0).max(10).default(2),
        /** The wait before the first retry; each later one waits `backoffFactor` times longer. */
        backoffSeconds: z.number().int().min(1).max(7 * 86_400).default(900),
        backoffFactor: z.number().min(1).max(10).default(2),
      })
      .strict()
      .default({ noAnswer: 2, busy: 2, backoffSeconds: 900, backoffFactor: 2 }),
    /** What each call does if an answering machine answers (default: VOICEMAIL_MODE). */
    voicemail: voicemailSchema.optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (!v.runbook && !v.instructions) ctx.addIssue({ code: 'custom', path: ['instructions'], message: 'is required without a runbook (give runbook or instructions)' });
    if (!v.numbers === !v.csv) ctx.addIssue({ code: 'custom', path: ['numbers'], message: v.numbers ? 'cannot be given with csv (give one of them)' : 'is required (give numbers, or csv)' });
  });
export type CreateCampaignInput = z.infer<typeof createCampaignSchema>;

/** What a campaign dials with: the request minus its numbers, stored with the campaign. */
export type CampaignSpec = Omit<CreateCampaignInput, 'numbers' | 'csv' | 'name'>;

export interface CampaignNumber {
  campaignId: string;
  index: number;
  to: string;
  variables: Record<string, string | number>;
  timezone: string | null;
  state: NumberState;
  outcome: NumberOutcome | null;
  attempts: number;
  nextAt: string;
  callId: string | null;
  callIds: string[];
  endReason: string | null;
  detail: string | null;
  updatedAt: string;
}

export interface Campaign {
  id: string;
  name: string;
  status: CampaignStatus;
  createdAt: string;
  updatedAt: string;
  spec: CampaignSpec;
  total: number;
}

export type Progress = { total: number; pending: number; inFlight: number; done: number } & Partial<Record<NumberOutcome, number>>;
