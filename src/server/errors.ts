import type { FastifyError, FastifyReply } from 'fastify';
import { z } from 'zod';

/**
 * The one shape of every error the API answers: `{error: {code, message, field?}}`, plus, where a client
 * can act on them, `missing` (settings to set), `rule` (the dial-policy or cap rule) and `fields` (every
 * unknown field). `message` is written for people, in the product's words; `code` is for programs.
 */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    field?: string;
    missing?: string[];
    rule?: string;
    fields?: string[];
  };
}

export type ErrorExtra = Omit<ErrorBody['error'], 'code' | 'message'>;

/** Every code an error can carry (the OpenAPI Error schema lists them). */
export const ERROR_CODES = [
  'invalid_request',
  'invalid_field',
  'unknown_field',
  'invalid_json',
  'unauthorized',
  'forbidden',
  'not_found',
  'method_not_allowed',
  'conflict',
  'body_too_large',
  'unsupported_media_type',
  'unprocessable',
  'rate_limited',
  'refused_by_policy',
  'cap_reached',
  'not_configured',
  'idempotency_key_reused',
  'idempotency_key_interrupted',
  'idempotency_key_busy',
  'internal_error',
  'not_supported',
  'upstream_failed',
  // Browser sign-in (sessions.ts, session-routes.ts).
  'cross_site_refused',
  'invalid_token',
  'session_ended',
] as const;

/** The code an error gets when the route does not name a more precise one. */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'body_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'rate_limited',
  500: 'internal_error',
  501: 'not_supported',
  502: 'upstream_failed',
  503: 'not_configured',
};

export const defaultCode = (status: number): string => CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal_error' : 'invalid_request');

export function errorBody(status: number, message: string, extra: ErrorExtra & { code?: string } = {}): ErrorBody {
  const { code, ...rest } = extra;
  const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  return { error: { code: code ?? defaultCode(status), message, ...defined } };
}

/** Answers an error in the one shape; `return sendError(...)` from a handler. */
export function sendError(reply: FastifyReply, status: number, message: string, extra: ErrorExtra & { code?: string } = {}): FastifyReply {
  return reply.code(status).send(errorBody(status, message, extra));
}

/** An error a handler throws; the app's error handler answers it in the one shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: ErrorExtra & { code?: string } = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * A failed zod parse as a 400: the first problem, its field named in full (`voicemail.message`). Unknown
 * fields (strict objects) are named with their full path too, every one of them, code `unknown_field`.
 */
export function zodError(err: z.ZodError, where = 'body'): ApiError {
  const first = err.issues[0];
  const at = first.path.map(String);
  if (first.code === 'unrecognized_keys') {
    const fields = first.keys.map((k) => [...at, k].join('.'));
    const message = `${fields.length === 1 ? `unknown field "${fields[0]}"` : `unknown fields ${fields.map((f) => `"${f}"`).join(', ')}`}: not part of this request (check the spelling; see GET /api/openapi.json)`;
    return new ApiError(400, message, { code: 'unknown_field', field: fields[0], fields });
  }
  const field = at.join('.') || where;
  return new ApiError(400, `${field}: ${first.message}`, { code: 'invalid_field', field });
}

/**
 * A route that takes no body refuses one with fields, like any other unknown field: a client sending
 * settings to such a route would otherwise believe they were applied.
 */
export function unexpectedBodyFields(body: unknown): ApiError | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body) || Buffer.isBuffer(body)) return undefined;
  const fields = Object.keys(body);
  if (!fields.length) return undefined;
  return new ApiError(400, `${fields.length === 1 ? `unknown field "${fields[0]}"` : `unknown fields ${fields.map((f) => `"${f}"`).join(', ')}`}: this request takes no body`, { code: 'unknown_field', field: fields[0], fields });
}

/** Answers a failed parse (see zodError). */
export function sendZodError(reply: FastifyReply, err: z.ZodError, where = 'body'): FastifyReply {
  const e = zodError(err, where);
  return sendError(reply, e.status, e.message, e.extra);
}

/**
 * Fastify's own errors (raised before a handler runs or by its plugins), in the product's words. The
 * framework's messages name its internals (FST_ERR_…) and sometimes echo input; these do neither.
 */
export function frameworkError(err: FastifyError & { validation?: unknown }, limits: { bodyLimit: number }): ApiError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError(400, 'the request body is not valid JSON', { code: 'invalid_json', field: 'body' });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, 'the request body is empty; send a JSON object (Content-Type: application/json)', { code: 'invalid_json', field: 'body' });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, `the request body is larger than ${Math.round(limits.bodyLimit / 1024)} KB`, { code: 'body_too_large', field: 'body' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'send the request body as JSON (Content-Type: application/json)', { code: 'unsupported_media_type' });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError(400, 'the Content-Length header does not match the body', { code: 'invalid_request' });
    case 'FST_ERR_BAD_URL':
      return new ApiError(400, 'path: malformed %-escape in the URL path (a % must start a %XX escape of valid UTF-8)', { code: 'invalid_request', field: 'path' });
  }
  // JSON.parse's SyntaxError, as fastify passes it on (its message quotes the body).
  if (err instanceof SyntaxError && err.statusCode === 400) return new ApiError(400, 'the request body is not valid JSON', { code: 'invalid_json', field: 'body' });
  return undefined;
}
