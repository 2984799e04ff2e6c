import { useState } from 'preact/hooks';
import { api, ApiError } from '../lib/api';
import { loadClients } from '../lib/app-data';
import { navigate } from '../lib/router';
import { useAsync } from '../lib/use-async';
import { formatDate } from '../lib/format';
import { Alert, Empty, Link, PageHeader, Spinner } from '../components/ui';
import { Icon } from '../components/icons';

/** A campaign as GET /api/campaigns shows it (src/campaigns/campaign-service.ts). */
export interface CampaignSummary {
  id: string;
  name: string;
  status: 'active' | 'paused' | 'cancelled' | 'completed';
  createdAt: string;
  total: number;
  runbook: string | null;
  instructions: string | null;
  clientId: string | null;
  callingHours: string | null;
  concurrency: number;
  progress: { total: number; pending: number; inFlight: number; done: number } & Record<string, number>;
}

/** "3/10 done · 2 answered, 1 busy · 2 on a call". */
export function progressText(p: CampaignSummary['progress']): string {
  const { total, pending: _p, inFlight, done, ...outcomes } = p;
  const parts = Object.entries(outcomes).map(([k, v]) => `${v} ${k}`);
  return [`${done}/${total} done`, parts.join(', '), inFlight ? `${inFlight} on a call` : ''].filter(Boolean).join(' · ');
}

/** Campaigns: the list, and a form to start one from a CSV file. */
export function Campaigns() {
  const list = useAsync((signal) => api<{ campaigns: CampaignSummary[] }>('/api/campaigns', { signal }), []);
  const clients = useAsync((signal) => loadClients(signal), []);
  const [name, setName] = useState('');
  const [instructions, setInstructions] = useState('');
  const [runbook, setRunbook] = useState('');
  const [clientId, setClientId] = useState('');
  const [concurrency, setConcurrency] = useState('2');
  const [callingHours, setCallingHours] = useState('');
  const [csv, setCsv] = useState<{ name: string; text: string } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (!csv) return setError(new ApiError(400, 'Choose a CSV file with the numbers.', 'csv'));
    setBusy(true);
    try {
      const c = await api<CampaignSummary>('/api/campaigns', {
        method: 'POST',
        json: {
          name,
          csv: csv.text,
          concurrency: Number(concurrency),
          ...(instructions.trim() ? { instructions } : {}),
          ...(runbook.trim() ? { runbook: runbook.trim() } : {}),
          ...(clientId ? { clientId } : {}),
          ...(callingHours.trim() ? { callingHours: callingHours.trim() } : {}),
        },
      });
      navigate(`/campaigns/${c.id}`);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, (err as Error).message));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader title="Campaigns" subtitle="One plan, many numbers: each number dialled once, inside calling hours, with retries for busy lines and no answer." />
      <form class="card form" onSubmit={submit} noValidate aria-label="New campaign">
        <h2>New campaign</h2>
        {error && <Alert title="The campaign was not started">{error.field ? `${error.message}` : error.message}</Alert>}
        <div class="field">
          <label for="campaign-name">Name</label>
          <input id="campaign-name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} aria-invalid={error?.field === 'name' ? 'true' : undefined} />
        </div>
        <div class="field">
          <label for="campaign-csv">Numbers (CSV)</label>
          <input
            id="campaign-csv"
            type="file"
            accept=".csv,text/csv"
            aria-describedby="campaign-csv-hint"
            aria-invalid={error?.field === 'csv' ? 'true' : undefined}
            onChange={async (e) => {
              const f = (e.target as HTMLInputElement).files?.[0];
              setCsv(f ? { name: f.name, text: await f.text() } : null);
            }}
          />
          <p id="campaign-csv-hint" class="hint">
            A header row with a <code>phone</code> (or <code>to</code>) column in international format, an optional <code>timezone</code> column; every other column is a variable, used as <code>{'{{column}}'}</code> in the instructions.
          </p>
        </div>
        <div class="field">
          <label for="campaign-instructions">Instructions</label>
          <textarea id="campaign-instructions" rows={4} value={instructions} placeholder="Remind {{name}} of the appointment on {{date}}." onInput={(e) => setInstructions((e.target as HTMLTextAreaElement).value)} />
        </div>
        <div class="field-row">
          <div class="field">
            <label for="campaign-runbook">Runbook (optional)</label>
            <input id="campaign-runbook" value={runbook} onInput={(e) => setRunbook((e.target as HTMLInputElement).value)} />
          </div>
          <div class="field">
            <label for="campaign-client">On behalf of</label>
            <select id="campaign-client" value={clientId} onChange={(e) => setClientId((e.target as HTMLSelectElement).value)}>
              <option value="">No client</option>
              {(clients.data ?? []).map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div class="field-row">
          <div class="field">
            <label for="campaign-concurrency">Calls at once</label>
            <input id="campaign-concurrency" type="number" min={1} max={100} value={concurrency} onInput={(e) => setConcurrency((e.target as HTMLInputElement).value)} />
          </div>
          <div class="field">
            <label for="campaign-hours">Calling hours (callee's local time)</label>
            <input id="campaign-hours" placeholder="09:00-18:00" value={callingHours} onInput={(e) => setCallingHours((e.target as HTMLInputElement).value)} />
          </div>
        </div>
        <div class="form-actions">
          <button class="btn btn-primary btn-lg" type="submit" disabled={busy}>
            <Icon name="upload" /> {busy ? 'Starting…' : 'Start campaign'}
          </button>
        </div>
      </form>

      {list.error && <Alert title="Could not load campaigns">{list.error.message}</Alert>}
      {list.loading && !list.data ? (
        <Spinner label="Loading campaigns" />
      ) : !list.data?.campaigns.length ? (
        <div class="card">
          <Empty icon="list" title="No campaigns yet">
            Start one above from a CSV file.
          </Empty>
        </div>
      ) : (
        <div class="card table-card">
          <table class="table">
            <caption class="visually-hidden">Campaigns</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Started</th>
              </tr>
            </thead>
            <tbody>
              {list.data.campaigns.map((c) => (
                <tr key={c.id}>
                  <td data-label="Name" class="strong">
                    <Link href={`/campaigns/${c.id}`}>{c.name}</Link>
                  </td>
                  <td data-label="Status">{c.status}</td>
                  <td data-label="Progress">{progressText(c.progress)}</td>
                  <td data-label="Started">{formatDate(c.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
