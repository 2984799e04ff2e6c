import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface RecordingDownload {
  /** The URL to fetch: built by the carrier from its configured API host, never taken from a callback. */
  url: string;
  headers: Record<string, string>;
  dir: string;
  callId: string;
  attempts?: number;
  firstDelayMs?: number;
  maxBytes?: number;
}

export class RecordingError extends Error {
  constructor(message: string, readonly retryable: boolean) {
    super(message);
    this.name = 'RecordingError';
  }
}

/**
 * Downloads a recording to `<dir>/<callId>.mp3`, retrying with exponential backoff (recordings are often
 * not ready the instant the callback fires). The body is streamed to a temporary file and counted as it
 * arrives, so memory holds one network chunk at a time and a body past `maxBytes` (RECORDING_MAX_BYTES)
 * is cut off there; the file is renamed into place only when complete, and a partial one is removed.
 */
export async function downloadRecording(d: RecordingDownload): Promise<{ path: string; bytes: number; attempts: number }> {
  const attempts = d.attempts ?? 6;
  const maxBytes = d.maxBytes ?? 200 * 1024 * 1024;
  let delay = d.firstDelayMs ?? 1000;
  let lastErr: RecordingError | undefined;
  const path = join(d.dir, `${d.callId}.mp3`);
  const part = `${path}.part`;
  for (let i = 1; i <= attempts; i++) {
    try {
      const res = await fetchFollowingCarrierRedirects(d.url, d.headers);
      if (!res.ok) {
        await res.body?.cancel().catch(() => {});
        throw new RecordingError(`HTTP ${res.status}`, res.status >= 500 || res.status === 404 || res.status === 429);
      }
      const declared = Number(res.headers.get('content-length') ?? NaN);
      if (declared > maxBytes) {
        await res.body?.cancel().catch(() => {});
        throw new RecordingError(tooLarge(maxBytes), false);
      }
      await mkdir(d.dir, { recursive: true, mode: 0o700 });
      const bytes = await streamToFile(res, part, maxBytes);
      if (bytes === 0) throw new RecordingError('empty body', true);
      await rename(part, path);
      return { path, bytes, attempts: i };
    } catch (err) {
      await rm(part, { force: true }).catch(() => {});
      lastErr = err instanceof RecordingError ? err : new RecordingError((err as Error).message, true);
      if (!lastErr.retryable || i === attempts) break;
      await new Promise((r) => setTimeout(r, delay));
      delay *= 2;
    }
  }
  throw new RecordingError(`recording download failed after retries: ${lastErr?.message}`, false);
}

const tooLarge = (maxBytes: number) => `recording larger than ${maxBytes} bytes (RECORDING_MAX_BYTES)`;

/** Writes the body to `file` chunk by chunk; past `maxBytes` the download is cancelled and refused. */
async function streamToFile(res: Response, file: string, maxBytes: number): Promise<number> {
  const out = await open(file, 'w', 0o600);
  let bytes = 0;
  try {
    if (!res.body) return 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (bytes > maxBytes) {
        await reader.cancel().catch(() => {});
        throw new RecordingError(tooLarge(maxBytes), false);
      }
      await out.write(value);
    }
    return bytes;
  } finally {
    await out.close();
  }
}

const MAX_REDIRECTS = 3;

/**
 * The first request always goes to the carrier's configured API host. Carriers may answer a media
 * request with a redirect to their storage (a pre-signed URL): that target comes from the configured
 * host, not from a callback, so it is followed, over https only, and without our credentials once it
 * leaves the API host.
 */
async function fetchFollowingCarrierRedirects(url: string, headers: Record<string, string>): Promise<Response> {
  const origin = new URL(url).origin;
  let current = url;
  for (let hop = 0; ; hop++) {
    const sameOrigin = new URL(current).origin === origin;
    const res = await fetch(current, { headers: sameOrigin ? headers : {}, redirect: 'manual', signal: AbortSignal.timeout(60_000) });
    if (res.status < 300 || res.status >= 400) return res;
    const location = res.headers.get('location');
    if (!location || hop >= MAX_REDIRECTS) throw new RecordingError(`HTTP ${res.status} redirect not followed`, false);
    const next = new URL(location, current);
    if (next.protocol !== 'https:' && next.origin !== origin) throw new RecordingError('redirect to a non-https host refused', false);
    current = next.toString();
  }
}
