import type { CallOutcome, GoalMet, OutcomeCitation, OutcomeField, TranscriptEntry } from '../shared/api-types.js';
import { EXTRACTION_INSTRUCTIONS, extractionInput, transcriptLines, type TranscriptLine } from './prompt.js';
import { compileOutcomeSchema, NO_FIELDS, responseSchema, schemaErrors, type OutcomeSchema } from './schema.js';

/** A text model with structured outputs (one per provider, see providers/). Knows nothing of calls. */
export interface TextExtractor {
  readonly provider: string;
  readonly model: string;
  /** The model's answer to `input`, as JSON text following `schema`. Throws when the provider fails. */
  extract(req: { instructions: string; input: string; schema: OutcomeSchema; schemaName: string }, o?: { signal?: AbortSignal }): Promise<{ text: string; usage?: TextUsage }>;
}

/** What the extraction cost, as the provider reported it; cached input is a subset of the input. */
export interface TextUsage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
}

/** The usage as the price table's meters (the same the voice engines report). */
export function usageMeters(u: TextUsage): Record<string, number> {
  const cached = Math.min(u.cachedInputTokens, u.inputTokens);
  return { text_input: u.inputTokens - cached, text_cached_input: cached, text_output: u.outputTokens };
}

export type ComputedOutcome = Pick<CallOutcome, 'summary' | 'goalMet' | 'fields' | 'schemaErrors' | 'provider' | 'model'> & { usage?: TextUsage };

export class OutcomeExtractionError extends Error {
  override name = 'OutcomeExtractionError';
}

const GOALS: readonly GoalMet[] = ['achieved', 'partly', 'not-achieved', 'unknown'];

/** Asks the model for the outcome of a call and keeps only what the transcript supports. */
export async function computeOutcome(o: { goal: string; schema: OutcomeSchema | null; transcript: TranscriptEntry[]; extractor: TextExtractor; signal?: AbortSignal }): Promise<ComputedOutcome> {
  const fieldsSchema = o.schema ?? NO_FIELDS;
  const names = Object.keys((fieldsSchema.properties ?? {}) as object);
  const lines = transcriptLines(o.transcript);
  const { text, usage } = await o.extractor.extract(
    { instructions: EXTRACTION_INSTRUCTIONS, input: extractionInput(o.goal, names, lines), schema: responseSchema(fieldsSchema), schemaName: 'call_outcome' },
    { signal: o.signal },
  );
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new OutcomeExtractionError(`the model's answer is not JSON (${text.length} characters)`);
  }
  return { ...interpretAnswer(answer, lines, fieldsSchema), provider: o.extractor.provider, model: o.extractor.model, ...(usage ? { usage } : {}) };
}

/**
 * The model's answer, checked: a value counts only with a quote found in the transcript (in the cited
 * line, or if the line number is off, in the one line that holds it); anything else is kept aside as
 * rejected, never shown as a fact. The facts are then checked against the call's own schema.
 */
export function interpretAnswer(answer: unknown, lines: TranscriptLine[], fieldsSchema: OutcomeSchema): Pick<ComputedOutcome, 'summary' | 'goalMet' | 'fields' | 'schemaErrors'> {
  if (!isObject(answer)) throw new OutcomeExtractionError("the model's answer is not a JSON object");
  const summary = typeof answer.summary === 'string' ? answer.summary.trim().slice(0, 2000) : null;
  const goalMet = GOALS.includes(answer.goalMet as GoalMet) ? (answer.goalMet as GoalMet) : 'unknown';
  const given = isObject(answer.fields) ? answer.fields : {};
  const fields: OutcomeField[] = [];
  for (const name of Object.keys((fieldsSchema.properties ?? {}) as object)) {
    const f: Record<string, unknown> = isObject(given[name]) ? given[name] : {};
    const value = f.value;
    if (value === null || value === undefined) {
      fields.push({ name, value: null, citation: null });
      continue;
    }
    if (typeof value === 'object') {
      fields.push({ name, value: null, citation: null, rejected: { value, line: f.line, quote: f.quote, reason: 'not a string, number or boolean' } });
      continue;
    }
    const citation = locate(lines, f.line, f.quote);
    if (citation) fields.push({ name, value: value as string | number | boolean, citation });
    else fields.push({ name, value: null, citation: null, rejected: { value, line: f.line, quote: f.quote, reason: 'the quote is not in the transcript' } });
  }
  const facts = Object.fromEntries(fields.filter((f) => f.value !== null).map((f) => [f.name, f.value]));
  const validate = compileOutcomeSchema(fieldsSchema);
  // A fact the call did not state is null and shown as missing: `required` says nothing more.
  const errors = validate(facts) ? [] : schemaErrors({ errors: (validate.errors ?? []).filter((e) => e.keyword !== 'required') } as typeof validate);
  return { summary, goalMet, fields, ...(errors.length ? { schemaErrors: errors } : {}) };
}

/** The transcript line that holds `quote`: the cited one if it does, else the only line that does. */
export function locate(lines: TranscriptLine[], line: unknown, quote: unknown): OutcomeCitation | null {
  if (typeof quote !== 'string') return null;
  const q = normalise(quote);
  if (q.length < 1) return null;
  const cited = typeof line === 'number' ? lines[line] : undefined;
  const holder = cited && normalise(cited.text).includes(q) ? cited : only(lines.filter((l) => normalise(l.text).includes(q)));
  return holder ? { line: holder.line, seq: holder.seq, speaker: holder.speaker, quote: quote.trim() } : null;
}

function only<T>(xs: T[]): T | undefined {
  return xs.length === 1 ? xs[0] : undefined;
}

/** Case, spacing, curly quotes and dashes do not make a quote different; words do. */
function normalise(s: string): string {
  return s
    .toLowerCase()
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/[\u2013\u2014]/g, '-')
    .replace(/\s+/g, ' ')
    .replace(/^[\s"'.,!?]+|[\s"'.,!?]+$/g, '');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
