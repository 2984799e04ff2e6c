import { createHash } from 'node:crypto';
import { errorBody, sendError, sendZodError } from './errors.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { securityHeaders } from './security-headers.js';
import cors from '@fastify/cors';
import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Settings } from '../config/settings.js';
import { tokenMatches } from './auth.js';
import { MalformedEncodingError, malformedQueryField } from './url-encoding.js';

export interface HardeningOptions {
  settings: Pick<Settings, 'RATE_LIMIT_PER_MINUTE' | 'CORS_ORIGINS'>;
  apiToken: string;
  /** Pages the server renders itself, by path: their inline <script>/<style> blocks are allowed by hash. */
  inlinePages?: Record<string, string>;
  /** Where the rate limit counts (REDIS_URL: shared by every node, src/cluster/); default this process's memory. */
  rateLimitStore?: FastifyRateLimitStoreCtor;
}

/** Where Twilio talks to us: signed webhooks and the media WebSocket (under /n/<node id> in multi-node mode). */
const isCarrierRoute = (url: string) => url.startsWith('/twilio/') || /^\/n\/[^/]+\/twilio\//.test(url);

/**
 * Security headers, CORS and rate limits, in one place.
 *
 * - Headers (helmet): a CSP of 'self' only (no CDN, no inline code except the hashed blocks of pages
 *   the server renders itself), frame-ancestors 'none', no referrer, nosniff, and the rest of helmet's
 *   defaults.
 * - CORS: closed unless CORS_ORIGINS lists origins; then only those get Access-Control-Allow-Origin.
 * - Rate limit: RATE_LIMIT_PER_MINUTE per client, where the client is "the holder of the API token"
 *   for requests that present it, else the remote address, so guessing tokens is limited per address,
 *   not per guess. With REDIS_URL the count is kept in Redis, so the limit holds across all nodes
 *   together (each node counts alone while Redis fails: docs/deployment.md). Twilio's routes are excluded: each request is signature-checked (an HMAC, cheaper
 *   than a limiter lookup), their bursts grow with the number of live calls, and a 429 would lose a
 *   status or recording callback of a real call.
 */
export async function registerHardening(server: FastifyInstance, o: HardeningOptions): Promise<void> {
  // First of all hooks, on every route (API, webhooks, media upgrade, UI): a malformed %-escape in the
  // query is a clear 400 naming the parameter, before auth or any handler could choke on it. Fastify's
  // own query parser keeps such text undecoded, so without this a handler would act on garbled input.
  server.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const field = malformedQueryField(req.url);
    if (field !== undefined) return sendError(reply, 400, new MalformedEncodingError(field, 'query string').message, { field });
  });
  const hashes = new Map<string, string[]>();
  for (const [path, html] of Object.entries(o.inlinePages ?? {})) hashes.set(path, inlineHashes(html));

  // Built once: helmet's options are parsed and its headers computed here, not on every request (issue 18).
  const headers = securityHeaders();
  const headerEntries = Object.entries(headers);
  server.addHook('onRoute', (route) => {
    if (route.helmet === false) route.config = Object.assign(route.config ?? {}, { securityHeaders: false as const });
  });
  server.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (req.routeOptions.config?.securityHeaders !== false) {
      reply.headers(headers);
      // Also on the raw response: routes that hijack it (event streams, MCP) write their own head, and Node
      // merges these into it; a reply sent through Fastify gives its own (reply.headers above) precedence.
      for (const [name, value] of headerEntries) reply.raw.setHeader(name, value);
    }
    done();
  });
  if (hashes.size) {
    server.addHook('onSend', async (req, reply, payload) => {
      const extra = hashes.get(req.url.split(/[?#]/)[0]);
      const csp = reply.getHeader('content-security-policy');
      if (extra && typeof csp === 'string') {
        const scripts = extra.filter((h) => h.startsWith('script:')).map((h) => `'${h.slice(7)}'`).join(' ');
        const styles = extra.filter((h) => h.startsWith('style:')).map((h) => `'${h.slice(6)}'`).join(' ');
        reply.header('content-security-policy', csp.replace("script-src 'self'", `script-src 'self' ${scripts}`).replace("style-src 'self'", `style-src 'self' ${styles}`));
      }
      return payload;
    });
  }

  const origins = parseOrigins(o.settings.CORS_ORIGINS);
  await server.register(cors, {
    // false: no CORS headers at all, so a browser on any other origin cannot read a response.
    origin: origins.length ? origins : false,
    methods: ['GET', 'POST'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Last-Event-ID', 'Idempotency-Key'],
    exposedHeaders: ['Idempotent-Replayed', 'Retry-After'],
    maxAge: 600,
  });

  const max = o.settings.RATE_LIMIT_PER_MINUTE;
  if (max > 0) {
    await server.register(rateLimit, {
      global: false,
      max,
      timeWindow: 60_000,
      ...(o.rateLimitStore ? { store: o.rateLimitStore } : {}),
      keyGenerator: (req) => clientKey(req, o.apiToken),
      // Thrown to the app's error handler, which answers {error}; Retry-After is already on the reply.
      errorResponseBuilder: (_req, ctx) => Object.assign(new Error(`too many requests: at most ${ctx.max} a minute; try again in ${Math.ceil(ctx.ttl / 1000)} s (RATE_LIMIT_PER_MINUTE)`), { statusCode: 429 }),
    });
    const limiter = server.rateLimit();
    // A root hook runs before every scope's own hooks, so refused tokens are counted before auth answers 401.
    server.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      if (isCarrierRoute(req.url)) return;
      await limiter.call(server, req, reply);
    });
  }
}

function clientKey(req: FastifyRequest, apiToken: string): string {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m && tokenMatches(m[1], apiToken) ? 'token' : `ip:${req.ip}`;
}

export function parseOrigins(raw: string | undefined): string[] {
  if (!raw) return [];
  return raw.split(/[\s,]+/).filter(Boolean).map((o) => {
    const u = new URL(o);
    if (u.origin !== o.replace(/\/$/, '')) throw new Error(`CORS_ORIGINS: "${o}" must be an origin such as https://app.example.com (no path)`);
    return u.origin;
  });
}

/** sha256 CSP sources of each inline <script> and <style> block, tagged with their kind. */
export function inlineHashes(html: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/<(script|style)(?:\s[^>]*)?>([\s\S]*?)<\/\1>/g)) {
    out.push(`${m[1]}:sha256-${createHash('sha256').update(m[2], 'utf8').digest('base64')}`);
  }
  return out;
}
