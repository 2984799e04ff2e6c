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
  private readonly inflight = new Map<string, { hash: string; answer: Promise<Answer> }>();

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
    const now = this.now();
    this.repo.purge(new Date(now.getTime() - this.ttlMs));
    // Claimed synchronously, before anything awaits: of two concurrent requests exactly one claims the key.
    for (let tries = 0; tries < 2; tries++) {
      if (this.repo.claim(key, hash, now)) return { ...(await this.first(key, hash, handler)), replayed: false };
      const flight = this.inflight.get(key);
      const stored = flight ? undefined : this.repo.get(key);
      const firstHash = flight?.hash ?? stored?.bodyHash;
      // Released between the claim and the look-up (the first request was refused): claim it again.
      if (firstHash === undefined) continue;
      if (firstHash !== hash) {
        throw new ApiError(422, 'Idempotency-Key: this key was already used with a different request body; send a new key for a new call', { code: 'idempotency_key_reused', field: 'Idempotency-Key' });
      }
      if (flight) return { ...(await flight.answer), replayed: true };
      if (stored?.response) return { ...stored.response, replayed: true };
      throw new ApiError(409, 'Idempotency-Key: the first request with this key was cut short (the server restarted) before it answered; look for its call in GET /api/calls, and send a new key to place one', {
        code: 'idempotency_key_interrupted',
        field: 'Idempotency-Key',
      });
    }
    throw new ApiError(409, 'Idempotency-Key: another request with this key is being handled; try again', { code: 'idempotency_key_busy', field: 'Idempotency-Key' });
  }

  private first(key: string, hash: string, handler: () => Promise<Answer>): Promise<Answer> {
    const answer = (async () => {
      try {
        const a = await handler();
        if (a.status >= 200 && a.status < 300) this.repo.complete(key, a.status, a.body);
        else this.repo.release(key);
        return a;
      } catch (err) {
        this.repo.release(key);
        throw err;
      } finally {
        this.inflight.delete(key);
      }
    })();
    this.inflight.set(key, { hash, answer });
    return answer;
  }
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
