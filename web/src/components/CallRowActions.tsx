import { useState } from 'preact/hooks';
import { api, download } from '../lib/api';
import { callAgainHref } from '../lib/call-again';
import { formatPhone } from '../lib/format';
import type { CallSummary } from '../lib/types';
import { Icon } from './icons';
import { Link } from './ui';

/** What a call's row offers: its recording, placing it again (the form opens filled in), deleting it. */
export function CallRowActions({ call: c, onDeleted, onError }: { call: CallSummary; onDeleted(id: string): void; onError(message: string): void }) {
  const [busy, setBusy] = useState(false);
  const who = c.direction === 'inbound' ? `the call from ${formatPhone(c.from ?? 'unknown')}` : `the call to ${formatPhone(c.to)}`;
  const live = c.status !== 'ended';

  const remove = async () => {
    if (!confirm(`Delete ${who}? Its record, recording and transcript are removed for good.`)) return;
    setBusy(true);
    try {
      await api(`/api/calls/${encodeURIComponent(c.id)}`, { method: 'DELETE' });
      onDeleted(c.id);
    } catch (err) {
      onError(`${who[0]!.toUpperCase()}${who.slice(1)} was not deleted: ${(err as Error).message}`);
      setBusy(false);
    }
  };

  return (
    <div class="row-actions">
      {c.recording && (
        <button class="btn btn-icon btn-ghost" type="button" aria-label={`Download the recording of ${who}`} title="Download the recording" onClick={() => download(c.recording!.url, `call-${c.id}.mp3`).catch((e: Error) => onError(`Could not download the recording: ${e.message}`))}>
          <Icon name="download" />
        </button>
      )}
      {c.direction === 'outbound' && (
        <Link class="btn btn-icon btn-ghost" href={callAgainHref(c.id)} aria-label={`Call again: ${who}`} title="Call again with the same settings">
          <Icon name="phone" />
        </Link>
      )}
      <button class="btn btn-icon btn-ghost" type="button" disabled={busy || live} aria-label={`Delete ${who}`} title={live ? 'A live call cannot be deleted' : 'Delete'} onClick={remove}>
        <Icon name="trash" />
      </button>
    </div>
  );
}
