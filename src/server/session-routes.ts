import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { tokenMatches } from './auth.js';
import { documented } from './openapi.js';
import { clearedSessionCookie, crossSiteReason, isHttps, sessionCookie, type BrowserSessions } from './sessions.js';

const signInBody = z.object({ token: z.string().min(1).max(512) }).strict();

/**
 * POST /api/session: the API token for a session cookie (docs/sign-in.md). Outside the API's auth hook:
 * the token in the body is the credential. Refused from other sites' pages, so no page elsewhere can sign
 * a browser in behind its user's back.
 */
export async function signInRoute(app: FastifyInstance, o: { token: string; sessions: BrowserSessions; publicUrl?: string }): Promise<void> {
  app.post(
    '/api/session',
    documented({
      tag: 'system',
      auth: 'none',
      summary: 'Sign a browser in: exchanges the API token for a session cookie (HttpOnly, SameSite=Strict, Secure over https) valid for SESSION_DAYS',
      body: signInBody,
      responses: { 200: '{expiresAt}; the cookie is set', 400: 'no token in the body', 401: 'not the API token', 403: 'asked from another site' },
    }),
    async (req, reply) => {
      const refused = crossSiteReason(req, o.publicUrl);
      // A client that is not a browser (no Fetch Metadata, no Origin) may sign in too: it gets a cookie it can use as a browser would.
      if (refused && (req.headers['sec-fetch-site'] !== undefined || req.headers.origin !== undefined)) {
        return reply.code(403).send({ error: { code: 'cross_site_refused', message: `refused: ${refused}; sign in from Callwright's own page` } });
      }
      const parsed = signInBody.safeParse(req.body ?? {});
      if (!parsed.success) return reply.code(400).send({ error: { code: 'invalid_request', message: 'token: the API token is required (a string)', field: 'token' } });
      if (!tokenMatches(parsed.data.token, o.token)) {
        req.log.info({ event: 'session.refused' }, 'sign-in refused: not the API token');
        return reply.code(401).send({ error: { code: 'invalid_token', message: 'token: that is not the API token', field: 'token' } });
      }
      const s = await o.sessions.create();
      req.log.info({ event: 'session.created', expiresAt: s.expiresAt }, 'a browser signed in');
      reply.header('Set-Cookie', sessionCookie(s.id, s.maxAgeSec, isHttps(req)));
      reply.header('Cache-Control', 'no-store');
      return { expiresAt: s.expiresAt };
    },
  );
}

/** Behind the API's auth hook: who is asking, and sign-out everywhere. */
export async function sessionRoutes(app: FastifyInstance, o: { sessions: BrowserSessions }): Promise<void> {
  app.get(
    '/api/session',
    documented({ tag: 'system', summary: 'Whether this browser (or token) is signed in, and until when', responses: { 200: '{via: "session"|"token"}', 401: 'not signed in' } }),
    async (req, reply) => {
      reply.header('Cache-Control', 'no-store');
      return { via: req.authVia === 'session' ? 'session' : 'token' };
    },
  );
  app.delete(
    '/api/session',
    documented({ tag: 'system', summary: 'Sign out everywhere: ends every browser session (every tab and device); open event streams close. The API token keeps working.', responses: { 200: '{ended}: how many sessions ended' } }),
    async (req, reply) => {
      const ended = await o.sessions.revokeAll();
      req.log.info({ event: 'session.revokedAll', ended }, 'signed out everywhere');
      reply.header('Set-Cookie', clearedSessionCookie(isHttps(req)));
      return { ended };
    },
  );
}
