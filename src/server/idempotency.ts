import { createHash } from 'node:crypto';
import type { IdempotencyRepo } from '../store/idempotency-repo.js';
import { ApiError } from './errors.js';

/** How long a key is remembered: a retry a day later is a new request. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
export const IDEMPOTENCY_HEADER = 'idempotency-key';
const KEY_RE = /^[\x21-\x7e]{1,255}$/;

export interface Answer {
  status: number;
  body: unknown;
}

/**
 * `Idempotency-Key` on POST /api/calls: the first request with a key runs; a retry with the same key and
 * the same body gets the first one's answer (the same call) and places nothing; the same key with another
 * body is refused. Only a placed call is remembered: a refused request placed nothing, so its key is
 * released and a retry runs again. Keys live in the database (a retry after a restart is still a
 * retry); a duplicate arriving while the first is still running waits for it and gets its answer.
 */
export class IdempotentRequests {
  private readonly inflight = new Map<string, { hash: string; answer: Promise<Answer & { replayed: boolean }> }>();

  constructor(
    private readonly repo: IdempotencyRepo,
    private readonly now: () => Date = () => new Date(),
    private readonly ttlMs = IDEMPOTENCY_TTL_MS,
  ) {}

  /** The header's key, checked; undefined when the request has none. */
  static keyOf(header: string | string[] | undefined): string | undefined {
    if (header === undefined) return undefined;
    const v = Array.isArray(header) ? header : [header];
    if (v.length !== 1 || !KEY_RE.test(v[0])) {
      throw new ApiError(400, 'Idempotency-Key: must be one value of 1-255 visible characters (a UUID is a good key)', { code: 'invalid_field', field: 'Idempotency-Key' });
    }
    return v[0];
  }

  /** Runs `handler` once per key (see the class). `replayed` says the answer is a stored one. */
  async run(key: string, body: unknown, handler: () => Promise<Answer>): Promise<Answer & { replayed: boolean }> {
    const hash = bodyHash(body);
    // A duplicate of a request this process is still handling is decided here, before anything awaits:
    // the store's answers to two requests' claims may come back in either order (PostgreSQL's pool), so
    // the second must not look at the key in between the first's claim and its answer.
    const flight = this.inflight.get(key);
    if (flight) {
      if (flight.hash !== hash) throw reusedKey();
      return { ...(await flight.answer), replayed: true };
    }
    const answer = this.claimAndRun(key, hash, handler);
    this.inflight.set(key, { hash, answer });
    try {
      return await answer;
    } finally {
      this.inflight.delete(key);
    }
  }

  private async claimAndRun(key: string, hash: string, handler: () => Promise<Answer>): Promise<Answer & { replayed: boolean }> {
    const now = this.now();
    await this.repo.purge(new Date(now.getTime() - this.ttlMs));
    for (let tries = 0; tries < 2; tries++) {
      // One statement claims the key or finds it taken: of two claims (from any node) exactly one wins.
      if (await this.repo.claim(key, hash, now)) {
        try {
          const a = await handler();
          if (a.status >= 200 && a.status < 300) await this.repo.complete(key, a.status, a.body);
          else await this.repo.release(key);
          return { ...a, replayed: false };
        } catch (err) {
          await this.repo.release(key);
          throw err;
        }
      }
      const stored = await this.repo.get(key);
      // Released between the claim and the look-up (the first request was refused): claim it again.
      if (stored === undefined) continue;
      if (stored.bodyHash !== hash) throw reusedKey();
      if (stored.response) return { ...stored.response, replayed: true };
      throw new ApiError(409, 'Idempotency-Key: the first request with this key was cut short (the server restarted) before it answered; look for its call in GET /api/calls, and send a new key to place one', {
        code: 'idempotency_key_interrupted',
        field: 'Idempotency-Key',
      });
    }
    throw new ApiError(409, 'Idempotency-Key: another request with this key is being handled; try again', { code: 'idempotency_key_busy', field: 'Idempotency-Key' });
  }
}

function reusedKey(): ApiError {
  return new ApiError(422, 'Idempotency-Key: this key was already used with a different request body; send a new key for a new call', { code: 'idempotency_key_reused', field: 'Idempotency-Key' });
}

/** The body's fingerprint: the same JSON (whatever its key order or spacing) gives the same hash. */
export function bodyHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body ?? null)).digest('hex');
}

export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
