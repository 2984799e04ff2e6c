import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../lib/api';
import { useAsync, useDebounced } from '../lib/use-async';
import type { ClientDetails } from '../lib/types';
import { Alert, Card, Spinner } from './ui';

type Draft = Pick<ClientDetails, 'name' | 'profile' | 'systemPrompt'>;
const FIELDS = ['name', 'profile', 'systemPrompt'] as const;

/**
 * The client's name, profile and system-prompt override, edited side by side with the prompt a call
 * would get: the server builds the preview exactly as a call builds its prompt, from the unsaved text.
 */
export function ClientEditor({ client, onSaved }: { client: ClientDetails; onSaved(c: ClientDetails): void }) {
  const [draft, setDraft] = useState<Draft>({ name: client.name, profile: client.profile, systemPrompt: client.systemPrompt });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const dirty = FIELDS.some((k) => draft[k] !== client[k]);
  const set = (k: keyof Draft) => (e: Event) => {
    setDraft({ ...draft, [k]: (e.target as HTMLInputElement).value });
    setSaved(false);
    if (errors[k]) setErrors({ ...errors, [k]: '' });
  };

  const save = async (e: Event) => {
    e.preventDefault();
    if (!draft.name.trim()) {
      setErrors({ name: 'Enter the client’s full name.' });
      document.getElementById('e-name')?.focus();
      return;
    }
    setBusy(true);
    setError(undefined);
    setErrors({});
    try {
      // Only what changed: a rename alone leaves the profile file's other lines as they are.
      const patch = Object.fromEntries(FIELDS.filter((k) => draft[k] !== client[k]).map((k) => [k, k === 'name' ? draft[k].trim() : draft[k]]));
      const c = await api<ClientDetails>(`/api/clients/${encodeURIComponent(client.id)}`, { method: 'PATCH', json: patch });
      setDraft({ name: c.name, profile: c.profile, systemPrompt: c.systemPrompt });
      setSaved(true);
      onSaved(c);
    } catch (err) {
      if (err instanceof ApiError && err.field && (FIELDS as readonly string[]).includes(err.field)) {
        setErrors({ [err.field]: err.message });
        document.getElementById(`e-${err.field}`)?.focus();
      } else setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const hint = (k: keyof Draft, text: string) => (
    <p id={`e-${k}-hint`} class={errors[k] ? 'field-error' : 'hint'}>
      {errors[k] || text}
    </p>
  );
  const fieldProps = (k: keyof Draft) => ({ id: `e-${k}`, value: draft[k], onInput: set(k), 'aria-invalid': errors[k] ? ('true' as const) : undefined, 'aria-describedby': `e-${k}-hint` });

  return (
    <div class="grid-2">
      <Card title="Profile" id="profile">
        <form class="form" onSubmit={save} noValidate aria-label="Client profile">
          {error && <Alert title="The changes were not saved">{error}</Alert>}
          <div class="field">
            <label for="e-name">Full name</label>
            <input {...fieldProps('name')} autoComplete="off" />
            {hint('name', 'The agent calls “on behalf of” this name. Renaming keeps the client id; past calls keep the name they were made under.')}
          </div>
          <div class="field">
            <label for="e-profile">Profile</label>
            <textarea {...fieldProps('profile')} rows={6} />
            {hint('profile', 'Facts the agent may use: phone, address, preferences.')}
          </div>
          <div class="field">
            <label for="e-systemPrompt">System prompt override</label>
            <textarea {...fieldProps('systemPrompt')} rows={5} placeholder="Empty: the built-in prompt" />
            {hint('systemPrompt', 'Optional: replaces the built-in template ({{name}}, {{profile}}, {{instructions}}). The disclosure and honesty rules are always added.')}
          </div>
          <div class="form-actions">
            <span role="status" class="muted">
              {saved && !dirty ? 'Saved.' : dirty ? 'Unsaved changes.' : ''}
            </span>
            <button class="btn" type="button" disabled={!dirty || busy} onClick={() => setDraft({ name: client.name, profile: client.profile, systemPrompt: client.systemPrompt })}>
              Discard
            </button>
            <button class="btn btn-primary" type="submit" disabled={!dirty || busy}>
              {busy ? 'Saving…' : 'Save changes'}
            </button>
          </div>
        </form>
      </Card>
      <PromptPreview id={client.id} draft={draft} />
    </div>
  );
}

/** The prompt the agent would get for a call (POST /api/clients/:id/prompt), following the unsaved edits. */
function PromptPreview({ id, draft }: { id: string; draft: Draft }) {
  const [instructions, setInstructions] = useState('');
  const body = useDebounced(JSON.stringify({ ...draft, name: draft.name.trim() || undefined, instructions: instructions.trim() || undefined }), 350);
  const preview = useAsync((signal) => api<{ prompt: string; reference: Array<{ file: string; page: number | null }> }>(`/api/clients/${encodeURIComponent(id)}/prompt`, { method: 'POST', json: JSON.parse(body), signal }), [id, body]);
  // Keep the last good preview on screen while a newer one loads or fails.
  const [shown, setShown] = useState<string>();
  useEffect(() => {
    if (preview.data) setShown(preview.data.prompt);
  }, [preview.data]);
  return (
    <Card title="What the agent is told" id="prompt-preview">
      <div class="field">
        <label for="preview-instructions">Instructions to preview with</label>
        <input id="preview-instructions" value={instructions} onInput={(e) => setInstructions((e.target as HTMLInputElement).value)} placeholder="e.g. Book a table for two at 8" aria-describedby="preview-hint" />
        <p id="preview-hint" class="hint">
          The system prompt a call for this client gets, built as the call builds it{preview.data?.reference.length ? `, with ${preview.data.reference.length} passage${preview.data.reference.length === 1 ? '' : 's'} of the documents` : ''}.
        </p>
      </div>
      {preview.error && <Alert tone="warn">Could not build the preview: {preview.error.message}</Alert>}
      {shown === undefined ? (
        <Spinner label="Building the preview" />
      ) : (
        <pre class="prompt-preview" data-testid="prompt-preview" tabIndex={0} aria-label="The system prompt" aria-busy={preview.loading ? 'true' : undefined}>
          {shown}
        </pre>
      )}
    </Card>
  );
}
