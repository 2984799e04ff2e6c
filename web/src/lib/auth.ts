import { createStore } from './store';

const KEY = 'callwright.token';

function read(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

/** The API token for this browser tab's session (sessionStorage: gone when the tab closes). */
export const token = createStore<string | null>(read());
/** Why the user was signed out, shown on the sign-in page. */
export const signOutReason = createStore<string | null>(null);

export function signIn(t: string): void {
  sessionStorage.setItem(KEY, t);
  signOutReason.set(null);
  token.set(t);
}

export function signOut(reason: string | null = null): void {
  sessionStorage.removeItem(KEY);
  signOutReason.set(reason);
  token.set(null);
}

/**
 * The start-up URL (`/#token=...`) signs in directly. The fragment never reaches the server; it is
 * removed from the address bar (and so from history and bookmarks) before anything else runs.
 */
export function takeTokenFromUrl(): void {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m) return;
  let t: string;
  try {
    t = decodeURIComponent(m[1]);
  } catch {
    t = m[1];
  }
  history.replaceState(history.state, '', location.pathname + location.search);
  if (t) signIn(t);
}
