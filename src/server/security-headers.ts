import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import type {
  ContextConfigDefault,
  FastifyBaseLogger,
  FastifySchema,
  FastifyTypeProvider,
  FastifyTypeProviderDefault,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
  RawServerDefault,
  RouteGenericInterface,
} from 'fastify';

/**
 * The security headers every API and UI response carries, computed once at start. They depend on nothing
 * in the request (no CSP nonces: the server's own inline blocks are allowed by hash, see hardening.ts), so
 * running helmet's middleware per request, as @fastify/helmet did, only rebuilt the same dozen headers
 * from its options each time: a cost on the loop that carries live audio (issue 18).
 *
 * A CSP of 'self' only, frame-ancestors 'none', no referrer, nosniff, and the rest of helmet's defaults.
 */
export function securityHeaders(): Readonly<Record<string, string>> {
  const middleware = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        // blob: the UI fetches recordings with the bearer header and plays them from an object URL.
        imgSrc: ["'self'", 'data:', 'blob:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        mediaSrc: ["'self'", 'blob:'],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
    // helmet's HSTS only matters behind https; the tunnel or proxy in front decides. Kept on (harmless on http).
  });
  // helmet writes its headers with setHeader (and removes X-Powered-By, which Fastify never sets): a
  // response that only records them yields exactly what it would have set on a real one.
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader() {},
  } as unknown as ServerResponse;
  let failed: unknown;
  middleware({} as IncomingMessage, recorder, (err?: unknown) => void (failed = err));
  if (failed) throw new Error(`security headers: helmet refused its options: ${String(failed)}`);
  if (!headers['content-security-policy']) throw new Error('security headers: helmet set no content-security-policy');
  return Object.freeze(headers);
}

// `helmet: false` on a route (the carrier's webhooks and media socket) sends none of these headers: they
// are for browsers, and Twilio ignores them. Declared here since @fastify/helmet, which used to, is gone.
declare module 'fastify' {
  interface RouteShorthandOptions<
    RawServer extends RawServerBase = RawServerDefault,
    RawRequest extends RawRequestDefaultExpression<RawServer> = RawRequestDefaultExpression<RawServer>,
    RawReply extends RawReplyDefaultExpression<RawServer> = RawReplyDefaultExpression<RawServer>,
    RouteGeneric extends RouteGenericInterface = RouteGenericInterface,
    ContextConfig = ContextConfigDefault,
    SchemaCompiler extends FastifySchema = FastifySchema,
    TypeProvider extends FastifyTypeProvider = FastifyTypeProviderDefault,
    Logger extends FastifyBaseLogger = FastifyBaseLogger,
  > {
    helmet?: false;
  }
  interface FastifyContextConfig {
    /** false: the route opted out with `helmet: false`. */
    securityHeaders?: false;
  }
}
