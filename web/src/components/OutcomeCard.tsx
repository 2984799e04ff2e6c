import type { CallOutcome, GoalMet } from '../lib/types';

export const GOAL_MET_LABEL: Record<GoalMet, string> = {
  achieved: 'Goal met',
  partly: 'Goal partly met',
  'not-achieved': 'Goal not met',
  unknown: 'Unclear from the call',
};

const GOAL_MET_CLASS: Record<GoalMet, string> = { achieved: 'badge-ok', partly: 'status-pending', 'not-achieved': 'badge-bad', unknown: '' };

/** The verdict as a badge, for the call page and the calls list. */
export function GoalMetBadge({ outcome }: { outcome: Pick<CallOutcome, 'status' | 'goalMet'> | null | undefined }) {
  if (!outcome) return <span class="muted">—</span>;
  if (outcome.status === 'pending') return <span class="badge">Working out…</span>;
  if (outcome.status !== 'computed' || !outcome.goalMet) return <span class="badge">{outcome.status === 'failed' ? 'Outcome failed' : 'Not computed'}</span>;
  return <span class={`badge ${GOAL_MET_CLASS[outcome.goalMet]}`}>{GOAL_MET_LABEL[outcome.goalMet]}</span>;
}

const display = (v: string | number | boolean) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v));

/**
 * What came of the call, first on its page: the verdict, the summary, and each fact with the words of
 * the transcript it was taken from. A value the model gave without a quote from the call is flagged, never
 * shown as a fact.
 */
export function OutcomeCard({ outcome }: { outcome: CallOutcome }) {
  return (
    <section class="card outcome-card" aria-labelledby="outcome-title" data-testid="outcome">
      <div class="outcome-head">
        <h2 id="outcome-title">Outcome</h2>
        <GoalMetBadge outcome={outcome} />
      </div>
      <p class="muted outcome-goal">
        <span class="visually-hidden">Goal: </span>
        {outcome.goal}
      </p>
      {outcome.status === 'pending' && <p>The outcome is being worked out from the transcript…</p>}
      {(outcome.status === 'not-computed' || outcome.status === 'failed') && (
        <p role="status">
          {outcome.status === 'failed' ? 'The outcome could not be worked out' : 'The outcome was not computed'}
          {outcome.reason ? `: ${outcome.reason}` : '.'}
        </p>
      )}
      {outcome.summary && <p class="outcome-summary">{outcome.summary}</p>}
      {outcome.fields.length > 0 && (
        <dl class="outcome-fields">
          {outcome.fields.map((f) => (
            <div key={f.name} class="outcome-field">
              <dt>{f.name}</dt>
              <dd>
                {f.value === null ? <span class="muted">not stated</span> : <strong class="mono">{display(f.value)}</strong>}
                {f.citation && (
                  <blockquote class="outcome-quote">
                    <span class="muted">{f.citation.speaker === 'agent' ? 'Agent' : 'Callee'}: </span>“{f.citation.quote}”
                  </blockquote>
                )}
                {f.rejected && <span class="tag" title={`The model said ${JSON.stringify(f.rejected.value)}, quoting ${JSON.stringify(f.rejected.quote)}`}>not found in the transcript: not used</span>}
              </dd>
            </div>
          ))}
        </dl>
      )}
      {outcome.schemaErrors && outcome.schemaErrors.length > 0 && <p class="muted">Does not match the outcome schema: {outcome.schemaErrors.join('; ')}</p>}
      {outcome.webhook.status !== 'not-configured' && (
        <p class="muted outcome-webhook">
          Webhook: {outcome.webhook.status === 'delivered' ? 'delivered' : outcome.webhook.status === 'pending' ? 'sending…' : `not delivered after ${outcome.webhook.attempts} tries${outcome.webhook.lastError ? ` (${outcome.webhook.lastError})` : ''}`}
        </p>
      )}
    </section>
  );
}
