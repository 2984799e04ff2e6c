import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../lib/api';
import { useAsync, useDebounced } from '../lib/use-async';
import type { ClientDetails, ClientDocument, SearchResponse, ShareRule } from '../lib/types';
import { formatBytes, formatDate } from '../lib/format';
import { Alert, Card, Empty, PageHeader, Spinner } from '../components/ui';
import { Icon } from '../components/icons';
import { SearchResults } from '../components/SearchResults';
import { ClientEditor } from '../components/ClientEditor';
import { ClientCalls, DeleteClient } from '../components/ClientCalls';

const ACCEPT = '.pdf,.docx,.md,.markdown,.txt,text/plain,text/markdown,application/pdf,application/vnd.openxmlformats-officedocument.wordprocessingml.document';

export function ClientPage({ id }: { id: string }) {
  const base = `/api/clients/${encodeURIComponent(id)}`;
  const details = useAsync((signal) => api<ClientDetails>(base, { signal }), [id]);
  const listing = useAsync((signal) => api<{ documents: ClientDocument[]; sharingErrors: Array<{ line: number; error: string }> }>(`${base}/documents`, { signal }), [id]);
  const docs = { ...listing, data: listing.data?.documents };
  const client = details.data;
  const missing = details.error instanceof ApiError && details.error.status === 404;

  // Indexing runs in the background on the server: while a document is pending, look again shortly.
  const busyDocs = docs.data?.some((d) => d.status === 'pending' || d.status === 'indexing');
  useEffect(() => {
    if (!busyDocs) return;
    const t = setTimeout(docs.reload, 1000);
    return () => clearTimeout(t);
  }, [listing.data]);

  return (
    <>
      <PageHeader back={{ href: '/clients', label: 'All clients' }} title={client?.name ?? id} subtitle={client ? `Client id ${client.id}` : undefined} />
      {missing && <Alert tone="warn">There is no client “{id}”.</Alert>}
      {details.error && !missing && <Alert title="Could not load the client">{details.error.message}</Alert>}
      {client && <ClientEditor key={client.id} client={client} onSaved={(c) => details.set(c)} />}
      <div class="grid-2">
        <div class="stack">
          <Card title="Documents" id="documents">
            <Upload base={base} onUploaded={docs.reload} />
            <p class="hint">
              Sharing: <strong>always</strong> puts a document's passages into the call's instructions; <strong>when asked and relevant</strong> gives them to the agent only when
              someone on the call asks and the passage matches; <strong>never</strong> keeps it from the agent entirely.
            </p>
            {listing.data?.sharingErrors.length ? (
              <Alert tone="warn" title="Lines of sharing.txt that cannot be read (their files are not shared)">
                <ul>
                  {listing.data.sharingErrors.map((e) => (
                    <li key={e.line}>
                      Line {e.line}: {e.error}
                    </li>
                  ))}
                </ul>
              </Alert>
            ) : null}
            {docs.error ? (
              <Alert title="Could not load the documents">{docs.error.message}</Alert>
            ) : docs.loading && !docs.data ? (
              <Spinner label="Loading documents" />
            ) : docs.data && docs.data.length === 0 ? (
              <Empty icon="file" title="No documents yet">
                Menus, price lists, policies: the agent looks things up in them during calls.
              </Empty>
            ) : (
              <ul class="doc-list" aria-busy={busyDocs ? 'true' : undefined}>
                {docs.data?.map((d) => (
                  <DocumentRow key={d.id} doc={d} base={base} onChanged={docs.reload} />
                ))}
              </ul>
            )}
          </Card>
        </div>
        <Card title="What the agent would retrieve" id="search">
          <Search base={base} />
        </Card>
      </div>
      {client && (
        <div class="grid-2">
          <ClientCalls id={id} />
          <DeleteClient client={{ ...client, documents: docs.data?.length ?? client.documents }} />
        </div>
      )}
    </>
  );
}

const SHARE_LABEL: Record<ShareRule, string> = { always: 'Always', 'when-asked-and-relevant': 'When asked and relevant', never: 'Never' };

