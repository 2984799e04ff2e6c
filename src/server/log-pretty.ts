/**
 * LOG_FORMAT=pretty: one readable line per log record, for a person at a terminal:
 *   14:03:07 INFO  call placed  callId=2f1c… to=+1415•••0123 provider=openai
 * The record is pino's JSON (after redaction and masking), so nothing reaches the terminal that the JSON log
 * would not hold. Fields that only machines need (pid, hostname, the event name, request ids) are left out.
 */
const LEVELS: Record<number, [string, number]> = { 10: ['TRACE', 90], 20: ['DEBUG', 90], 30: ['INFO ', 36], 40: ['WARN ', 33], 50: ['ERROR', 31], 60: ['FATAL', 35] };
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'event', 'reqId', 'req', 'res', 'responseTime', 'err']);

const paint = (on: boolean, code: number, s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v === null || typeof v !== 'object') return String(v);
  return JSON.stringify(v);
}

export function prettyLine(json: string, color: boolean): string {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(json);
  } catch {
    return json.endsWith('\n') ? json : json + '\n';
  }
  const t = typeof r.time === 'number' ? new Date(r.time) : new Date();
  const time = `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}:${String(t.getSeconds()).padStart(2, '0')}`;
  const [label, code] = LEVELS[Number(r.level)] ?? ['LOG  ', 0];
  const parts: string[] = [];
  const req = r.req as { method?: string; url?: string } | undefined;
  if (req?.method) parts.push(`${req.method} ${req.url ?? ''}`);
  const res = r.res as { statusCode?: number } | undefined;
  if (res?.statusCode) parts.push(String(res.statusCode));
  if (typeof r.responseTime === 'number') parts.push(`${Math.round(r.responseTime)}ms`);
  for (const [k, v] of Object.entries(r)) if (!SKIP.has(k) && v !== undefined) parts.push(`${k}=${value(v)}`);
  const err = r.err as { message?: string; stack?: string } | undefined;
  if (err?.message) parts.push(`error=${value(err.message)}`);
  let line = `${paint(color, 2, time)} ${paint(color, code, label)} ${String(r.msg ?? '')}${parts.length ? '  ' + paint(color, 2, parts.join(' ')) : ''}\n`;
  // A bug's stack is worth its lines; expected failures carry only a message.
  if (Number(r.level) >= 50 && err?.stack) line += err.stack.split('\n').slice(1).map((l) => `    ${l.trim()}\n`).join('');
  return line;
}
