import { z } from 'zod';
import type { RouteOptions } from 'fastify';
import { ERROR_CODES } from './errors.js';

/**
 * What a route is, for the OpenAPI document: written at the route itself, with the same zod schemas that
 * validate its input, so the contract cannot drift from the code. Every route has one (a test checks).
 */
export interface RouteDoc {
  summary: string;
  tag: 'calls' | 'clients' | 'runbooks' | 'system' | 'carrier' | 'ui' | (string & {});
  description?: string;
  /** How the route is authenticated: the API token (default), Twilio's signature, or nothing. */
  auth?: 'bearer' | 'twilio-signature' | 'none';
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** Request headers the route reads (besides Authorization), e.g. Idempotency-Key. */
  headers?: z.ZodObject;
  body?: z.ZodType;
  /** A body that is not JSON (multipart uploads, Twilio's form posts). */
  bodyContentType?: string;
  responses: Record<number, string | { description: string; contentType?: string; schema?: z.ZodType }>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    doc?: RouteDoc;
  }
}

/** The route option that documents a route: `app.get('/x', documented({...}), handler)`. */
export function documented(doc: RouteDoc): { config: { doc: RouteDoc } } {
  return { config: { doc } };
}

interface SeenRoute {
  method: string;
  url: string;
  doc?: RouteDoc;
}

const jsonSchema = (s: z.ZodType) => {
  const { $schema: _, ...rest } = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

/** Collects every route as it is registered (an onRoute hook) and builds the OpenAPI 3.1 document. */
export class OpenApiCollector {
  readonly routes: SeenRoute[] = [];

  readonly onRoute = (r: RouteOptions): void => {
    const methods = (Array.isArray(r.method) ? r.method : [r.method]).filter((m) => m !== 'HEAD');
    for (const method of methods) this.routes.push({ method, url: r.url, doc: (r.config as { doc?: RouteDoc } | undefined)?.doc });
  };

  /** Routes registered without a RouteDoc. */
  undocumented(): string[] {
    return this.routes.filter((r) => !r.doc).map((r) => `${r.method} ${r.url}`);
  }

  document(version: string): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of this.routes) {
      if (!r.doc) continue;
      const d = r.doc;
      const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const parameters = [
        ...paramsOf(d.params, 'path'),
        ...prefixParams(r.url, d.params),
        ...paramsOf(d.query, 'query'),
        ...paramsOf(d.headers, 'header'),
      ];
      const op: Record<string, unknown> = {
        summary: d.summary,
        ...(d.description ? { description: d.description } : {}),
        tags: [d.tag],
        operationId: operationId(r.method, r.url),
        ...(parameters.length ? { parameters } : {}),
        security: d.auth === 'none' || d.auth === 'twilio-signature' ? [] : [{ bearer: [] }],
        responses: Object.fromEntries(
          Object.entries(d.responses).map(([code, v]) => {
            const resp = typeof v === 'string' ? { description: v } : v;
            const ct = resp.contentType ?? (Number(code) >= 400 ? 'application/json' : undefined);
            const schema = resp.schema ? jsonSchema(resp.schema) : Number(code) >= 400 ? { $ref: '#/components/schemas/Error' } : undefined;
            return [code, { description: resp.description, ...(ct || schema ? { content: { [ct ?? 'application/json']: schema ? { schema } : {} } } : {}) }];
          }),
        ),
      };
      if (d.auth === 'twilio-signature') op['x-callwright-auth'] = 'X-Twilio-Signature (HMAC-SHA1 of the public URL and form parameters, keyed by the auth token)';
      if (d.body || d.bodyContentType) {
        op.requestBody = { required: true, content: { [d.bodyContentType ?? 'application/json']: d.body ? { schema: jsonSchema(d.body) } : {} } };
      }
      (paths[path] ??= {})[r.method.toLowerCase()] = op;
    }
    return {
      openapi: '3.1.0',
      info: {
        title: 'Callwright API',
        version,
        description:
          'Self-hosted AI agent that makes phone calls on your behalf. Every /api route takes `Authorization: Bearer <API_TOKEN>`. Every error is `{error: {code, message, field?}}` (the Error schema): `code` for programs, `message` for people, `field` naming the request field at fault. Unknown fields in a request body are refused (400, `unknown_field`).',
      },
      paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API_TOKEN (or DATA_DIR/api-token)' } },
        schemas: {
          Error: {
            type: 'object',
            required: ['error'],
            properties: {
              error: {
                type: 'object',
                required: ['code', 'message'],
                properties: {
                  code: { type: 'string', enum: [...ERROR_CODES], description: 'What kind of error, for programs' },
                  message: { type: 'string', description: 'What went wrong, in words; starts with the field at fault when there is one' },
                  field: { type: 'string', description: 'The request field at fault, nested ones in full (voicemail.message, metadata.orderId), or a header (Idempotency-Key)' },
                  fields: { type: 'array', items: { type: 'string' }, description: 'unknown_field: every unknown field' },
                  rule: { type: 'string', description: 'refused_by_policy, cap_reached: the dial-policy or cap rule that refused the call' },
                  missing: { type: 'array', items: { type: 'string' }, description: 'not_configured: the settings to set' },
                },
              },
            },
          },
        },
      },
    };
  }
}

function paramsOf(schema: z.ZodObject | undefined, where: 'path' | 'query' | 'header'): Array<Record<string, unknown>> {
  if (!schema) return [];
  const js = jsonSchema(schema) as { properties?: Record<string, { description?: string }>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (js.required ?? []).includes(name),
    ...(s.description ? { description: s.description } : {}),
    schema: s,
  }));
}

/**
 * Path parameters that come from a plugin's prefix, not from the route's own schema: the carrier routes
 * under `/n/:nodeId` (multi-node mode, src/server/app.ts), which only ever match this node's NODE_ID.
 */
function prefixParams(url: string, declared: z.ZodObject | undefined): Array<Record<string, unknown>> {
  const own = new Set(Object.keys(declared?.shape ?? {}));
  return [...url.matchAll(/:([A-Za-z0-9_]+)/g)]
    .map((m) => m[1]!)
    .filter((name) => !own.has(name))
    .map((name) => ({
      name,
      in: 'path',
      required: true,
      ...(name === 'nodeId' ? { description: "this node's NODE_ID; another node's is refused with 421 (docs/deployment.md)" } : {}),
      schema: { type: 'string' },
    }));
}

function operationId(method: string, url: string): string {
  const words = url
    .split('/')
    .filter((p) => p && p !== 'api')
    .map((p) => (p.startsWith(':') ? `by-${p.slice(1)}` : p))
    .join('-')
    .replace(/[^A-Za-z0-9]+(.)/g, (_, c: string) => c.toUpperCase());
  return `${method.toLowerCase()}${words.charAt(0).toUpperCase()}${words.slice(1)}`;
}
