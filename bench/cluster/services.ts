/**
 * The cluster bench's shared services, started privately for the run and stopped at its end: a
 * throwaway PostgreSQL and Redis (through scripts/test-postgres.sh and scripts/test-redis.sh, on ports
 * of their own), and HAProxy found on the PATH. Each arm gets a fresh database and an empty Redis, so
 * the second arm never reads the first one's calls, heartbeats or counters.
 */
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from '../../test/sim/stack.js';
import { freshPostgresDatabase } from '../../test/store-backends.js';
import { haproxyBinary } from '../../test/sim/haproxy.js';

export interface ClusterServices {
  haproxy: string;
  redisUrl: string;
  freshDatabase(): Promise<{ url: string; drop(): Promise<void> }>;
  flushRedis(): Promise<void>;
  stop(): void;
}

const script = (name: string) => new URL(`../../scripts/${name}`, import.meta.url).pathname;

/** Runs a start script and reads its KEY=value lines; undefined (with the reason) when it cannot start. */
function startScript(name: string, env: Record<string, string>): Record<string, string> | string {
  const r = spawnSync('bash', [script(name)], { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) return (r.stderr || r.stdout || `exit ${r.status}`).trim();
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

/** Starts PostgreSQL and Redis; a string saying what is missing when a binary is absent. */
export async function startClusterServices(): Promise<ClusterServices | string> {
  const haproxy = haproxyBinary();
  if (!haproxy) return 'haproxy is not installed (apt-get install haproxy)';
  // BENCH_PG_PORT / BENCH_REDIS_PORT pin the ports (a shared machine); otherwise free ones.
  const pgOut = startScript('test-postgres.sh', { PG_PORT: process.env.BENCH_PG_PORT ?? String(await freePort()) });
  if (typeof pgOut === 'string') return `PostgreSQL could not be started: ${pgOut}`;
  const redisOut = startScript('test-redis.sh', { REDIS_PORT: process.env.BENCH_REDIS_PORT ?? String(await freePort()) });
  if (typeof redisOut === 'string') {
    spawnSync('bash', [script('test-postgres.sh'), 'stop', pgOut.PG_DIR!]);
    return `Redis could not be started: ${redisOut}`;
  }
  const adminUrl = pgOut.TEST_DATABASE_URL!;
  const redisUrl = redisOut.TEST_REDIS_URL!;
  return {
    haproxy,
    redisUrl,
    freshDatabase: () => freshPostgresDatabase(adminUrl),
    flushRedis: () => redisCommand(redisUrl, 'FLUSHALL'),
    stop() {
      spawnSync('bash', [script('test-redis.sh'), 'stop', redisOut.REDIS_DIR!]);
      spawnSync('bash', [script('test-postgres.sh'), 'stop', pgOut.PG_DIR!]);
    },
  };
}

/** One inline command, its reply checked for an error (no client library needed for this one). */
function redisCommand(url: string, cmd: string): Promise<void> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname, () => s.write(`${cmd}\r\n`));
    s.once('data', (d) => {
      s.end();
      const reply = String(d);
      if (reply.startsWith('-')) reject(new Error(`redis ${cmd}: ${reply.trim()}`));
      else resolve();
    });
    s.once('error', reject);
  });
}
