import type { CallRow } from '../store/calls-repo.js';
import type { CallOutcome } from '../shared/api-types.js';
import { readMetadata, type CallMetadata } from '../calls/metadata.js';

/** The JSON a call's outcome is pushed as (webhook) and exported as (`export.json` adds the transcript). */
export interface OutcomePayload {
  type: 'call.outcome';
  deliveryId: string;
  call: {
    id: string;
    to: string;
    clientId: string | null;
    status: string;
    endReason: string | null;
    answeredBy: string | null;
    createdAt: string;
    answeredAt: string | null;
    endedAt: string | null;
    /** The caller's metadata from POST /api/calls ({} when none). */
    metadata: CallMetadata;
  };
  outcome: Omit<CallOutcome, 'webhook'>;
}

export function webhookPayload(call: CallRow, outcome: CallOutcome, deliveryId: string): OutcomePayload {
  const { webhook: _webhook, ...rest } = outcome;
  return {
    type: 'call.outcome',
    deliveryId,
    call: { id: call.id, to: call.to, clientId: call.clientId, status: call.status, endReason: call.endReason, answeredBy: call.answeredBy, createdAt: call.createdAt, answeredAt: call.answeredAt, endedAt: call.endedAt, metadata: readMetadata(call.metadataJson) },
    outcome: rest,
  };
}

/** The plain-text transcript with the outcome after its header: what a reader looks for comes first. */
export function withOutcomeText(transcriptText: string, o: CallOutcome | undefined): string {
  const cut = transcriptText.indexOf('\n\n') + 2;
  return transcriptText.slice(0, cut) + renderOutcomeText(o) + transcriptText.slice(cut);
}

/** The outcome as plain text, for the top of the `.txt` export. */
export function renderOutcomeText(o: CallOutcome | undefined): string {
  if (!o) return '';
  const lines = ['Outcome'];
  lines.push(`  Goal: ${o.goal.replace(/\s+/g, ' ').slice(0, 300)}`);
  if (o.status !== 'computed') {
    lines.push(o.status === 'pending' ? '  Not known yet (the call is live or its outcome is being worked out).' : `  Not computed: ${o.reason ?? o.status}`);
    return lines.join('\n') + '\n\n';
  }
  lines.push(`  Goal met: ${o.goalMet ?? 'unknown'}`);
  if (o.summary) lines.push(`  Summary: ${o.summary}`);
  for (const f of o.fields) {
    if (f.value === null) lines.push(`  ${f.name}: (not stated)${f.rejected ? ` [a value was given without a quote in the transcript; not used]` : ''}`);
    else lines.push(`  ${f.name}: ${String(f.value)}${f.citation ? `  (${f.citation.speaker === 'agent' ? 'Agent' : 'Callee'}: "${f.citation.quote}")` : ''}`);
  }
  for (const e of o.schemaErrors ?? []) lines.push(`  Does not match the outcome schema: ${e}`);
  return lines.join('\n') + '\n\n';
}
