/**
 * Strict reading of %-encoded URL components: query strings and form bodies. A malformed escape (`%`
 * not followed by two hex digits, or escapes that are not valid UTF-8) is the sender's mistake: it is
 * reported as a 400 naming the field, never decoded by guesswork, and never left to throw a URIError
 * deep inside a handler (which answered 500). Pure functions: no Fastify here.
 */

export class MalformedEncodingError extends Error {
  readonly statusCode = 400;
  constructor(
    /** The field at fault: the parameter's name when it can be read, else where it was (`query`, `form`). */
    readonly field: string,
    where: 'query string' | 'form body',
  ) {
    super(`${field}: malformed %-escape in the ${where} (a % must start a %XX escape of valid UTF-8)`);
    this.name = 'MalformedEncodingError';
  }
}

/** `application/x-www-form-urlencoded` decoding of one key or value; undefined when malformed. */
export function decodeComponent(raw: string): string | undefined {
  if (!raw.includes('%')) return raw.replaceAll('+', ' ');
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

/** A readable, bounded name for the field at fault (names come from the client; values never appear). */
function fieldName(rawKey: string, fallback: string): string {
  const key = decodeComponent(rawKey);
  if (key === undefined) return fallback;
  // Printable characters only, bounded, so an error message stays one short line.
  const clean = key.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
  return clean || fallback;
}

/** Each `key=value` pair of a query string or form body, raw. */
function pairs(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const part of text.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    out.push(eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)]);
  }
  return out;
}

/** The first field of a request URL's query string with a malformed escape, if any. */
export function malformedQueryField(url: string): string | undefined {
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  const hash = url.indexOf('#', q);
  // Every request passes here (carrier webhooks included, ~20 per call): with no escape in the query
  // there is nothing to be malformed, so it is not split.
  const pct = url.indexOf('%', q);
  if (pct < 0 || (hash >= 0 && pct > hash)) return undefined;
  for (const [k, v] of pairs(url.slice(q + 1, hash < 0 ? undefined : hash))) {
    if (decodeComponent(k) === undefined || decodeComponent(v) === undefined) return fieldName(k, 'query');
  }
  return undefined;
}

/**
 * Parses a form body as fast-querystring (@fastify/formbody) does for well-formed input: `+` is a space,
 * a key without `=` has an empty value, a repeated key collects its values in an array. A malformed escape
 * throws MalformedEncodingError naming the field. The result has no prototype, so a field named
 * `__proto__` is just a field.
 */
export function parseFormBody(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [rk, rv] of pairs(body)) {
    const k = decodeComponent(rk);
    const v = decodeComponent(rv);
    if (k === undefined || v === undefined) throw new MalformedEncodingError(fieldName(rk, 'form'), 'form body');
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[k] = [prev, v];
  }
  return out;
}
