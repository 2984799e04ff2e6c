import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api';
import { loadClients } from '../lib/app-data';
import { useAsync, useDebounced } from '../lib/use-async';
import type { CallSummary } from '../lib/types';
import { END_REASON_LABEL, formatDate, formatDuration, formatMoney, formatPhone } from '../lib/format';
import { navigate } from '../lib/router';
import { Alert, Empty, Link, LoadMore, PageHeader, Spinner, StatusBadge } from '../components/ui';
import { Icon } from '../components/icons';
import { GoalMetBadge, GOAL_MET_LABEL } from '../components/OutcomeCard';
import { CallRowActions } from '../components/CallRowActions';
import { CallsOverview } from '../components/CallsOverview';
import { ExportCalls } from '../components/ExportCalls';

interface Filters {
  q: string;
  status: string;
  endReason: string;
  clientId: string;
  goalMet: string;
  /** `inbound`: the "Incoming" filter (calls to our number). */
  direction: string;
}

function readFilters(): Filters {
  const p = new URLSearchParams(location.search);
  return { q: p.get('q') ?? '', status: p.get('status') ?? '', endReason: p.get('endReason') ?? '', clientId: p.get('clientId') ?? '', goalMet: p.get('goalMet') ?? '', direction: p.get('direction') ?? '' };
}

function query(f: Filters, cursor?: string): string {
  const p = new URLSearchParams();
  if (f.q.trim()) p.set('q', f.q.trim());
  if (f.status) p.set('status', f.status);
  if (f.endReason) p.set('endReason', f.endReason);
  if (f.clientId) p.set('clientId', f.clientId);
  if (f.goalMet) p.set('goalMet', f.goalMet);
  if (f.direction) p.set('direction', f.direction);
  if (cursor) p.set('cursor', cursor);
  return p.toString();
}

