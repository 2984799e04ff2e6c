import { useState } from 'preact/hooks';
import { download } from '../lib/api';
import { Icon } from './icons';

/** Downloads the calls list as it is filtered (`query`: the list's filters), as CSV or JSON. */
export function ExportCalls({ query }: { query: string }) {
  const [error, setError] = useState<string>();
  const get = (ext: 'csv' | 'json') => {
    setError(undefined);
    const stamp = new Date().toISOString().slice(0, 10);
    download(`/api/calls/export.${ext}${query ? `?${query}` : ''}`, `calls-${stamp}.${ext}`).catch((e: Error) => setError(`Could not export: ${e.message}`));
  };
  return (
    <>
      <button class="btn" type="button" onClick={() => get('csv')}>
        <Icon name="download" /> Export CSV
      </button>
      <button class="btn" type="button" onClick={() => get('json')}>
        <Icon name="download" /> Export JSON
      </button>
      {error && (
        <p class="field-error" role="alert">
          {error}
        </p>
      )}
    </>
  );
}
