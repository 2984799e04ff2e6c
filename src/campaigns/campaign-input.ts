import { CallRequestError, createCallSchema, type CreateCallInput } from '../calls/call-request.js';
import { checkDestination } from '../calls/policy.js';
import { resolveRunbookRequest } from '../runbooks/runbook-call.js';
import type { RunbookLibrary } from '../runbooks/runbook-library.js';
import { ApiError, zodError } from '../server/errors.js';
import { campaignNumberSchema, MAX_CAMPAIGN_NUMBERS, type CampaignNumber, type CampaignNumberInput, type CampaignSpec } from './campaign-schema.js';
import { CsvError, parseCsv } from './csv.js';

/** Where a number came from, for error messages: `numbers[2]` in JSON, `row 3 (line 4)` in a CSV. */
interface Source {
  field: (sub?: string) => string;
  where: (column?: string) => string;
}

const NUMBER_COLUMNS = ['to', 'phone', 'number'];

/** The numbers of a CSV upload: a header row names the columns; `to` (or `phone`/`number`) is the number. */
export function numbersFromCsv(text: string): Array<CampaignNumberInput & { source: Source }> {
  let records;
  try {
    records = parseCsv(text);
  } catch (err) {
    if (err instanceof CsvError) throw new ApiError(400, `csv: ${err.message}`, { code: 'invalid_field', field: 'csv' });
    throw err;
  }
  const [header, ...rows] = records;
  if (!header || !rows.length) throw new ApiError(400, 'csv: needs a header row and at least one number', { code: 'invalid_field', field: 'csv' });
  const names = header.fields.map((h) => h.trim());
  const numberCol = names.findIndex((n) => NUMBER_COLUMNS.includes(n.toLowerCase()));
  if (numberCol < 0) throw new ApiError(400, `csv: the header row has no "to" (or "phone") column; it has: ${names.join(', ')}`, { code: 'invalid_field', field: 'csv' });
  const tzCol = names.findIndex((n) => n.toLowerCase() === 'timezone');
  if (rows.length > MAX_CAMPAIGN_NUMBERS) throw new ApiError(400, `csv: holds ${rows.length} numbers; at most ${MAX_CAMPAIGN_NUMBERS}`, { code: 'invalid_field', field: 'csv' });
  return rows.map((r, i) => {
    const where = (column?: string) => `csv: row ${i + 1} (line ${r.line})${column ? `, column "${column}"` : ''}`;
    if (r.fields.length !== names.length) throw new ApiError(400, `${where()}: has ${r.fields.length} fields; the header has ${names.length}`, { code: 'invalid_field', field: 'csv' });
    const variables: Record<string, string> = {};
    names.forEach((n, c) => {
      if (c !== numberCol && c !== tzCol && n) variables[n] = r.fields[c]!.trim();
    });
    const tz = tzCol >= 0 ? r.fields[tzCol]!.trim() : '';
    const entry = { to: r.fields[numberCol]!.trim(), variables, ...(tz ? { timezone: tz } : {}) };
    const parsed = campaignNumberSchema.safeParse(entry);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const col = issue.path[0] === 'to' ? names[numberCol] : issue.path[0] === 'timezone' ? names[tzCol] : String(issue.path[1] ?? issue.path[0]);
      throw new ApiError(400, `${where(col)}: ${issue.message}`, { code: 'invalid_field', field: 'csv' });
    }
    return { ...parsed.data, source: { field: () => 'csv', where: (column?: string) => where(column === 'to' ? names[numberCol] : column) } };
  });
}

export function numbersFromJson(numbers: CampaignNumberInput[]): Array<CampaignNumberInput & { source: Source }> {
  return numbers.map((n, i) => ({ ...n, source: { field: (sub?: string) => `numbers[${i}]${sub ? `.${sub}` : ''}`, where: (sub?: string) => `numbers[${i}]${sub ? `.${sub}` : ''}` } }));
}

