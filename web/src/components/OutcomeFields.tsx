/**
 * The new-call form's optional outcome part: what counts as success, and the facts to record as a JSON
 * Schema (docs/outcome.md). Folded away by default; a runbook gives both, and these override it.
 */
export function OutcomeFields(p: {
  goal: string;
  schema: string;
  errors: Record<string, string>;
  fromRunbook: boolean;
  onGoal(v: string): void;
  onSchema(v: string): void;
}) {
  const open = Boolean(p.goal || p.schema || p.errors.goal || p.errors.outcomeSchema);
  return (
    <details class="field outcome-fields-form" open={open}>
      <summary>Outcome to record (optional)</summary>
      <div class="field">
        <label for="goal">Goal</label>
        <input id="goal" type="text" value={p.goal} maxLength={2000} onInput={(e) => p.onGoal((e.target as HTMLInputElement).value)} aria-invalid={p.errors.goal ? 'true' : undefined} aria-describedby="goal-hint" />
        <p id="goal-hint" class={p.errors.goal ? 'field-error' : 'hint'}>
          {p.errors.goal || `What counts as success, in a sentence. Empty: ${p.fromRunbook ? "the runbook's goal" : 'the instructions are the goal'}.`}
        </p>
      </div>
      <div class="field">
        <label for="outcomeSchema">Facts to record (JSON Schema)</label>
        <textarea
          id="outcomeSchema"
          class="mono"
          rows={6}
          spellcheck={false}
          placeholder={'{"type": "object", "properties": {"confirmationNumber": {"type": "string"}, "price": {"type": "number"}}}'}
          value={p.schema}
          onInput={(e) => p.onSchema((e.target as HTMLTextAreaElement).value)}
          aria-invalid={p.errors.outcomeSchema ? 'true' : undefined}
          aria-describedby="outcomeSchema-hint"
        />
        <p id="outcomeSchema-hint" class={p.errors.outcomeSchema ? 'field-error' : 'hint'}>
          {p.errors.outcomeSchema || `An object whose properties are the facts to record; each is shown with the words of the call it came from. Empty: ${p.fromRunbook ? "the runbook's" : 'a summary and the verdict only'}.`}
        </p>
      </div>
    </details>
  );
}

/** The schema text as JSON, or why it is not: checked here so a typo is named before anything is sent. */
export function parseSchemaText(text: string): { schema?: Record<string, unknown>; error?: string } {
  if (!text.trim()) return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return { error: 'must be a JSON object, e.g. {"type": "object", "properties": {...}}' };
    return { schema: v as Record<string, unknown> };
  } catch (err) {
    return { error: `is not valid JSON: ${(err as Error).message}` };
  }
}
