import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { FastifyRateLimitOptions, FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { ClusterLog } from './redis-client.js';

// @fastify/rate-limit's own stores: the Redis one (an atomic INCR + PEXPIRE script) and the in-memory one.
const require = createRequire(import.meta.url);
type StoreCtor = new (continueExceeding: boolean, exponentialBackoff: boolean, ...rest: unknown[]) => FastifyRateLimitStore;
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as StoreCtor;
const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as StoreCtor;

type Incr = FastifyRateLimitStore['incr'];

/**
 * The API rate limit counted in Redis, so every node adds to one count per client; while Redis fails
 * (down, unreachable, timing out) each node counts locally instead: the limit still holds per node, and
 * no request fails because the counter's store did. Back on Redis once it answers again (the local
 * counts are not carried over: a window at most is counted loosely).
 */
export function sharedRateLimitStore(redis: Redis, log: ClusterLog, nameSpace = 'callwright:ratelimit:'): FastifyRateLimitStoreCtor {
  let loggedAt = 0;
  const fellBack = (err: Error) => {
    if (Date.now() - loggedAt < 60_000) return;
    loggedAt = Date.now();
    log.warn({ event: 'ratelimit.local', err: err.message }, 'rate limit counted on this node alone: Redis did not answer');
  };

  class Store implements FastifyRateLimitStore {
    constructor(
      private readonly shared: FastifyRateLimitStore,
      private readonly local: FastifyRateLimitStore,
    ) {}

    incr(key: string, cb: Parameters<Incr>[1], timeWindow: number, max: number): void {
      this.shared.incr(key, (err, result) => {
        if (!err) return cb(null, result);
        fellBack(err);
        this.local.incr(key, cb, timeWindow, max);
      }, timeWindow, max);
    }

    child(routeOptions: Parameters<FastifyRateLimitStore['child']>[0]): FastifyRateLimitStore {
      return new Store(this.shared.child(routeOptions), this.local.child(routeOptions));
    }
  }

  return class SharedRateLimitStore extends Store {
    constructor(options: FastifyRateLimitOptions) {
      // The plugin passes its global parameters, which carry these two (its types leave them out).
      const o = options as { continueExceeding?: boolean; exponentialBackoff?: boolean };
      super(new RedisStore(Boolean(o.continueExceeding), Boolean(o.exponentialBackoff), redis, nameSpace), new LocalStore(Boolean(o.continueExceeding), Boolean(o.exponentialBackoff)));
    }
  };
}
