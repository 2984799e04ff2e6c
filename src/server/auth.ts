import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { errorBody, sendError, sendZodError } from './errors.js';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { decodeComponent } from './url-encoding.js';
import { clearedSessionCookie, crossSiteReason, isHttps, sessionIdOf, type BrowserSessions } from './sessions.js';

/** Returns the API token: API_TOKEN if set, else the one kept in DATA_DIR (created on first start). */
export function resolveApiToken(configured: string | undefined, dataDir: string): { token: string; generated: boolean; file?: string } {
  if (configured) return { token: configured, generated: false };
  const file = join(dataDir, 'api-token');
  if (existsSync(file)) return { token: readFileSync(file, 'utf8').trim(), generated: false, file };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, token + '\n', { mode: 0o600 });
  return { token, generated: true, file };
}

/** Constant-time comparison: hashing first makes the lengths equal, so even length does not leak. */
export function tokenMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Short-lived, single-call tokens for a call's event stream. A browser's EventSource cannot send an
 * Authorization header, so the UI asks for one of these (with its bearer token) and puts it in the URL.
 * It is scoped to one call, expires in minutes, and is derived from the API token (rotating the API
 * token revokes them all).
 */
export class StreamTokens {
  private readonly key: Buffer;

  constructor(apiToken: string, private readonly ttlMs = 5 * 60_000) {
    this.key = createHmac('sha256', apiToken).update('callwright:event-stream').digest();
  }

  issue(callId: string, nowMs = Date.now()): { token: string; expiresAt: string } {
    const exp = nowMs + this.ttlMs;
    return { token: `${exp}.${this.sign(callId, exp)}`, expiresAt: new Date(exp).toISOString() };
  }

  verify(callId: string, token: string, nowMs = Date.now()): boolean {
    const m = /^(\d{13})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!m) return false;
    const exp = Number(m[1]);
    if (exp < nowMs) return false;
    const want = Buffer.from(this.sign(callId, exp));
    const got = Buffer.from(m[2]);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  private sign(callId: string, exp: number): string {
    return createHmac('sha256', this.key).update(`${callId}.${exp}`).digest('base64url');
  }
}

/** How an API request proved who it is (routes that care read `req.authVia`). */
export type AuthVia = 'token' | 'session' | 'stream-token';

declare module 'fastify' {
  interface FastifyRequest {
    authVia?: AuthVia;
  }
}

export interface ApiAuthOptions {
  token: string;
  streamTokens?: StreamTokens;
  sessions?: BrowserSessions;
  /** Its origin is accepted as the page's own in the CSRF check (behind a proxy that rewrites Host). */
  publicUrl?: string;
}

/**
 * Auth for every API route: the bearer token (API, CLI, MCP); the browser's session cookie (docs/sign-in.md),
 * with the CSRF check on state-changing requests; and, for one call's event stream, that call's stream token.
 * A request that shows a bearer header is judged by it alone.
 */
export function apiAuth(o: ApiAuthOptions) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (o.streamTokens && req.method === 'GET') {
      const m = /^\/api\/calls\/([0-9a-f-]{36})\/events\?(?:.*&)?token=([^&#]+)/.exec(req.url);
      // A malformed escape is answered 400 before this hook (hardening); here it simply is no token.
      const given = m ? decodeComponent(m[2]) : undefined;
      if (m && given !== undefined && o.streamTokens.verify(m[1], given)) {
        req.authVia = 'stream-token';
        return;
      }
    }
    const h = req.headers.authorization;
    const sessionId = h === undefined && o.sessions ? sessionIdOf(req) : undefined;
    if (sessionId !== undefined && o.sessions) {
      if (await o.sessions.verify(sessionId)) {
        const refused = crossSiteReason(req, o.publicUrl);
        if (refused) {
          return reply.code(403).send({ error: { code: 'cross_site_refused', message: `refused: ${refused}; a signed-in browser may change things only from Callwright's own pages (API clients use Authorization: Bearer)` } });
        }
        req.authVia = 'session';
        // A signed-out browser's open event streams end at once, so other tabs notice.
        if (String(req.headers.accept ?? '').includes('text/event-stream')) o.sessions.track(reply.raw);
        return;
      }
      // An ended session: the browser forgets the cookie and shows its sign-in page.
      reply.header('Set-Cookie', clearedSessionCookie(isHttps(req)));
      return reply.code(401).send({ error: { code: 'session_ended', message: 'your session has ended (signed out, expired, or the API token changed): sign in again' } });
    }
    const m = typeof h === 'string' ? /^Bearer\s+(\S+)$/i.exec(h) : null;
    if (!m || !tokenMatches(m[1], o.token)) {
      return sendError(reply.header('WWW-Authenticate', 'Bearer'), 401, 'missing or invalid API token (Authorization: Bearer <API_TOKEN>)');
    }
    req.authVia = 'token';
  };
}
