import type { Settings } from '../config/settings.js';

type UrlSettings = Pick<Settings, 'PUBLIC_URL' | 'NODE_ID' | 'DATABASE_URL'>;

/**
 * Multi-node mode routes a call's carrier traffic to the node that placed it: with NODE_ID and
 * DATABASE_URL both set (several nodes share one store), the URLs a carrier is given for a call carry
 * the node, `${PUBLIC_URL}/n/<NODE_ID>/...`, and the proxy sends `/n/<id>/` to that node without
 * rewriting the path (carriers sign the exact URL). Otherwise the URLs are PUBLIC_URL's, as on one node.
 */
export function nodeRouted(s: UrlSettings): boolean {
  return Boolean(s.NODE_ID && s.DATABASE_URL);
}

/** The path prefix of this node's carrier routes in multi-node mode; undefined on one node. */
export function nodePath(s: UrlSettings): string | undefined {
  return nodeRouted(s) ? `/n/${s.NODE_ID}` : undefined;
}

/** The public base a carrier is given for this node's calls (webhooks, media stream); undefined without PUBLIC_URL. */
export function callPublicUrl(s: UrlSettings): string | undefined {
  if (!s.PUBLIC_URL) return undefined;
  return s.PUBLIC_URL.replace(/\/+$/, '') + (nodePath(s) ?? '');
}
