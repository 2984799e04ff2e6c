import type { CallRow } from '../store/calls-repo.js';

/** Longest purpose shown in a list row; the whole instructions are on the call's page. */
const MAX_PURPOSE = 120;

/**
 * What a call was for, in one line: the runbook it followed (recorded on its first `status` event), else
 * the first non-empty line of its instructions.
 */
export function callPurpose(call: Pick<CallRow, 'instructions'>, firstStatus?: { data: Record<string, unknown> }): string {
  const runbook = firstStatus?.data.runbook;
  if (typeof runbook === 'string' && runbook) return `Runbook: ${runbook}`;
  const line = call.instructions.split(/\r?\n/).map((l) => l.trim()).find(Boolean) ?? '';
  return line.length > MAX_PURPOSE ? `${line.slice(0, MAX_PURPOSE - 1)}…` : line;
}