function DocumentRow({ doc: d, base, onChanged }: { doc: ClientDocument; base: string; onChanged(): void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const label: Record<string, string> = { pending: 'Waiting', indexing: 'Indexing…', indexed: 'Indexed', failed: 'Failed' };
  const setShare = async (share: ShareRule) => {
    setBusy(true);
    setError(undefined);
    try {
      await api(`${base}/documents/${encodeURIComponent(d.id)}`, { method: 'PATCH', json: { share } });
      onChanged();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <li class="doc" data-file={d.file}>
      <Icon name="file" size={20} class="doc-icon" />
      <div class="doc-main">
        <span class="doc-name">
          {d.file}
          {d.profile ? <span class="muted"> · profile</span> : null}
        </span>
        <span class="muted doc-meta">
          {formatBytes(d.bytes)}
          {d.pages ? ` · ${d.pages} page${d.pages === 1 ? '' : 's'}` : ''}
          {d.status === 'indexed' ? ` · ${d.chunks} passage${d.chunks === 1 ? '' : 's'}` : ''}
          {d.indexedAt ? ` · ${formatDate(d.indexedAt)}` : ''}
        </span>
        {d.error && <span class="field-error">{d.error}</span>}
        {error && (
          <span class="field-error" role="alert">
            {error}
          </span>
        )}
      </div>
      <span class={`badge doc-status status-${d.status}`}>{label[d.status] ?? d.status}</span>
      {d.profile ? null : (
      <button
        class="btn btn-icon btn-ghost"
        type="button"
        disabled={busy}
        aria-label={`Delete ${d.file}`}
        title={`Delete ${d.file}`}
        onClick={async () => {
          if (!confirm(`Delete ${d.file}? The agent will no longer use it.`)) return;
          setBusy(true);
          try {
            await api(`${base}/documents/${encodeURIComponent(d.id)}`, { method: 'DELETE' });
            onChanged();
          } catch (err) {
            setError((err as Error).message);
            setBusy(false);
          }
        }}
      >
        <Icon name="trash" />
      </button>
      )}
      <label class="doc-share">
        <span class="muted">Agent may share:</span>{' '}
        <select aria-label={`Sharing for ${d.file}`} value={d.share} disabled={busy} onChange={(e) => void setShare((e.target as HTMLSelectElement).value as ShareRule)}>
          {(Object.keys(SHARE_LABEL) as ShareRule[]).map((r) => (
            <option key={r} value={r}>
              {SHARE_LABEL[r]}
            </option>
          ))}
        </select>
      </label>
    </li>
  );
}

function Upload({ base, onUploaded }: { base: string; onUploaded(): void }) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: string[]; errors: Array<{ file: string; error: string }> } | null>(null);

  const upload = async (files: File[]) => {
    if (files.length === 0) return;
    setBusy(true);
    setResult(null);
    const form = new FormData();
    for (const f of files) form.append('file', f, f.name);
    try {
      const r = await api<{ documents: ClientDocument[]; errors: Array<{ file: string; error: string }> }>(`${base}/documents`, { method: 'POST', body: form });
      setResult({ ok: r.documents.map((d) => d.file), errors: r.errors ?? [] });
    } catch (err) {
      // Nothing was stored; the message names each file and why.
      setResult({ ok: [], errors: [{ file: files.map((f) => f.name).join(', '), error: err instanceof ApiError ? err.message : (err as Error).message }] });
    } finally {
      setBusy(false);
      if (input.current) input.current.value = '';
      onUploaded();
    }
  };

  return (
    <div class="upload">
      <div
        class={`dropzone${over ? ' over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          void upload([...(e.dataTransfer?.files ?? [])]);
        }}
      >
        <Icon name="upload" size={24} />
        <p>
          <strong>Drop files here</strong> or{' '}
          <label class="link-button" for="file-input">
            choose files
          </label>
        </p>
        <p class="hint">PDF, Word (.docx), Markdown or text.</p>
        <input id="file-input" ref={input} class="visually-hidden" type="file" multiple accept={ACCEPT} onChange={(e) => void upload([...((e.target as HTMLInputElement).files ?? [])])} />
      </div>
      <div aria-live="polite">
        {busy && <Spinner label="Uploading" />}
        {result && result.ok.length > 0 && <Alert tone="success">Added {result.ok.join(', ')}.</Alert>}
        {result?.errors.map((e) => (
          <Alert key={e.file} title={`${e.file} was not added`}>
            {e.error}
          </Alert>
        ))}
      </div>
    </div>
  );
}

function Search({ base }: { base: string }) {
  const [q, setQ] = useState('');
  const query = useDebounced(q.trim(), 300);
  const res = useAsync(async (signal) => (query ? api<SearchResponse>(`${base}/search?q=${encodeURIComponent(query)}&k=8`, { signal }) : undefined), [base, query]);
  return (
    <div class="search">
      <form role="search" onSubmit={(e) => e.preventDefault()}>
        <label for="doc-search">Ask what the agent would look up</label>
        <div class="input-icon">
          <Icon name="search" size={16} />
          <input id="doc-search" type="search" placeholder="e.g. vegetarian starters" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
        </div>
      </form>
      <div aria-live="polite" class="search-results">
        {!query ? (
          <p class="muted">Results show the passages, their source and score, best first.</p>
        ) : res.error ? (
          <Alert>{res.error.message}</Alert>
        ) : res.loading && !res.data ? (
          <Spinner label="Searching" />
        ) : res.data ? (
          <>
            <p class="hint">
              {res.data.results.length} result{res.data.results.length === 1 ? '' : 's'} · {res.data.mode} search
            </p>
            <SearchResults results={res.data.results} emptyText="Nothing matches." />
          </>
        ) : null}
      </div>
    </div>
  );
}
