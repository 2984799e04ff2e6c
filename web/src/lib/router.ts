import { createStore, useStore } from './store';

/** Client-side routes on the History API; the server answers every page path with index.html. */
export const path = createStore(location.pathname);

/**
 * True after the first in-app navigation: then the new page's heading takes focus (announcing the
 * page); on a fresh load focus stays at the top of the document, where the skip link is.
 */
export let navigated = false;

/** Signing in replaces the whole page: focus its heading as after a navigation. */
export function markNavigated(): void {
  navigated = true;
}

window.addEventListener('popstate', () => {
  navigated = true;
  path.set(location.pathname);
});

export function navigate(to: string, o: { replace?: boolean } = {}): void {
  if (to === location.pathname + location.search) return;
  navigated = true;
  if (o.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  path.set(new URL(to, location.origin).pathname);
}

export type Route =
  | { name: 'new-call' }
  | { name: 'calls' }
  | { name: 'call'; id: string }
  | { name: 'clients' }
  | { name: 'client'; id: string }
  | { name: 'settings' }
  | { name: 'refusals' }
  | { name: 'campaigns' }
  | { name: 'campaign'; id: string }
  | { name: 'not-found' };

export function match(p: string): Route {
  const parts = p.replace(/\/+$/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { name: 'new-call' };
  if (parts[0] === 'calls' && parts.length === 1) return { name: 'calls' };
  if (parts[0] === 'calls' && parts.length === 2) return { name: 'call', id: parts[1] };
  if (parts[0] === 'clients' && parts.length === 1) return { name: 'clients' };
  if (parts[0] === 'clients' && parts.length === 2) return { name: 'client', id: parts[1] };
  if (parts[0] === 'settings' && parts.length === 1) return { name: 'settings' };
  if (parts[0] === 'refusals' && parts.length === 1) return { name: 'refusals' };
  if (parts[0] === 'campaigns' && parts.length === 1) return { name: 'campaigns' };
  if (parts[0] === 'campaigns' && parts.length === 2) return { name: 'campaign', id: parts[1] };
  return { name: 'not-found' };
}

export function useRoute(): Route {
  return match(useStore(path));
}

/** For <a> elements: same-origin left clicks without modifiers stay in the app. */
export function onLinkClick(e: MouseEvent): void {
  const a = (e.currentTarget as HTMLAnchorElement) ?? null;
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || a.target === '_blank') return;
  const url = new URL(a.href);
  if (url.origin !== location.origin) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
}