export function History() {
  const [filters, setFilters] = useState<Filters>(readFilters);
  const q = useDebounced(filters.q, 300);
  const effective = { ...filters, q };
  const clients = useAsync((signal) => loadClients(signal), []);
  const [more, setMore] = useState<{ calls: CallSummary[]; nextCursor: string | null } | null>(null);
  const [deleted, setDeleted] = useState<string[]>([]);
  const [actionError, setActionError] = useState<string>();
  const page = useAsync((signal) => api<{ calls: CallSummary[]; nextCursor: string | null }>(`/api/calls?limit=25&${query(effective)}`, { signal }), [q, filters.status, filters.endReason, filters.clientId, filters.goalMet, filters.direction]);

  useEffect(() => {
    setMore(null);
    // The filters live in the address, so a filtered list can be bookmarked or shared.
    const qs = query(effective);
    history.replaceState(null, '', `/calls${qs ? `?${qs}` : ''}`);
  }, [q, filters.status, filters.endReason, filters.clientId, filters.goalMet, filters.direction]);

  const calls = [...(page.data?.calls ?? []), ...(more?.calls ?? [])].filter((c) => !deleted.includes(c.id));
  const nextCursor = more ? more.nextCursor : page.data?.nextCursor;
  const clientName = (id: string | null) => (id ? clients.data?.find((c) => c.id === id)?.name ?? id : '—');
  const set = (k: keyof Filters) => (e: Event) => setFilters({ ...filters, [k]: (e.target as HTMLInputElement).value });
  const filtered = Boolean(filters.q || filters.status || filters.endReason || filters.clientId || filters.goalMet || filters.direction);

  return (
    <>
      <PageHeader
        title="Calls"
        subtitle="Every call, newest first."
        actions={
          <>
            <ExportCalls query={query(effective)} />
            <Link class="btn" href="/refusals">
              Refused calls
            </Link>
            <Link class="btn btn-primary" href="/">
              <Icon name="plus" /> New call
            </Link>
          </>
        }
      />
      <CallsOverview refresh={deleted.length} />
      <form class="filters card" role="search" aria-label="Filter calls" onSubmit={(e) => e.preventDefault()}>
        <div class="field grow">
          <label for="f-q">Search</label>
          <div class="input-icon">
            <Icon name="search" size={16} />
            <input id="f-q" type="search" placeholder="Number, client or instructions" value={filters.q} onInput={set('q')} />
          </div>
        </div>
        <div class="field">
          <label for="f-status">Status</label>
          <select id="f-status" value={filters.status} onChange={set('status')}>
            <option value="">Any</option>
            <option value="live">Live now</option>
            <option value="ended">Ended</option>
          </select>
        </div>
        <div class="field">
          <label for="f-direction">Direction</label>
          <select id="f-direction" value={filters.direction} onChange={set('direction')}>
            <option value="">Any</option>
            <option value="inbound">Incoming</option>
            <option value="outbound">Outgoing</option>
          </select>
        </div>
        <div class="field">
          <label for="f-reason">How it ended</label>
          <select id="f-reason" value={filters.endReason} onChange={set('endReason')}>
            <option value="">Any</option>
            {Object.entries(END_REASON_LABEL).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-goal">Goal</label>
          <select id="f-goal" value={filters.goalMet} onChange={set('goalMet')}>
            <option value="">Any</option>
            {Object.entries(GOAL_MET_LABEL).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
            <option value="none">No verdict</option>
          </select>
        </div>
        <div class="field">
          <label for="f-client">Client</label>
          <select id="f-client" value={filters.clientId} onChange={set('clientId')}>
            <option value="">Any</option>
            {clients.data?.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
      </form>

      {page.error && <Alert title="Could not load calls">{page.error.message}</Alert>}
      <div aria-live="polite">{actionError && <Alert>{actionError}</Alert>}</div>
      {page.loading && !page.data ? (
        <Spinner label="Loading calls" />
      ) : calls.length === 0 && !page.error ? (
        <div class="card">
          <Empty icon="list" title={filtered ? 'No calls match these filters' : 'No calls yet'}>
            {filtered ? 'Try fewer filters.' : <Link href="/">Place your first call</Link>}
          </Empty>
        </div>
      ) : (
        <div class="card table-card">
          <table class="table calls-table">
            <caption class="visually-hidden">Calls{filtered ? ' matching the filters' : ''}</caption>
            <thead>
              <tr>
                <th scope="col">Number</th>
                <th scope="col">For</th>
                <th scope="col">Client</th>
                <th scope="col">Status</th>
                <th scope="col">Goal</th>
                <th scope="col" class="num">
                  Duration
                </th>
                <th scope="col" class="num">
                  Cost
                </th>
                <th scope="col">Date</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody aria-busy={page.loading ? 'true' : undefined}>
              {calls.map((c) => (
                <tr key={c.id} class="row-link" onClick={(e) => !(e.target as HTMLElement).closest('a, button') && navigate(`/calls/${c.id}`)}>
                  <td data-label="Number">
                    <Link href={`/calls/${c.id}`} class="strong">
                      {c.direction === 'inbound' ? formatPhone(c.from ?? 'unknown') : formatPhone(c.to)}
                    </Link>
                    {c.direction === 'inbound' && <span class="muted"> incoming</span>}
                  </td>
                  <td data-label="For" title={c.purpose}>
                    <span class="purpose-text">{c.purpose || '—'}</span>
                  </td>
                  <td data-label="Client">{clientName(c.clientId)}</td>
                  <td data-label="Status">
                    <StatusBadge status={c.status} endReason={c.endReason} />
                  </td>
                  <td data-label="Goal" title={c.outcome?.summary ?? undefined}>
                    <GoalMetBadge outcome={c.outcome} />
                  </td>
                  <td data-label="Duration" class="num mono">
                    {formatDuration(c.durationSec)}
                  </td>
                  <td data-label="Cost" class="num mono">
                    {c.cost ? formatMoney(c.cost.total, c.cost.currency) : '—'}
                  </td>
                  <td data-label="Date">{formatDate(c.createdAt)}</td>
                  <td data-label="Actions">
                    <CallRowActions
                      call={c}
                      onError={setActionError}
                      onDeleted={(id) => {
                        setActionError(undefined);
                        setDeleted([...deleted, id]);
                      }}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {nextCursor && (
            <LoadMore
              load={async () => {
                const next = await api<{ calls: CallSummary[]; nextCursor: string | null }>(`/api/calls?limit=25&${query(effective, nextCursor)}`);
                setMore({ calls: [...(more?.calls ?? []), ...next.calls], nextCursor: next.nextCursor });
              }}
            />
          )}
        </div>
      )}
    </>
  );
}
