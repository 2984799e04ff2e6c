import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { SessionsRepo } from '../store/sessions-repo.js';

/** The session cookie. Path=/api: pages and assets never carry it, only the API calls that need it. */
export const SESSION_COOKIE = 'callwright_session';
const COOKIE_PATH = '/api';
const ID_RE = /^[A-Za-z0-9_-]{43}$/;
const DAY_MS = 86_400_000;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Browser sign-in: the API token is exchanged once for a random session id in an HttpOnly cookie, so the
 * token itself never stays in the browser. The server keeps each session (by the id's hash) with its
 * expiry; sign-out revokes every session at once and drops the event streams they hold open. A session is
 * bound to the API token it was made with: rotating API_TOKEN ends them all.
 */
export class BrowserSessions {
  private readonly repo: SessionsRepo;
  private readonly fingerprint: string;
  private readonly streams = new Set<ServerResponse>();

  constructor(repo: SessionsRepo, apiToken: string, private readonly ttlMs: number) {
    this.repo = repo;
    this.fingerprint = createHmac('sha256', apiToken).update('callwright:browser-session').digest('hex');
  }

  /** Forgets sessions that have expired (at start: nothing else needs them gone sooner). */
  prune(nowMs = Date.now()): Promise<number> {
    return this.repo.prune(new Date(nowMs).toISOString());
  }

  static ttlFromDays(days: number): number {
    return days * DAY_MS;
  }

  async create(nowMs = Date.now()): Promise<{ id: string; expiresAt: string; maxAgeSec: number }> {
    const id = randomBytes(32).toString('base64url');
    const expiresAt = new Date(nowMs + this.ttlMs).toISOString();
    await this.repo.insert({ idHash: sha256(id), createdAt: new Date(nowMs).toISOString(), expiresAt, tokenFingerprint: this.fingerprint });
    return { id, expiresAt, maxAgeSec: Math.floor(this.ttlMs / 1000) };
  }

  /** The session's expiry when the id names a live session, else undefined. */
  async verify(id: string, nowMs = Date.now()): Promise<{ expiresAt: string } | undefined> {
    if (!ID_RE.test(id)) return undefined;
    const row = await this.repo.find(sha256(id));
    if (!row || row.revokedAt || Date.parse(row.expiresAt) <= nowMs || row.tokenFingerprint !== this.fingerprint) return undefined;
    return { expiresAt: row.expiresAt };
  }

  /** Sign-out everywhere: every session ends, and open event streams made with one are closed. */
  async revokeAll(nowMs = Date.now()): Promise<number> {
    const n = await this.repo.revokeAll(new Date(nowMs).toISOString());
    for (const res of this.streams) res.destroy();
    this.streams.clear();
    return n;
  }

  /** A long-lived response (an event stream) opened with a session: closed when sessions are revoked. */
  track(res: ServerResponse): void {
    this.streams.add(res);
    res.once('close', () => this.streams.delete(res));
  }
}

/** The session id from the request's Cookie header, if any. */
export function sessionIdOf(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Served over https, directly or behind a proxy or tunnel that says so (X-Forwarded-Proto, Forwarded):
 * then the cookie is Secure. Trusting the header here is safe: a false "https" only stops a browser from
 * sending the cookie over plain http, and a request's own headers cannot change another browser's cookie.
 */
export function isHttps(req: FastifyRequest): boolean {
  if (req.protocol === 'https') return true;
  const xfp = req.headers['x-forwarded-proto'];
  if (typeof xfp === 'string' && xfp.split(',')[0]!.trim().toLowerCase() === 'https') return true;
  const fwd = req.headers.forwarded;
  return typeof fwd === 'string' && /(?:^|[;,\s])proto=(?:"?)https\b/i.test(fwd.split(',')[0]!);
}

export function sessionCookie(id: string, maxAgeSec: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=${COOKIE_PATH}; Max-Age=${maxAgeSec}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=${COOKIE_PATH}; Max-Age=0; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF protection for requests authenticated by the cookie (docs/sign-in.md): a state-changing request
 * must come from this origin's own pages. Browsers say where a request comes from in Sec-Fetch-Site
 * (Fetch Metadata; Chrome 76+, Firefox 90+, Safari 16.4+), which a page on another site cannot forge;
 * older browsers send Origin on every cross-origin and every POST request. No header at all means no
 * browser made the request, and such clients use the bearer token. SameSite=Strict already keeps the
 * cookie off cross-site requests; this also refuses same-site ones from a sibling subdomain (a tunnel
 * provider's other customers share its domain). Returns why a request is refused, or undefined.
 */
export function crossSiteReason(req: FastifyRequest, publicUrl?: string): string | undefined {
  if (SAFE_METHODS.has(req.method)) return undefined;
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin' ? undefined : `the request came from ${site === 'none' ? 'outside any page' : `a ${site} page`}`;
  const origin = req.headers.origin;
  if (typeof origin !== 'string') return 'the request says neither Sec-Fetch-Site nor Origin';
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return 'the Origin header is not a URL';
  }
  if (host === req.headers.host) return undefined;
  if (publicUrl && new URL(publicUrl).host === host) return undefined;
  return `the request came from ${origin}`;
}
