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

/**
 * The newer of two views of one number. The page's first read and the event stream race: an event may
 * arrive before the read answers (and must not be lost), or the read may have been answered after a change
 * whose event is still on its way (and must not be rolled back by it).
 */
const newer = (a: CampaignNumber, b: CampaignNumber | undefined) => (b && b.updatedAt >= a.updatedAt ? b : a);

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
    // Numbers seen on the stream, kept until the first read has answered and merged with it by updatedAt.
    const streamed = new Map<number, CampaignNumber>();
    let read = false;
    let streamedCampaign = false;
    const es = new EventSource(`/api/campaigns/${encodeURIComponent(id)}/events`);
    es.addEventListener('open', () => setLive(true));
    es.addEventListener('campaign', (e) => {
      streamedCampaign = true;
      setCampaign(JSON.parse((e as MessageEvent).data));
    });
    es.addEventListener('number', (e) => {
      const n = JSON.parse((e as MessageEvent).data) as CampaignNumber;
      streamed.set(n.index, newer(n, streamed.get(n.index)));
      if (read) setNumbers((all) => all.map((x) => (x.index === n.index ? newer(n, x) : x)));
    });
    api<CampaignSummary & { numbers: CampaignNumber[] }>(`/api/campaigns/${encodeURIComponent(id)}`, { signal: ctrl.signal })
      .then(({ numbers: ns, ...c }) => {
        // The stream sends the campaign when it opens and on every change: once it has, it is the newer.
        if (!streamedCampaign) setCampaign(c);
        setNumbers(ns.map((n) => newer(n, streamed.get(n.index))));
        read = true;
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
