import { CallRequestError } from '../calls/call-request.js';
import { expandRunbook } from './expand-runbook.js';
import type { RunbookLibrary } from './runbook-library.js';

/**
 * A call request that names a runbook (`{runbook, to, clientId, variables}`) becomes a plain call
 * request: the runbook's instructions and settings, with what the request itself sets taking precedence
 * (its `instructions` are added as notes for this call). Anything else passes through unchanged.
 */
export async function resolveRunbookRequest(library: RunbookLibrary, body: unknown): Promise<unknown> {
  if (!body || typeof body !== 'object' || !('runbook' in body)) return body;
  const { runbook: name, variables, instructions, ...own } = body as Record<string, unknown>;
  if (typeof name !== 'string' || !name) throw new CallRequestError(400, 'runbook', 'runbook: must be the name of a runbook (GET /api/runbooks lists them)');
  if (variables !== undefined && (typeof variables !== 'object' || variables === null || Array.isArray(variables))) {
    throw new CallRequestError(400, 'variables', 'variables: must be an object of name: value');
  }
  if (instructions !== undefined && typeof instructions !== 'string') throw new CallRequestError(400, 'instructions', 'instructions: must be a string');
  const found = await library.get(name);
  if (!('runbook' in found)) {
    const first = found.problems[0];
    if ('missing' in found) throw new CallRequestError(404, 'runbook', `runbook: ${first.message}`);
    throw new CallRequestError(422, 'runbook', `runbook: "${name}" cannot be used: ${first.line ? `line ${first.line}: ` : ''}${first.field ? `${first.field}: ` : ''}${first.message}`);
  }
  const expanded = expandRunbook(found.runbook, { variables: variables as Record<string, unknown> | undefined, instructions: instructions as string | undefined });
  const defined = Object.fromEntries(Object.entries(own).filter(([, v]) => v !== undefined));
  return { ...expanded, ...defined, runbook: name };
}
