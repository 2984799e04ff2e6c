import { SESSION_ENDED, signedOut } from './auth';

/** An API refusal: the message, and the request field at fault when the server names one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    readonly missing?: string[],
    /** The server's error code (`unknown_field`, `not_configured`, `refused_by_policy`...). */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface RequestOptions {
  method?: string;
  json?: unknown;
  body?: BodyInit;
  signal?: AbortSignal;
}

async function send(path: string, o: RequestOptions = {}): Promise<Response> {
  // The session cookie goes with every same-origin request by itself; no credential is held in script.
  const headers: Record<string, string> = {};
  if (o.json !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method: o.method ?? 'GET', headers, body: o.json !== undefined ? JSON.stringify(o.json) : o.body, signal: o.signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'Cannot reach the Callwright server. Is it running?');
  }
  if (res.ok) return res;
  // Every server error is {error: {code, message, field?, missing?}}.
  let body: { error?: { code?: string; message?: string; field?: string; missing?: string[] } } = {};
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  if (res.status === 401) signedOut(SESSION_ENDED);
  const e = body.error && typeof body.error === 'object' ? body.error : {};
  throw new ApiError(res.status, e.message ?? `${res.status} ${res.statusText}`, e.field, e.missing, e.code);
}

/** JSON API call (the session cookie authenticates it); a 204 gives undefined. */
export async function api<T>(path: string, o: RequestOptions = {}): Promise<T> {
  const res = await send(path, o);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** A protected file (recording, transcript) as a blob. */
export async function apiBlob(path: string, signal?: AbortSignal): Promise<Blob> {
  return (await send(path, { signal })).blob();
}

/** Saves a protected file to disk under `filename`. */
export async function download(path: string, filename: string): Promise<void> {
  const url = URL.createObjectURL(await apiBlob(path));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
