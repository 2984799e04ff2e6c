import { useMemo, useState } from 'preact/hooks';
import { api, ApiError } from '../lib/api';
import { loadClients, status as statusStore } from '../lib/app-data';
import { navigate } from '../lib/router';
import { useStore } from '../lib/store';
import { useAsync, useDebounced } from '../lib/use-async';
import { checkPhone, countryName } from '../lib/phone';
import type { Engine, RunbookSummary, SearchResponse } from '../lib/types';
import { RunbookFields } from '../components/RunbookFields';
import { ENGINE_LABEL } from '../lib/format';
import { ENGINE_NAMES } from '../../../src/voice/engine-names.js';
import { Alert, Card, Link, PageHeader, Spinner } from '../components/ui';
import { Icon } from '../components/icons';
import { SearchResults } from '../components/SearchResults';
import { OutcomeFields, parseSchemaText } from '../components/OutcomeFields';
import { describeExtras, useCallAgain } from '../lib/call-again';
import { WHEN_NOW, WhenFields, whenRequest, type WhenValue } from '../components/WhenFields';
import { ScheduledCalls } from '../components/ScheduledCalls';
import { formatDate } from '../lib/format';

const MAX_INSTRUCTIONS = 8000;

export function NewCall() {
  const st = useStore(statusStore);
  const country = st?.defaultCountry ?? 'US';
  const clients = useAsync((signal) => loadClients(signal), []);
  const [to, setTo] = useState('');
  const [toTouched, setToTouched] = useState(false);
  const [instructions, setInstructions] = useState('');
  const [clientId, setClientId] = useState('');
  const [engine, setEngine] = useState<Engine | ''>('');
  const runbooks = useAsync((signal) => api<{ runbooks: RunbookSummary[] }>('/api/runbooks', { signal }), []);
  const [runbook, setRunbook] = useState('');
  const [variables, setVariables] = useState<Record<string, string>>({});
  const [goal, setGoal] = useState('');
  const [schemaText, setSchemaText] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<{ message: string; missing?: string[] } | null>(null);
  const [busy, setBusy] = useState(false);
  // "Call again" from the calls list: the form opens with the call's settings, to check before dialling.
  const again = useCallAgain((r) => {
    setTo(r.to);
    setInstructions(r.instructions);
    setClientId(r.clientId ?? '');
    setEngine(r.provider);
    setGoal(r.goal ?? '');
    setSchemaText(r.outcomeSchema ? JSON.stringify(r.outcomeSchema, null, 2) : '');
  });
  const [when, setWhen] = useState<WhenValue>(WHEN_NOW);
  const [scheduled, setScheduled] = useState<{ at: string; version: number } | null>(null);

  const phone = useMemo(() => checkPhone(to, country), [to, country]);
  const chosenEngine: Engine = engine || st?.provider || 'openai';
  const previewQuery = useDebounced(instructions.trim(), 450);

  const preview = useAsync(
    async (signal) => (clientId && previewQuery ? api<SearchResponse>(`/api/clients/${encodeURIComponent(clientId)}/search?q=${encodeURIComponent(previewQuery.slice(0, 500))}&k=5`, { signal }) : undefined),
    [clientId, previewQuery],
  );

  const submit = async (e: Event) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (phone.state !== 'valid') errs.to = phone.state === 'empty' ? 'Enter the number to call.' : phone.message;
    if (!instructions.trim() && !runbook) errs.instructions = 'Tell the agent what the call is for, or choose a runbook.';
    const outcome = parseSchemaText(schemaText);
    if (outcome.error) errs.outcomeSchema = outcome.error;
    const timing = whenRequest(when);
    Object.assign(errs, timing.errors);
    setErrors(errs);
    setToTouched(true);
    setFormError(null);
    if (Object.keys(errs).length) {
      document.getElementById(['to', 'instructions', 'outcomeSchema', 'scheduledAt', 'overrideReason'].find((f) => errs[f]) ?? 'to')?.focus();
      return;
    }
    setBusy(true);
    try {
      const r = await api<{ id: string; status: string; scheduledAt?: string }>('/api/calls', {
        method: 'POST',
        json: {
          to: phone.state === 'valid' ? phone.e164 : to,
          ...(runbook ? { runbook, variables: Object.fromEntries(Object.entries(variables).filter(([, v]) => v.trim())) } : {}),
          ...(instructions.trim() || !runbook ? { instructions } : {}),
          ...(clientId ? { clientId } : {}),
          ...(goal.trim() ? { goal: goal.trim() } : {}),
          ...(outcome.schema ? { outcomeSchema: outcome.schema } : {}),
          provider: chosenEngine,
          ...again.extras,
          ...timing.fields,
        },
      });
      if (r.status === 'scheduled') {
        setScheduled({ at: r.scheduledAt!, version: (scheduled?.version ?? 0) + 1 });
        setWhen(WHEN_NOW);
        return;
      }
      navigate(`/calls/${r.id}`);
    } catch (err) {
      if (err instanceof ApiError && err.field === 'variables') {
        setErrors({ variables: err.message });
        document.getElementById(`var-${/^variables\.([A-Za-z0-9_]+)/.exec(err.message)?.[1]}`)?.focus();
      } else if (err instanceof ApiError && err.field && ['to', 'instructions', 'clientId', 'provider', 'runbook', 'goal', 'outcomeSchema', 'scheduledAt', 'overrideReason'].includes(err.field)) {
        setErrors({ [err.field]: err.message.replace(new RegExp(`^${err.field}:\\s*`), '') });
        document.getElementById(err.field === 'provider' ? 'engine-openai' : err.field)?.focus();
      } else setFormError({ message: (err as Error).message, missing: err instanceof ApiError ? err.missing : undefined });
    } finally {
      setBusy(false);
    }
  };

  const client = clients.data?.find((c) => c.id === clientId);
  const engines = st?.engines;

  return (
    <>
      <PageHeader title="New call" subtitle="The agent calls, holds the conversation for you, and keeps a faithful record." />
      {st && !st.readyToCall && (
        <Alert tone="warn" title="Not ready to place real calls yet">
          Missing settings: {st.missing.join('; ')}. <Link href="/settings">See settings</Link>.
        </Alert>
      )}
      <div class="grid-2">
        <form class="card form" onSubmit={submit} noValidate aria-label="Call details">
          {again.error && <Alert tone="warn">{again.error}</Alert>}
          {again.from && (
            <Alert tone="info" title="Calling again with the same settings">
              Check them, then place the call.{describeExtras(again.extras).length ? ` Also repeated: ${describeExtras(again.extras).join('; ')}.` : ''}
            </Alert>
          )}
          {formError && (
            <Alert title="The call was not placed">
              {formError.message}
              {formError.missing && formError.missing.length > 0 && (
                <ul>
                  {formError.missing.map((m) => (
                    <li key={m}>{m}</li>
                  ))}
                </ul>
              )}
            </Alert>
          )}
          <div class="field">
            <label for="to">Phone number</label>
            <input
              id="to"
              name="to"
              type="tel"
              inputMode="tel"
              autoComplete="off"
              placeholder={country === 'US' ? '(415) 555-0123' : '+44 20 7946 0000'}
              value={to}
              onInput={(e) => {
                setTo((e.target as HTMLInputElement).value);
                if (errors.to) setErrors({ ...errors, to: '' });
              }}
              onBlur={() => setToTouched(true)}
              aria-invalid={errors.to || (toTouched && phone.state === 'invalid') ? 'true' : undefined}
              aria-describedby="to-status"
            />
            <p id="to-status" class={errors.to || (toTouched && phone.state === 'invalid') ? 'field-error' : phone.state === 'valid' ? 'field-ok' : 'hint'} aria-live="polite">
              {errors.to ? (
                errors.to
              ) : phone.state === 'valid' ? (
                <>
                  <Icon name="check" size={14} /> {phone.international}
                  {phone.country ? ` · ${phone.country}` : ''}
                </>
              ) : phone.state === 'empty' ? (
                `Without a leading +, the number is read as ${countryName(country) ?? country}.`
              ) : phone.state === 'invalid' && toTouched ? (
                phone.message
              ) : (
                phone.state === 'invalid' ? 'Checking as you type…' : phone.message
              )}
            </p>
          </div>

          <RunbookFields
            runbooks={runbooks.data?.runbooks}
            loadError={runbooks.error ?? undefined}
            name={runbook}
            onName={(n) => {
              setRunbook(n);
              setVariables({});
              setErrors({ ...errors, runbook: '', variables: '', instructions: '' });
            }}
            variables={variables}
            onVariables={(v) => {
              setVariables(v);
              if (errors.variables) setErrors({ ...errors, variables: '' });
            }}
            errors={errors}
          />

          <div class="field">
            <label for="instructions">{runbook ? 'Notes for this call (optional)' : 'Instructions'}</label>
            <textarea
              id="instructions"
              name="instructions"
              rows={6}
              maxLength={MAX_INSTRUCTIONS}
              placeholder="Order one chicken biryani for pickup at 7, my name is Raju. Don't make anything up."
              value={instructions}
              onInput={(e) => {
                setInstructions((e.target as HTMLTextAreaElement).value);
                if (errors.instructions) setErrors({ ...errors, instructions: '' });
              }}
              aria-invalid={errors.instructions ? 'true' : undefined}
              aria-describedby="instructions-hint"
            />
            <p id="instructions-hint" class={errors.instructions ? 'field-error' : 'hint'}>
              {errors.instructions || `What the call is for, what to say, what not to agree to. ${instructions.length} / ${MAX_INSTRUCTIONS}`}
            </p>
          </div>

          <div class="field-row">
            <div class="field">
              <label for="clientId">On behalf of</label>
              <select id="clientId" value={clientId} onChange={(e) => setClientId((e.target as HTMLSelectElement).value)} aria-invalid={errors.clientId ? 'true' : undefined} aria-describedby="client-hint">
                <option value="">No client profile</option>
                {clients.data?.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
              <p id="client-hint" class={errors.clientId ? 'field-error' : 'hint'}>
                {errors.clientId || (clients.error ? `Could not load clients: ${clients.error.message}` : <>Whose name and documents the agent uses. <Link href="/clients">Manage clients</Link></>)}
              </p>
            </div>

            <fieldset class="field">
              <legend>Voice engine</legend>
              <div class="segmented">
                {ENGINE_NAMES.map((id) => (
                  <label key={id} class={`segment${chosenEngine === id ? ' selected' : ''}`}>
                    <input type="radio" id={`engine-${id}`} name="engine" value={id} checked={chosenEngine === id} onChange={() => setEngine(id)} />
                    <span>{ENGINE_LABEL[id]}</span>
                  </label>
                ))}
              </div>
              <p class={errors.provider ? 'field-error' : 'hint'}>
                {errors.provider || (engines && !engines[chosenEngine].configured ? `${ENGINE_LABEL[chosenEngine]} has no API key configured.` : `Default: ${ENGINE_LABEL[st?.provider ?? 'openai']}.`)}
              </p>
            </fieldset>
          </div>

          <OutcomeFields
            goal={goal}
            schema={schemaText}
            errors={errors}
            fromRunbook={Boolean(runbook)}
            onGoal={(v) => {
              setGoal(v);
              if (errors.goal) setErrors({ ...errors, goal: '' });
            }}
            onSchema={(v) => {
              setSchemaText(v);
              if (errors.outcomeSchema) setErrors({ ...errors, outcomeSchema: '' });
            }}
          />

          <WhenFields
            value={when}
            callingHours={st?.safety.callingHours}
            errors={errors}
            onChange={(v) => {
              setWhen(v);
              if (errors.scheduledAt || errors.overrideReason) setErrors({ ...errors, scheduledAt: '', overrideReason: '' });
            }}
          />

          {scheduled && (
            <Alert tone="success" title="Call scheduled">
              It dials {formatDate(scheduled.at)}. It is listed under Scheduled calls, where it can be cancelled.
            </Alert>
          )}
          <div class="form-actions">
            <button class="btn btn-primary btn-lg" type="submit" disabled={busy}>
              <Icon name="phone" /> {when.later ? (busy ? 'Scheduling…' : 'Schedule call') : busy ? 'Placing the call…' : 'Place call'}
            </button>
          </div>
        </form>

        <Card title="What the agent will know" id="preview" class="preview">
          {!clientId ? (
            <p class="muted">Choose a client to see their profile and the passages of their documents the agent retrieves for these instructions.</p>
          ) : (
            <>
              <p class="muted">
                Calling as <strong>{client?.name ?? clientId}</strong>
                {client ? ` · ${client.documents} document${client.documents === 1 ? '' : 's'}` : ''}.
              </p>
              {!previewQuery ? (
                <p class="muted">Type the instructions to see what the agent would look up.</p>
              ) : preview.loading && !preview.data ? (
                <Spinner label="Looking up documents" />
              ) : preview.error ? (
                <Alert tone="warn">Could not search this client's documents: {preview.error.message}</Alert>
              ) : preview.data ? (
                <SearchResults results={preview.data.results} compact emptyText="Nothing in this client's documents matches these instructions." />
              ) : null}
            </>
          )}
        </Card>
      </div>
      <ScheduledCalls version={scheduled?.version ?? 0} />
    </>
  );
}
