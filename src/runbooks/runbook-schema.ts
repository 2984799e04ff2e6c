import { z } from 'zod';
import { ENGINE_NAMES } from '../voice/engine-names.js';

/** A runbook's name is its file name without the extension: what `POST /api/calls {runbook}` names. */
export const RUNBOOK_NAME_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
const VARIABLE_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]{0,39}$/;

const variableSchema = z
  .object({
    description: z.string({ error: 'is required (what to fill in, shown on the new-call page)' }).trim().min(1, 'is required').max(300),
    required: z.boolean().default(true),
    example: z.string().max(200).optional(),
    default: z.string().max(2000).optional(),
  })
  .strict();

const phrases = (what: string) => z.array(z.string().trim().min(1, `holds an empty ${what}`).max(500)).max(30);

/**
 * The front matter of a runbook (`runbooks/<name>.md`) or a whole `.yaml` runbook. The fields a call
 * request also has (`voicemail`, `hold`, `dtmf`, `outcome` as `outcomeSchema`, `provider`) are checked
 * again by the call request's own schema when a call is made from the runbook.
 */
export const runbookSchema = z
  .object({
    title: z.string({ error: 'is required' }).trim().min(1, 'is required').max(120),
    description: z.string().trim().max(500).optional(),
    /** What the call is for, in one sentence; `{{variables}}` are filled in. */
    goal: z.string({ error: 'is required (what the call is for, in one sentence)' }).trim().min(1, 'is required').max(1000),
    /** The instructions, when the runbook is YAML (in a .md runbook they are the body). */
    instructions: z.string().trim().max(6000).optional(),
    variables: z
      .record(z.string().regex(VARIABLE_NAME_RE, 'variable names are letters, digits and _'), variableSchema)
      .default({}),
    /** Facts the agent needs from the client's documents (each also searches them at call start). */
    facts: phrases('fact').default([]),
    /** What the agent may agree to, and what it must not. */
    may: phrases('rule').default([]),
    mayNot: phrases('rule').default([]),
    /** JSON Schema of the facts the call is for (confirmation number, price ...): the call's outcome fields. */
    outcome: z.record(z.string(), z.unknown()).optional(),
    voicemail: z.unknown().optional(),
    hold: z.unknown().optional(),
    /** Keys known in advance (an extension or a menu path), pressed when the menu answers. */
    dtmf: z.string().optional(),
    /** Known menu paths, in words ("press 2 for billing, then 1 to cancel"): given to the agent. */
    menu: phrases('menu hint').default([]),
    provider: z.enum(ENGINE_NAMES).optional(),
  })
  .strict();

export type RunbookFrontMatter = z.infer<typeof runbookSchema>;

export interface RunbookProblem {
  /** 1-based line in the file, when the problem has a place. */
  line?: number;
  /** The field at fault, as a dotted path (`variables.service.description`). */
  field?: string;
  message: string;
}

export interface Runbook extends RunbookFrontMatter {
  name: string;
  /** The instructions: the Markdown body, or `instructions` in a YAML runbook. */
  body: string;
}
