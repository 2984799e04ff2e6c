/** The calls list as a file: CSV (RFC 4180) for spreadsheets, or JSON. */

export interface ExportedCall {
  id: string;
  createdAt: string;
  direction: string;
  to: string;
  from?: string | null;
  clientId: string | null;
  clientName: string | null;
  purpose: string;
  status: string;
  endReason: string | null;
  answeredBy: string | null;
  durationSec: number | null;
  cost: { total: number; currency: string };
  outcome: { goalMet: string | null; summary: string | null } | null;
  instructions: string;
}

const COLUMNS: Array<[string, (c: ExportedCall) => string | number | null | undefined, 'text' | 'value']> = [
  ['id', (c) => c.id, 'value'],
  ['created_at', (c) => c.createdAt, 'value'],
  ['direction', (c) => c.direction, 'value'],
  ['to', (c) => c.to, 'value'],
  ['from', (c) => c.from, 'value'],
  ['client_id', (c) => c.clientId, 'value'],
  ['client_name', (c) => c.clientName, 'text'],
  ['purpose', (c) => c.purpose, 'text'],
  ['status', (c) => c.status, 'value'],
  ['end_reason', (c) => c.endReason, 'value'],
  ['answered_by', (c) => c.answeredBy, 'value'],
  ['duration_sec', (c) => c.durationSec, 'value'],
  ['cost', (c) => c.cost.total.toFixed(6), 'value'],
  ['currency', (c) => c.cost.currency, 'value'],
  ['goal_met', (c) => c.outcome?.goalMet, 'value'],
  ['summary', (c) => c.outcome?.summary, 'text'],
  ['instructions', (c) => c.instructions, 'text'],
];

/**
 * One CSV field: quoted when it holds a quote, comma or line break (quotes doubled). Free text (the
 * summary is made from what the callee said) that a spreadsheet would run as a formula (=, +, -, @, tab,
 * CR first) is prefixed with an apostrophe, as OWASP advises against CSV injection; numbers, ids and
 * phone numbers are written as they are.
 */
export function csvField(v: string | number | null | undefined, kind: 'text' | 'value' = 'value'): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (kind === 'text' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The calls as CSV: a header row, then one row per call, CRLF line ends (RFC 4180). */
export function callsCsv(calls: ExportedCall[]): string {
  const rows = [COLUMNS.map(([h]) => h).join(','), ...calls.map((c) => COLUMNS.map(([, get, kind]) => csvField(get(c), kind)).join(','))];
  return `${rows.join('\r\n')}\r\n`;
}
