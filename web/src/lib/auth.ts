import { createStore } from './store';

/**
 * Browser sign-in (docs/sign-in.md). The API token is exchanged once for a session cookie (HttpOnly: no
 * script here can read it) that every tab of this browser shares and that outlives a restart, until it
 * expires or someone signs out. The token itself is never stored in the browser.
 */
export type SessionState = 'checking' | 'signed-in' | 'signed-out';

export const session = createStore<SessionState>('checking');
/** Why the user was signed out, shown on the sign-in page. */
export const signOutReason = createStore<string | null>(null);

/** Tells this browser's other tabs at once; the server would tell them on their next request anyway. */
const channel: BroadcastChannel | null = typeof BroadcastChannel === 'function' ? new BroadcastChannel('callwright-session') : null;
channel?.addEventListener('message', (e: MessageEvent) => {
  if (e.data === 'signed-out') signedOut('You signed out in another tab.');
  else if (e.data === 'signed-in' && session.get() !== 'signed-in') {
    signOutReason.set(null);
    session.set('signed-in');
  }
});

/** A sign-in the server refused: the message, and whether the token was wrong (401). */
export class SignInError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'SignInError';
  }
}

async function errorMessage(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: string | { message?: string } };
    const e = body.error;
    return (typeof e === 'string' ? e : e?.message) ?? `${res.status} ${res.statusText}`;
  } catch {
    return `${res.status} ${res.statusText}`;
  }
}

export const SESSION_ENDED = 'Your session has ended (signed out, expired, or the API token changed). Sign in again.';

async function errorCode(res: Response): Promise<string | undefined> {
  try {
    const e = ((await res.json()) as { error?: unknown }).error;
    return typeof e === 'object' && e && 'code' in e ? String((e as { code: unknown }).code) : undefined;
  } catch {
    return undefined;
  }
}

/** Exchanges the API token for this browser's session cookie. */
export async function signIn(token: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch('/api/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token }) });
  } catch {
    throw new SignInError(0, 'Cannot reach the Callwright server. Is it running?');
  }
  if (!res.ok) throw new SignInError(res.status, await errorMessage(res));
  signOutReason.set(null);
  session.set('signed-in');
  channel?.postMessage('signed-in');
}

/** Signs out everywhere: the server ends every session, in every browser and tab. */
export async function signOut(): Promise<void> {
  try {
    await fetch('/api/session', { method: 'DELETE' });
  } catch {
    /* the server is gone: this tab still forgets it was signed in */
  }
  signedOut(null);
  channel?.postMessage('signed-out');
}

/** The server no longer accepts this browser's session (a 401): show the sign-in page with the reason. */
export function signedOut(reason: string | null): void {
  signOutReason.set(reason);
  session.set('signed-out');
}

/**
 * A sign-in URL (`/#token=...`, as `npm start` prints) signs in directly, also when pasted into a tab
 * that is already open (only the fragment changes then: no page load, a hashchange). The fragment never
 * reaches the server; it leaves the address bar (and so history and bookmarks) before anything else runs.
 * Returns the token it took, if any.
 */
export function takeTokenFromUrl(): string | undefined {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m) return undefined;
  let t: string;
  try {
    t = decodeURIComponent(m[1]);
  } catch {
    t = m[1];
  }
  history.replaceState(history.state, '', location.pathname + location.search);
  return t || undefined;
}

async function signInFromUrl(t: string): Promise<void> {
  try {
    await signIn(t);
  } catch (err) {
    signedOut(err instanceof SignInError && err.status === 401 ? 'The sign-in link’s token was not accepted (the API token may have changed). Paste the current token.' : (err as Error).message);
  }
}

/** At start-up: a token in the URL signs in; otherwise ask the server whether this browser is signed in. */
export async function startSession(): Promise<void> {
  window.addEventListener('hashchange', () => {
    const t = takeTokenFromUrl();
    if (t) void signInFromUrl(t);
  });
  const t = takeTokenFromUrl();
  if (t) return signInFromUrl(t);
  try {
    const res = await fetch('/api/session', { headers: { Accept: 'application/json' } });
    if (res.ok) session.set('signed-in');
    // A cookie the server no longer accepts (session_ended) is worth a word; no cookie at all is not.
    else signedOut(res.status === 401 ? ((await errorCode(res)) === 'session_ended' ? SESSION_ENDED : null) : await errorMessage(res));
  } catch {
    signedOut('Cannot reach the Callwright server. Is it running?');
  }
}
