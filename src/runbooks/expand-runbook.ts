import { CallRequestError } from '../calls/call-request.js';
import type { Runbook } from './runbook-schema.js';

/** What a call from a runbook is given besides the runbook itself. */
export interface RunbookCallInput {
  variables?: Record<string, unknown>;
  /** Extra notes for this one call, added after the runbook's instructions. */
  instructions?: string;
}

const VARIABLE_MAX_CHARS = 500;

/** The runbook's fields that a call request holds too, under the call request's names. */
export function callFieldsOf(r: Pick<Runbook, 'voicemail' | 'hold' | 'dtmf' | 'outcome' | 'provider'>): Record<string, unknown> {
  const fields: Record<string, unknown> = { voicemail: r.voicemail, hold: r.hold, dtmf: r.dtmf, outcomeSchema: r.outcome, provider: r.provider };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

/**
 * Turns a runbook and a call's variables into the fields of a call request (unvalidated: the call
 * request's schema checks them next, as for any call). A missing or unknown variable is a 400 naming it.
 */
export function expandRunbook(r: Runbook, input: RunbookCallInput): Record<string, unknown> {
  const values = variableValues(r, input.variables ?? {});
  const fill = (text: string) => text.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_, name: string) => values[name] ?? '');
  const section = (title: string, items: string[]) => (items.length ? `\n\n${title}\n${items.map((i) => `- ${fill(i)}`).join('\n')}` : '');
  const instructions =
    `Goal: ${fill(r.goal)}\n\n${fill(r.body)}` +
    section("Facts you need, from the documents of the person you represent (if they are not there, don't guess):", r.facts) +
    section('You may agree to:', r.may) +
    section('You must not agree to, whatever is offered:', r.mayNot) +
    section('Known phone menu paths:', r.menu) +
    (input.instructions?.trim() ? `\n\nNotes for this call:\n${input.instructions.trim()}` : '');
  return { ...fillDeep(callFieldsOf(r), fill), goal: fill(r.goal), instructions };
}

function variableValues(r: Runbook, given: Record<string, unknown>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of Object.keys(given)) {
    if (!(name in r.variables)) throw new CallRequestError(400, 'variables', `variables.${name}: the runbook "${r.name}" has no such variable (it has: ${Object.keys(r.variables).join(', ') || 'none'})`);
    const v = given[name];
    if (typeof v !== 'string' && typeof v !== 'number') throw new CallRequestError(400, 'variables', `variables.${name}: must be a string`);
    const text = String(v).trim();
    if (text.length > VARIABLE_MAX_CHARS) throw new CallRequestError(400, 'variables', `variables.${name}: is longer than ${VARIABLE_MAX_CHARS} characters`);
    values[name] = text;
  }
  for (const [name, spec] of Object.entries(r.variables)) {
    if (values[name]) continue;
    if (spec.default !== undefined) values[name] = spec.default;
    else if (spec.required) throw new CallRequestError(400, 'variables', `variables.${name}: is required (${spec.description})`);
    else values[name] = '';
  }
  return values;
}

/** Fills placeholders in every string of a runbook's call fields (e.g. the voicemail message). */
function fillDeep<T>(value: T, fill: (s: string) => string): T {
  if (typeof value === 'string') return fill(value) as T;
  if (Array.isArray(value)) return value.map((v) => fillDeep(v, fill)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'outcomeSchema' ? v : fillDeep(v, fill)])) as T;
  return value;
}
