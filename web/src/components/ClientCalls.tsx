import { useState } from 'preact/hooks';
import { api } from '../lib/api';
import { formatDate, formatPhone } from '../lib/format';
import { navigate } from '../lib/router';
import { useAsync } from '../lib/use-async';
import type { CallSummary, ClientDetails } from '../lib/types';
import { Alert, Card, Empty, Link, Spinner, StatusBadge } from './ui';
import { Icon } from './icons';

/** The client's latest calls, with a link to all of them in the calls list. */
export function ClientCalls({ id }: { id: string }) {
  const calls = useAsync((signal) => api<{ calls: CallSummary[]; nextCursor: string | null }>(`/api/calls?limit=10&clientId=${encodeURIComponent(id)}`, { signal }), [id]);
  return (
    <Card
      title="Calls"
      id="client-calls"
      actions={
        <Link class="btn" href={`/calls?clientId=${encodeURIComponent(id)}`}>
          All calls for this client
        </Link>
      }
    >
      {calls.error ? (
        <Alert title="Could not load the calls">{calls.error.message}</Alert>
      ) : !calls.data ? (
        <Spinner label="Loading calls" />
      ) : calls.data.calls.length === 0 ? (
        <Empty icon="phone" title="No calls for this client yet" />
      ) : (
        <ul class="doc-list client-calls">
          {calls.data.calls.map((c) => (
            <li key={c.id} class="doc">
              <Icon name="phone" size={20} class="doc-icon" />
              <div class="doc-main">
                <Link href={`/calls/${c.id}`} class="doc-name strong">
                  {c.direction === 'inbound' ? `From ${formatPhone(c.from ?? 'unknown')}` : formatPhone(c.to)}
                </Link>
                <span class="muted doc-meta">
                  {c.purpose ? `${c.purpose} · ` : ''}
                  {formatDate(c.createdAt)}
                </span>
              </div>
              <StatusBadge status={c.status} endReason={c.endReason} />
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

/** Deletes the client (folder, profile, documents) after a confirmation; its calls keep their records. */
export function DeleteClient({ client }: { client: ClientDetails }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const remove = async () => {
    const docs = `${client.documents} document${client.documents === 1 ? '' : 's'}`;
    if (!confirm(`Delete ${client.name} and their ${docs}? Calls made for them keep their records.`)) return;
    setBusy(true);
    setError(undefined);
    try {
      await api(`/api/clients/${encodeURIComponent(client.id)}`, { method: 'DELETE' });
      navigate('/clients');
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };
  return (
    <Card title="Delete this client" id="delete-client" class="danger-zone">
      <p class="muted">Removes the profile, the system prompt and every document (from disk and from the search index). Calls made for this client keep their records.</p>
      {error && <Alert title="The client was not deleted">{error}</Alert>}
      <div class="form-actions">
        <button class="btn btn-danger" type="button" disabled={busy} onClick={remove}>
          <Icon name="trash" /> {busy ? 'Deleting…' : 'Delete client'}
        </button>
      </div>
    </Card>
  );
}
