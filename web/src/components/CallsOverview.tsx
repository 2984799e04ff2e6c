import { api } from '../lib/api';
import { formatMoney } from '../lib/format';
import type { CallsOverview as Overview } from '../lib/types';
import { useAsync } from '../lib/use-async';
import { Link } from './ui';

/** Today (UTC, the caps' day) at a glance: calls and spend against the caps, live calls, refusals. */
export function CallsOverview({ refresh }: { refresh: unknown }) {
  const o = useAsync((signal) => api<Overview>('/api/calls/overview', { signal }), [refresh]);
  if (!o.data) return null;
  const d = o.data;
  const of = (max: number, text: string) => (max > 0 ? <span class="muted stat-of"> of {text}</span> : <span class="muted stat-of"> (no cap)</span>);
  return (
    <section class="stats overview" aria-label={`Today (UTC ${d.day})`}>
      <div class="stat" data-testid="overview-calls">
        <span class="stat-label">Calls today</span>
        <span class="stat-value mono">
          {d.calls.today}
          {of(d.calls.max, String(d.calls.max))}
        </span>
      </div>
      <div class="stat" data-testid="overview-spend">
        <span class="stat-label">Spend today</span>
        <span class="stat-value mono">
          {formatMoney(d.spend.today, d.spend.currency)}
          {of(d.spend.max, formatMoney(d.spend.max, d.spend.currency))}
        </span>
      </div>
      <div class="stat" data-testid="overview-live">
        <span class="stat-label">Live now</span>
        <span class="stat-value mono">
          {d.live.now}
          {of(d.live.max, String(d.live.max))}
        </span>
      </div>
      <div class="stat" data-testid="overview-refused">
        <span class="stat-label">Refused today</span>
        <span class="stat-value mono">
          <Link href="/refusals">
            {d.refused.today}
            <span class="visually-hidden"> refused: see them</span>
          </Link>
        </span>
      </div>
    </section>
  );
}
