import type { Ref } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { apiBlob } from '../lib/api';
import { Spinner } from './ui';

/**
 * The recording needs the API token, which must not go into a URL: it is fetched with the bearer
 * header and played from an object URL (released when the page goes).
 */
export function RecordingPlayer({ url, label, audioRef }: { url: string; label: string; audioRef?: Ref<HTMLAudioElement> }) {
  const [src, setSrc] = useState<string>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    const ctl = new AbortController();
    let objectUrl: string | undefined;
    apiBlob(url, ctl.signal).then(
      (blob) => {
        objectUrl = URL.createObjectURL(blob);
        setSrc(objectUrl);
      },
      (err: Error) => err.name !== 'AbortError' && setError(err.message),
    );
    return () => {
      ctl.abort();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [url]);
  if (error) return <p class="field-error">Could not load the recording: {error}</p>;
  if (!src) return <Spinner label="Loading the recording" />;
  return <audio ref={audioRef} class="recording" controls preload="metadata" src={src} aria-label={label} />;
}
