import { maskNumber } from '../calls/policy.js';

/**
 * Structured logs (pino via Fastify). Messages are static; identifiers travel in fields, so a redactor
 * can act on them:
 * - secrets (API keys, auth tokens, stream secrets, the bearer header, Twilio signatures) are always
 *   replaced by "[redacted]", whatever the settings;
 * - phone numbers (fields `to`, `from`, `number`, `phone`) and conversation text (`text`, `transcript`,
 *   `heardText`, `instructions`) are masked unless `sensitive` (LOG_SENSITIVE=true, for debugging) is on.
 * Code that logs passes the raw value in one of those fields and lets this decide.
 */
const NUMBER_FIELDS = new Set(['to', 'from', 'number', 'phone']);
const TEXT_FIELDS = new Set(['text', 'transcript', 'heardText', 'instructions']);

export const SECRET_PATHS = [
  'req.headers.authorization',
  'req.headers["x-twilio-signature"]',
  'req.headers["x-goog-api-key"]',
  'req.headers.cookie',
  '*.apiKey',
  '*.authToken',
  '*.token',
  '*.secret',
  '*.streamSecret',
  '*.password',
  '*.authorization',
  '*.Authorization',
  'apiKey',
  'authToken',
  'token',
  'secret',
  'streamSecret',
];

export function loggerOptions(level: string, sensitive = false) {
  return {
    level,
    serializers: {
      // Request URLs may carry a call's event-stream token: log them without it.
      req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }),
    },
    redact: { paths: SECRET_PATHS, censor: '[redacted]' },
    formatters: sensitive ? {} : { log: maskPersonalData },
  };
}

/** Masks phone numbers and conversation text in a log record's fields (top level and one level down). */
export function maskPersonalData(obj: Record<string, unknown>, depth = 1): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(obj)) {
    let masked: unknown = v;
    if (NUMBER_FIELDS.has(k) && typeof v === 'string') masked = maskNumber(v);
    else if (TEXT_FIELDS.has(k) && typeof v === 'string') masked = `[${v.length} chars]`;
    else if (depth > 0 && v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Error)) masked = maskPersonalData(v as Record<string, unknown>, depth - 1);
    if (masked !== v) (out ??= { ...obj })[k] = masked;
  }
  return out ?? obj;
}

export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|access_token)=)[^&]*/g, '$1[redacted]');
}
