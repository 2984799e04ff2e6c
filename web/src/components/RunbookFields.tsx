import type { RunbookSummary } from '../lib/types';
import { Link } from './ui';

interface Props {
  runbooks: RunbookSummary[] | undefined;
  loadError?: Error;
  name: string;
  onName(name: string): void;
  variables: Record<string, string>;
  onVariables(v: Record<string, string>): void;
  /** Field errors from the server: `runbook`, or `variables` with the variable named in the message. */
  errors: Record<string, string>;
}

/**
 * Choosing a runbook for a new call and filling in its variables. A runbook whose file has problems is
 * listed but cannot be chosen, with its first problem and line shown, so the user knows what to fix.
 */
export function RunbookFields({ runbooks, loadError, name, onName, variables, onVariables, errors }: Props) {
  const chosen = runbooks?.find((r) => r.name === name);
  const broken = runbooks?.filter((r) => !r.valid) ?? [];
  const varError = errors.variables ? /^variables\.([A-Za-z0-9_]+):\s*(.*)$/.exec(errors.variables) : null;
  return (
    <>
      <div class="field">
        <label for="runbook">Runbook</label>
        <select id="runbook" value={name} onChange={(e) => onName((e.target as HTMLSelectElement).value)} aria-invalid={errors.runbook ? 'true' : undefined} aria-describedby="runbook-hint">
          <option value="">None: write the instructions</option>
          {runbooks?.map((r) => (
            <option key={r.name} value={r.name} disabled={!r.valid}>
              {r.title ?? r.name}
              {r.valid ? '' : ' (has problems)'}
            </option>
          ))}
        </select>
        <p id="runbook-hint" class={errors.runbook ? 'field-error' : 'hint'}>
          {errors.runbook ||
            (loadError
              ? `Could not load runbooks: ${loadError.message}`
              : chosen
                ? chosen.description ?? chosen.goal
                : 'A plan for a call people make again and again: cancel a subscription, book an appointment, order food.')}
        </p>
        {broken.length > 0 && (
          <ul class="hint" aria-label="Runbooks with problems">
            {broken.map((r) => (
              <li key={r.name}>
                {r.file}: {r.problems[0]?.line ? `line ${r.problems[0].line}: ` : ''}
                {r.problems[0]?.field ? `${r.problems[0].field}: ` : ''}
                {r.problems[0]?.message}
              </li>
            ))}
          </ul>
        )}
      </div>
      {chosen &&
        Object.entries(chosen.variables ?? {}).map(([v, spec]) => {
          const err = varError?.[1] === v ? varError[2] : '';
          return (
            <div class="field" key={v}>
              <label for={`var-${v}`}>
                {spec.description}
                {spec.required && spec.default === undefined ? '' : ' (optional)'}
              </label>
              <input
                id={`var-${v}`}
                name={v}
                value={variables[v] ?? ''}
                placeholder={spec.example ?? spec.default ?? ''}
                onInput={(e) => onVariables({ ...variables, [v]: (e.target as HTMLInputElement).value })}
                aria-invalid={err ? 'true' : undefined}
              />
              {err && <p class="field-error">{err}</p>}
            </div>
          );
        })}
      {!runbooks?.length && !loadError && (
        <p class="hint">
          No runbooks yet: add one to RUNBOOKS_DIR (<Link href="/settings">settings</Link>).
        </p>
      )}
    </>
  );
}
