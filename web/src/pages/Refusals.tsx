import { useState } from 'preact/hooks';
import { api } from '../lib/api';
import { loadClients } from '../lib/app-data';
import { useAsync } from '../lib/use-async';
import type { Refusal } from '../lib/types';
import { formatDate, formatPhone } from '../lib/format';
import { Alert, Empty, Link, LoadMore, PageHeader, Spinner } from '../components/ui';

interface Page {
  refusals: Refusal[];
  nextBefore: number | null;
}

/** What each dial-policy rule means, in the words a user would use. */
const RULE_LABEL: Record<string, string> = {
  emergency: 'Emergency number',
  'premium-rate': 'Premium-rate number',
  'shared-cost': 'Shared-cost number',
  invalid: 'Not a valid number',
  format: 'Not in international format',
  'not-allowed': 'Not on the allow list',
  'do-not-call': 'On the do-not-call list',
  'calling-hours': 'Outside calling hours',
  'max-concurrent-calls': 'Too many calls at once',
  'max-calls-per-day': 'Daily call limit reached',
  'max-cost-per-day': 'Daily cost limit reached',
};

/** The dial policy's record: every call it refused, newest first, with the reason it gave. */
export function Refusals() {
  const clients = useAsync((signal) => loadClients(signal), []);
  const first = useAsync((signal) => api<Page>('/api/refusals?limit=50', { signal }), []);
  const [more, setMore] = useState<Page | null>(null);
  const rows = [...(first.data?.refusals ?? []), ...(more?.refusals ?? [])];
  const nextBefore = more ? more.nextBefore : first.data?.nextBefore;
  const clientName = (id: string | null) => (id ? clients.data?.find((c) => c.id === id)?.name ?? id : '—');

  return (
    <>
      <PageHeader title="Refused calls" subtitle="Calls the dial policy did not place, newest first. They were never dialled and cost nothing." back={{ href: '/calls', label: 'Calls' }} />
      {first.error && <Alert title="Could not load refused calls">{first.error.message}</Alert>}
      {first.loading && !first.data ? (
        <Spinner label="Loading refused calls" />
      ) : rows.length === 0 && !first.error ? (
        <div class="card">
          <Empty icon="list" title="No refused calls">
            Every call asked for so far was placed. <Link href="/calls">See the calls</Link>
          </Empty>
        </div>
      ) : (
        <div class="card table-card">
          <table class="table refusals-table">
            <caption class="visually-hidden">Refused calls</caption>
            <thead>
              <tr>
                <th scope="col">Number</th>
                <th scope="col">Client</th>
                <th scope="col">Reason</th>
                <th scope="col">Date</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  <td data-label="Number" class="strong">
                    {formatPhone(r.to)}
                  </td>
                  <td data-label="Client">{clientName(r.clientId)}</td>
                  <td data-label="Reason">
                    <span class="strong">{RULE_LABEL[r.rule] ?? r.rule}</span>
                    <div class="muted refusal-message">{r.message.replace(/^to: /, '')}</div>
                  </td>
                  <td data-label="Date">{formatDate(r.at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {nextBefore && (
            <LoadMore
              load={async () => {
                const next = await api<Page>(`/api/refusals?limit=50&before=${nextBefore}`);
                setMore({ refusals: [...(more?.refusals ?? []), ...next.refusals], nextBefore: next.nextBefore });
              }}
            />
          )}
        </div>
      )}
    </>
  );
}