/** Each number checked as it will be dialled: a real number, once in the list, its request complete. */
export async function checkNumbers(runbooks: RunbookLibrary, spec: CampaignSpec, numbers: Array<CampaignNumberInput & { source: Source }>): Promise<Array<Pick<CampaignNumber, 'to' | 'variables' | 'timezone'>>> {
  const seen = new Map<string, string>();
  const out: Array<Pick<CampaignNumber, 'to' | 'variables' | 'timezone'>> = [];
  for (const n of numbers) {
    const dest = checkDestination(n.to);
    if (!dest.ok) throw new ApiError(400, `${n.source.where('to')}: ${n.to} ${dest.message}`, { code: 'invalid_field', field: n.source.field('to') });
    const first = seen.get(dest.e164);
    if (first) throw new ApiError(400, `${n.source.where('to')}: ${dest.e164} is also in ${first}; a campaign dials each number once`, { code: 'invalid_field', field: n.source.field('to') });
    seen.set(dest.e164, n.source.where());
    const row = { to: dest.e164, variables: n.variables ?? {}, timezone: n.timezone ?? null };
    try {
      await callRequestFor(runbooks, spec, { campaignId: 'check', index: 0, attempt: 1, ...row });
    } catch (err) {
      // The per-number parts (variables) are named on the number; the campaign's own fields as they are.
      if (err instanceof CallRequestError && err.field === 'variables') throw new ApiError(400, `${n.source.where()}: ${err.message}`, { code: 'invalid_field', field: n.source.field('variables') });
      if (err instanceof ApiError && err.extra.field === 'variables') throw new ApiError(400, `${n.source.where()}: ${err.message}`, { code: 'invalid_field', field: n.source.field('variables') });
      throw err;
    }
    out.push(row);
  }
  return out;
}

/** `{{name}}` in instructions, filled from the number's variables; an unknown name is refused. */
function fillTemplate(text: string, variables: Record<string, string | number>): string {
  return text.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_, name: string) => {
    if (!(name in variables)) throw new CallRequestError(400, 'variables', `variables.${name}: is used in the instructions ({{${name}}}) but not given (it has: ${Object.keys(variables).join(', ') || 'none'})`);
    return String(variables[name]);
  });
}

/**
 * The call request for one dial of one number: the same request POST /api/calls takes (runbook expanded,
 * then the call schema), so every check a call gets applies. Its metadata names the campaign, the number
 * and the attempt; the attempt key is the dial's idempotency key (see campaign-runner.ts).
 */
export async function callRequestFor(
  runbooks: RunbookLibrary,
  spec: CampaignSpec,
  n: { campaignId: string; index: number; attempt: number; to: string; variables: Record<string, string | number> },
): Promise<CreateCallInput> {
  const metadata = { campaignId: n.campaignId, campaignNumber: n.index, campaignAttempt: attemptKey(n.campaignId, n.index, n.attempt) };
  const common = { to: n.to, clientId: spec.clientId, provider: spec.provider, voicemail: spec.voicemail, metadata };
  // A CSV often has columns the runbook does not use (a name for the results table): only its own variables are passed.
  const found = spec.runbook ? await runbooks.get(spec.runbook) : undefined;
  const declared = found && 'runbook' in found ? found.runbook.variables : undefined;
  const runbookVariables = Object.fromEntries(Object.entries(n.variables).filter(([k]) => !declared || k in declared).map(([k, v]) => [k, String(v)]));
  const body = spec.runbook
    ? { ...common, runbook: spec.runbook, variables: runbookVariables, instructions: spec.instructions && fillTemplate(spec.instructions, n.variables) }
    : { ...common, instructions: fillTemplate(spec.instructions!, n.variables) };
  const parsed = createCallSchema.safeParse(await resolveRunbookRequest(runbooks, body));
  if (!parsed.success) throw zodError(parsed.error);
  return parsed.data;
}

export const attemptKey = (campaignId: string, index: number, attempt: number) => `${campaignId}:${index}:${attempt}`;
