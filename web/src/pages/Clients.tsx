import { useState } from 'preact/hooks';
import { api, ApiError } from '../lib/api';
import { loadClients } from '../lib/app-data';
import { navigate } from '../lib/router';
import { useAsync } from '../lib/use-async';
import { Alert, Card, Empty, Link, PageHeader, Spinner } from '../components/ui';
import { Icon } from '../components/icons';

export function Clients() {
  const clients = useAsync((signal) => loadClients(signal), []);
  const [creating, setCreating] = useState(false);
  return (
    <>
      <PageHeader
        title="Clients"
        subtitle="The people the agent calls for: their profile, and the documents it may quote."
        actions={
          !creating && (
            <button class="btn btn-primary" type="button" onClick={() => setCreating(true)}>
              <Icon name="plus" /> New client
            </button>
          )
        }
      />
      {creating && <CreateClient onCancel={() => setCreating(false)} />}
      {clients.error && <Alert title="Could not load clients">{clients.error.message}</Alert>}
      {clients.loading && !clients.data ? (
        <Spinner label="Loading clients" />
      ) : clients.data && clients.data.length === 0 ? (
        <div class="card">
          <Empty icon="users" title="No clients yet">
            Create one to give the agent a name to call for, and documents to answer from.
          </Empty>
        </div>
      ) : (
        <ul class="client-grid">
          {clients.data?.map((c) => (
            <li key={c.id}>
              <Link class="client-card card" href={`/clients/${encodeURIComponent(c.id)}`}>
                <span class="avatar" aria-hidden="true">
                  {initials(c.name)}
                </span>
                <span class="client-text">
                  <span class="client-name">{c.name}</span>
                  <span class="muted">
                    {c.id} · {c.documents} document{c.documents === 1 ? '' : 's'} · {c.chunks} passage{c.chunks === 1 ? '' : 's'}
                  </span>
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

const initials = (name: string) =>
  name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]!.toUpperCase())
    .join('');

function CreateClient({ onCancel }: { onCancel(): void }) {
  const [form, setForm] = useState({ name: '', id: '', profile: '', systemPrompt: '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value });

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!form.name.trim()) {
      setErrors({ name: 'Enter the client’s full name.' });
      document.getElementById('c-name')?.focus();
      return;
    }
    setBusy(true);
    setErrors({});
    setError(undefined);
    try {
      const r = await api<{ id: string }>('/api/clients', {
        method: 'POST',
        json: { name: form.name.trim(), ...(form.id.trim() ? { id: form.id.trim() } : {}), ...(form.profile.trim() ? { profile: form.profile } : {}), ...(form.systemPrompt.trim() ? { systemPrompt: form.systemPrompt } : {}) },
      });
      navigate(`/clients/${encodeURIComponent(r.id)}`);
    } catch (err) {
      if (err instanceof ApiError && err.field && ['name', 'id', 'profile', 'systemPrompt'].includes(err.field)) {
        setErrors({ [err.field]: err.message });
        document.getElementById(`c-${err.field}`)?.focus();
      } else setError((err as Error).message);
      setBusy(false);
    }
  };

  const fieldProps = (k: string, hint: string) => ({ 'aria-invalid': errors[k] ? ('true' as const) : undefined, 'aria-describedby': `c-${k}-hint`, hintEl: <p id={`c-${k}-hint`} class={errors[k] ? 'field-error' : 'hint'}>{errors[k] || hint}</p> });
  const name = fieldProps('name', 'As the agent should say it: “calling on behalf of …”.');
  const id = fieldProps('id', 'Optional: letters, digits, - and _. Made from the name if empty.');
  const profile = fieldProps('profile', 'Facts the agent may use: phone, address, preferences.');
  const prompt = fieldProps('systemPrompt', 'Optional: replaces the built-in prompt template ({{name}}, {{profile}}, {{instructions}}).');

  return (
    <Card title="New client" id="new-client">
      <form class="form" onSubmit={submit} noValidate>
        {error && <Alert title="The client was not created">{error}</Alert>}
        <div class="field-row">
          <div class="field">
            <label for="c-name">Full name</label>
            <input id="c-name" value={form.name} onInput={set('name')} autoComplete="off" aria-invalid={name['aria-invalid']} aria-describedby={name['aria-describedby']} />
            {name.hintEl}
          </div>
          <div class="field">
            <label for="c-id">Client id</label>
            <input id="c-id" value={form.id} onInput={set('id')} autoComplete="off" aria-invalid={id['aria-invalid']} aria-describedby={id['aria-describedby']} />
            {id.hintEl}
          </div>
        </div>
        <div class="field">
          <label for="c-profile">Profile</label>
          <textarea id="c-profile" rows={4} value={form.profile} onInput={set('profile')} aria-invalid={profile['aria-invalid']} aria-describedby={profile['aria-describedby']} />
          {profile.hintEl}
        </div>
        <div class="field">
          <label for="c-systemPrompt">System prompt</label>
          <textarea id="c-systemPrompt" rows={3} value={form.systemPrompt} onInput={set('systemPrompt')} aria-invalid={prompt['aria-invalid']} aria-describedby={prompt['aria-describedby']} />
          {prompt.hintEl}
        </div>
        <div class="form-actions">
          <button class="btn" type="button" onClick={onCancel}>
            Cancel
          </button>
          <button class="btn btn-primary" type="submit" disabled={busy}>
            {busy ? 'Creating…' : 'Create client'}
          </button>
        </div>
      </form>
    </Card>
  );
}
