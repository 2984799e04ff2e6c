import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api';
import { useAsync } from '../lib/use-async';
import { formatDate, formatPhone } from '../lib/format';
import type { ScheduledCall } from '../../../src/shared/scheduled-call-types.js';
import { Alert, Card, Link } from './ui';

/**
 * Calls set for later that have not dialled yet, the next first, each with Cancel; and the latest that
 * were missed, refused or failed, with the reason. `version` changes when the page schedules one.
 */
export function ScheduledCalls({ version }: { version: number }) {
  const list = useAsync((signal) => api<{ scheduledCalls: ScheduledCall[] }>('/api/scheduled-calls?limit=50', { signal }), [version]);
  const [error, setError] = useState('');
  // A waiting call dials at its time: look again shortly after the next one is due.
  const next = list.data?.scheduledCalls.filter((c) => c.status === 'scheduled').map((c) => Date.parse(c.scheduledAt)).sort((a, b) => a - b)[0];
  useEffect(() => {
    if (next === undefined) return;
    const t = setTimeout(() => list.reload(), Math.min(2_147_000_000, Math.max(1000, next - Date.now() + 1500)));
    return () => clearTimeout(t);
  }, [next]);

  const rows = list.data?.scheduledCalls ?? [];
  const waiting = rows.filter((c) => c.status === 'scheduled' || c.status === 'dialing').sort((a, b) => a.scheduledAt.localeCompare(b.scheduledAt));
  const notPlaced = rows.filter((c) => ['missed', 'refused', 'failed'].includes(c.status)).slice(0, 5);
  if (!waiting.length && !notPlaced.length) return null;

  const cancel = async (id: string) => {
    setError('');
    try {
      await api(`/api/scheduled-calls/${id}/cancel`, { method: 'POST' });
    } catch (err) {
      setError((err as Error).message);
    }
    list.reload();
  };

  return (
    <Card title="Scheduled calls" id="scheduled-calls">
      {error && <Alert>{error}</Alert>}
      {waiting.length === 0 ? (
        <p class="muted">No calls are waiting.</p>
      ) : (
        <ul class="scheduled-list" aria-label="Waiting to dial">
          {waiting.map((c) => (
            <li key={c.id} data-status={c.status}>
              <div>
                <strong>{formatDate(c.scheduledAt)}</strong> · {formatPhone(c.to)}
                {c.clientId ? ` · ${c.clientId}` : ''}
                <div class="muted">{c.instructions.split('\n')[0]}</div>
                {c.overrideCallingHours && <div class="muted">Calling hours overridden: {c.overrideReason}</div>}
              </div>
              {c.status === 'scheduled' ? (
                <button class="btn" type="button" onClick={() => cancel(c.id)} aria-label={`Cancel the call to ${formatPhone(c.to)} at ${formatDate(c.scheduledAt)}`}>
                  Cancel
                </button>
              ) : (
                <span class="badge badge-live">Dialling</span>
              )}
            </li>
          ))}
        </ul>
      )}
      {notPlaced.length > 0 && (
        <>
          <h3 class="muted">Not placed</h3>
          <ul class="scheduled-list" aria-label="Scheduled calls not placed">
            {notPlaced.map((c) => (
              <li key={c.id} data-status={c.status}>
                <div>
                  <strong>{formatDate(c.scheduledAt)}</strong> · {formatPhone(c.to)} · {c.status}
                  <div class="muted">{c.reason}</div>
                </div>
                {c.callId && <Link href={`/calls/${c.callId}`}>Open call</Link>}
              </li>
            ))}
          </ul>
        </>
      )}
    </Card>
  );
}
