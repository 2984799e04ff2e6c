import pino, { type Logger } from 'pino';
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { maskNumber } from '../calls/policy.js';
import { prettyLine } from './log-pretty.js';

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
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      err: pino.stdSerializers.err,
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

export type LogFormat = 'pretty' | 'json';

/** `auto`: readable lines on a terminal; JSON lines for everything else (files, pipes, log collectors). */
export function resolveLogFormat(setting: 'auto' | 'pretty' | 'json', isTty: boolean): LogFormat {
  return setting === 'auto' ? (isTty ? 'pretty' : 'json') : setting;
}

export interface ServerLogger {
  logger: Logger;
  format: LogFormat;
  /** Text for a person (the start-up banner, pretty format), through the same destination so it stays in order with the log. */
  print(text: string): void;
  /** A record that is written whatever LOG_LEVEL says (JSON format's start-up banner: tools wait for it). */
  notice(fields: Record<string, unknown>, msg: string): void;
  /** Writes out what is still buffered, synchronously (before exiting). */
  flush(): void;
}

/**
 * The server's logger. The destination is asynchronous (pino's sonic-boom, sync: false): a log call only
 * appends to a buffer and the write happens off the event loop, so logging never holds up live audio. pino
 * flushes it synchronously when the process exits, also on a crash; `flush` is there for exits made here.
 * `pretty` formats each record as one line (log-pretty.ts) before it goes to the same destination.
 */
export function createServerLogger(o: { level: string; sensitive: boolean; format: LogFormat; color: boolean; fd?: number }): ServerLogger {
  const dest = pino.destination({ dest: o.fd ?? 1, sync: false });
  const opts = loggerOptions(o.level, o.sensitive);
  if (o.format === 'json') {
    const notice = (fields: Record<string, unknown>, msg: string) => dest.write(JSON.stringify({ level: 30, time: Date.now(), ...fields, msg }) + '\n');
    return { logger: pino(opts, dest), format: 'json', print: (text) => notice({}, text), notice, flush: () => dest.flushSync() };
  }
  const stream = {
    write(line: string) {
      dest.write(prettyLine(line, o.color));
    },
  };
  const print = (text: string) => dest.write(text.endsWith('\n') ? text : text + '\n');
  return { logger: pino({ ...opts, base: undefined }, stream), format: 'pretty', print, notice: (_fields, msg) => print(msg), flush: () => dest.flushSync() };
}

/**
 * Fastify's request log lines at debug level: at info, a call's dozen webhook and API requests would bury
 * the lines that matter (and cost the media path a write each). Errors stay errors.
 */
export class QuietRequestLogs extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, req: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.debug({ req, res: reply, responseTime: Math.round(reply.elapsedTime) }, 'request completed');
  }

  override routeNotFound(req: FastifyRequest): void {
    req.log.debug({ req }, 'route not found');
  }

  override defaultErrorLog(error: Error, req: FastifyRequest, reply: FastifyReply): void {
    if (reply.statusCode >= 500) reply.log.error({ req, res: reply, err: error }, error?.message);
    else reply.log.debug({ res: reply, err: error }, error?.message);
  }

  override streamError(error: Error & { code?: string }, req: FastifyRequest, reply: FastifyReply): void {
    if (error.code === 'ERR_STREAM_PREMATURE_CLOSE') reply.log.debug({ res: reply }, 'stream closed prematurely');
    else reply.log.warn({ err: error }, 'response terminated with an error with headers already sent');
  }
}
