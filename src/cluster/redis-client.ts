import { Redis } from 'ioredis';

export interface ClusterLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** How long a Redis problem is logged once per connection, so an outage is one line a minute, not a flood. */
const ERROR_LOG_EVERY_MS = 60_000;

/**
 * A Redis connection for one cross-node job (`purpose` names it in the log: rate-limit, registry,
 * events-pub, events-sub). Commands fail fast while Redis is unreachable instead of queueing without
 * bound (no offline queue, one retry), so a caller falls back to its local behaviour at once; the client
 * keeps reconnecting in the background. The URL is never logged: it may carry a password.
 */
export function openRedis(url: string, purpose: string, log: ClusterLog, opts: { subscriber?: boolean } = {}): Redis {
  const redis = new Redis(url, {
    // Seen in CLIENT LIST: which node's connection for which job (a name has no spaces).
    connectionName: `callwright-${purpose}`.replace(/[^\w.:-]/g, '_'),
    connectTimeout: 2000,
    maxRetriesPerRequest: 1,
    // A subscriber must queue its SUBSCRIBEs until connected; every other connection fails fast instead.
    enableOfflineQueue: Boolean(opts.subscriber),
    retryStrategy: (times) => Math.min(200 * times, 2000),
  });
  let loggedAt = 0;
  let down = false;
  redis.on('error', (err: Error) => {
    const now = Date.now();
    if (now - loggedAt < ERROR_LOG_EVERY_MS) return;
    loggedAt = now;
    log.warn({ event: 'redis.error', purpose, err: err.message }, 'Redis is unreachable or failing; this node falls back to its local behaviour (docs/deployment.md)');
  });
  redis.on('close', () => {
    down = true;
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    loggedAt = 0;
    log.info({ event: 'redis.ready', purpose }, 'Redis is reachable again');
  });
  return redis;
}

/** Settles once the connection is up, or after `timeoutMs` whatever its state (start-up never waits long on Redis). */
export function whenReady(redis: Redis, timeoutMs = 2000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    timer.unref();
    redis.once('ready', done);
  });
}
