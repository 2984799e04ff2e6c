import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, download } from '../lib/api';
import { formatPhone } from '../lib/format';
import { Alert, Link, PageHeader, Spinner } from '../components/ui';
import { Icon } from '../components/icons';
import { progressText, type CampaignSummary } from './Campaigns';

interface CampaignNumber {
  index: number;
  to: string;
  variables: Record<string, string | number>;
  state: 'pending' | 'dialing' | 'calling' | 'done';
  outcome: string | null;
  attempts: number;
  callId: string | null;
  detail: string | null;
  updatedAt: string;
}

const STATE_LABEL: Record<CampaignNumber['state'], string> = { pending: 'Waiting', dialing: 'Dialling', calling: 'On a call', done: 'Done' };

/**
 * One campaign: its progress and every number, kept live from /api/campaigns/{id}/events (each event
 * carries the whole campaign or number, so a reconnect just carries on).
 */
export function CampaignPage({ id }: { id: string }) {
  const [campaign, setCampaign] = useState<CampaignSummary | null>(null);
  const [numbers, setNumbers] = useState<CampaignNumber[]>([]);
  const [error, setError] = useState<Error | null>(null);
  const [live, setLive] = useState(false);

  useEffect(() => {
    const ctrl = new AbortController();
    // The stream starts with the whole state (`numbers`, then `campaign`), on every connect and reconnect,
    // and every event after it is newer: held state is replaced by it, then updated in order. The read
    // only fills the page until the stream's first state arrives, and shows why a campaign cannot be loaded.
    let streamed = false;
    const es = new EventSource(`/api/campaigns/${encodeURIComponent(id)}/events`);
    es.addEventListener('open', () => setLive(true));
    es.addEventListener('error', () => setLive(false));
    es.addEventListener('numbers', (e) => {
      streamed = true;
      setNumbers(JSON.parse((e as MessageEvent).data));
    });
    es.addEventListener('campaign', (e) => setCampaign(JSON.parse((e as MessageEvent).data)));
    es.addEventListener('number', (e) => {
      const n = JSON.parse((e as MessageEvent).data) as CampaignNumber;
      setNumbers((all) => all.map((x) => (x.index === n.index ? n : x)));
    });
    api<CampaignSummary & { numbers: CampaignNumber[] }>(`/api/campaigns/${encodeURIComponent(id)}`, { signal: ctrl.signal })
      .then(({ numbers: ns, ...c }) => {
        if (streamed) return;
        setCampaign(c);
        setNumbers(ns);
      })
      .catch((err) => (err as Error).name !== 'AbortError' && setError(err as Error));
    es.addEventListener('end', () => {
      setLive(false);
      es.close();
    });
    return () => {
      ctrl.abort();
      es.close();
    };
  }, [id]);

  const act = async (verb: 'pause' | 'resume' | 'cancel') => {
    setError(null);
    try {
      setCampaign(await api<CampaignSummary>(`/api/campaigns/${encodeURIComponent(id)}/${verb}`, { method: 'POST' }));
    } catch (err) {
      setError(err as ApiError);
    }
  };

  if (!campaign) return error ? <Alert title="Could not load the campaign">{error.message}</Alert> : <Spinner label="Loading the campaign" />;
  const open = campaign.status === 'active' || campaign.status === 'paused';
  const variables = [...new Set(numbers.flatMap((n) => Object.keys(n.variables)))];
  return (
    <>
      <PageHeader
        title={campaign.name}
        subtitle={`${campaign.status}${live ? ' · live' : ''}`}
        back={{ href: '/campaigns', label: 'Campaigns' }}
        actions={
          <>
            {campaign.status === 'active' && (
              <button class="btn" type="button" onClick={() => void act('pause')}>
                Pause
              </button>
            )}
            {campaign.status === 'paused' && (
              <button class="btn" type="button" onClick={() => void act('resume')}>
                Resume
              </button>
            )}
            {open && (
              <button class="btn btn-danger" type="button" onClick={() => void act('cancel')}>
                Cancel
              </button>
            )}
            <button class="btn" type="button" onClick={() => void download(`/api/campaigns/${encodeURIComponent(id)}/results.csv`, `campaign-${id}.csv`)}>
              <Icon name="download" /> Export CSV
            </button>
          </>
        }
      />
      {error && <Alert title="That did not work">{error.message}</Alert>}
      <div class="card">
        <p class="strong" role="status" aria-live="polite" data-testid="campaign-progress">
          {progressText(campaign.progress)}
        </p>
        <progress max={campaign.progress.total} value={campaign.progress.done} aria-label="Numbers done" style={{ width: "100%" }} />
      </div>
      <div class="card table-card">
        <table class="table">
          <caption class="visually-hidden">Numbers and outcomes</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Number</th>
              {variables.map((v) => (
                <th scope="col" key={v}>
                  {v}
                </th>
              ))}
              <th scope="col">State</th>
              <th scope="col">Outcome</th>
              <th scope="col">Tries</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {numbers.map((n) => (
              <tr key={n.index}>
                <td data-label="#">{n.index}</td>
                <td data-label="Number" class="strong">
                  {n.callId ? <Link href={`/calls/${n.callId}`}>{formatPhone(n.to)}</Link> : formatPhone(n.to)}
                </td>
                {variables.map((v) => (
                  <td data-label={v} key={v}>
                    {n.variables[v] ?? ''}
                  </td>
                ))}
                <td data-label="State">{STATE_LABEL[n.state]}</td>
                <td data-label="Outcome">{n.outcome ?? '—'}</td>
                <td data-label="Tries">{n.attempts}</td>
                <td data-label="Detail" class="muted">
                  {n.detail ?? ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
