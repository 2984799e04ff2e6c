/**
 * The simulator's "model": deterministic rules that read the numbered transcript in the prompt and fill
 * the response schema the request carries. Not clever, only predictable: a field's name picks a pattern,
 * the first that fits: a money amount for price/total/cost/fee/deposit, a clock time for time fields, a
 * weekday or month for date fields, a code with a digit for confirmation/reference/booking numbers, the callee's lines are searched before the
 * agent's, and the quote is the sentence of that line holding the match, copied verbatim.
 */

export interface PromptLine {
  line: number;
  speaker: 'agent' | 'callee';
  text: string;
}

export function parseTranscript(prompt: string): PromptLine[] {
  const out: PromptLine[] = [];
  for (const m of prompt.matchAll(/^\[(\d+)\] (Agent|Callee): (.*)$/gm)) out.push({ line: Number(m[1]), speaker: m[2] === 'Agent' ? 'agent' : 'callee', text: m[3]! });
  return out;
}

const WORDS = (name: string) => name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();

function patternFor(name: string): RegExp | undefined {
  const w = WORDS(name);
  if (/price|total|cost|amount|fee|deposit|charge/.test(w)) return /(?:\$|₹|£|€)\s?\d+(?:[.,]\d{1,2})?|\b\d+(?:\.\d{1,2})? (?:dollars|rupees|pounds|euros)\b/i;
  if (/time/.test(w)) return /\b\d{1,2}(?::\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.)|\b\d{1,2}:\d{2}\b/i;
  if (/date|day/.test(w)) return /\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|(?:january|february|march|april|may|june|july|august|september|october|november|december) \d{1,2}(?:st|nd|rd|th)?)\b/i;
  if (/confirm|reference|booking|ticket|code|order (number|id)/.test(w)) return /\b(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9][A-Z0-9-]{3,}\b/;
  return undefined;
}

/** The sentence of `text` around [start, end): an exact substring of the line. */
function sentenceAround(text: string, start: number, end: number): string {
  let a = start;
  while (a > 0 && !/[.!?]\s/.test(text.slice(a - 2, a))) a--;
  let b = end;
  while (b < text.length && !/[.!?]/.test(text[b]!)) b++;
  return text.slice(a, Math.min(text.length, b + 1)).trim();
}

function toValue(raw: string, type: string): string | number | boolean | null {
  if (type === 'number' || type === 'integer') {
    const n = Number(raw.replace(/[^\d.]/g, ''));
    return Number.isFinite(n) ? (type === 'integer' ? Math.round(n) : n) : null;
  }
  if (type === 'boolean') return true;
  return raw.trim();
}

export interface FieldSpec {
  name: string;
  type: string;
}

/** The answer the schema asks for, filled by the rules. */
export function answer(lines: PromptLine[], fields: FieldSpec[]): { summary: string; goalMet: string; fields: Record<string, { value: unknown; line: number | null; quote: string | null }> } {
  const ordered = [...lines.filter((l) => l.speaker === 'callee'), ...lines.filter((l) => l.speaker === 'agent')];
  const out: Record<string, { value: unknown; line: number | null; quote: string | null }> = {};
  let found = 0;
  for (const f of fields) {
    const re = patternFor(f.name);
    let hit: { value: unknown; line: number; quote: string } | undefined;
    for (const l of re ? ordered : []) {
      const m = re!.exec(l.text);
      if (!m) continue;
      const value = toValue(m[0], f.type);
      if (value === null) continue;
      hit = { value, line: l.line, quote: sentenceAround(l.text, m.index, m.index + m[0].length) };
      break;
    }
    if (hit) found++;
    out[f.name] = hit ?? { value: null, line: null, quote: null };
  }
  const goalMet = fields.length === 0 ? 'unknown' : found === fields.length ? 'achieved' : found ? 'partly' : 'not-achieved';
  const names = fields.filter((f) => out[f.name]!.value !== null).map((f) => f.name);
  const summary = `The call had ${lines.length} lines. ${names.length ? `It stated ${names.join(', ')}.` : 'It stated none of the facts asked for.'}`;
  return { summary, goalMet, fields: out };
}

/** The facts the response schema asks for: properties.fields.properties.<name>.properties.value.type. */
export function fieldSpecs(schema: unknown): FieldSpec[] {
  const fields = (schema as any)?.properties?.fields?.properties;
  if (!fields || typeof fields !== 'object') return [];
  return Object.entries(fields as Record<string, any>).map(([name, p]) => {
    const t = p?.properties?.value?.type;
    return { name, type: String(Array.isArray(t) ? t.find((x: string) => x !== 'null') : t ?? 'string') };
  });
}
