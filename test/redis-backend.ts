// The Redis the cross-node tests run on: TEST_REDIS_URL names one (scripts/test-redis.sh starts a throwaway
// one on a private port and prints it); without it those tests are skipped, saying why.
// Each test file uses its own logical database (keys) and random call ids (pub/sub channels are global),
// so test files running side by side never see each other's data. A TEST_REDIS_URL that names a database
// (redis://host:port/8) moves every file's database up by that much: the PostgreSQL pass of the suite runs
// alongside the SQLite one (scripts/run-tests.mjs) on databases 8-15, the first pass on 0-7.
import { test } from 'node:test';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL;
const REDIS_SKIP = 'Redis: TEST_REDIS_URL is not set (run scripts/test-redis.sh and export the URL it prints to run the cross-node tests)';

/** TEST_REDIS_URL on logical database `db` (1-7) above the URL's own, emptied first. */
export async function redisUrlFor(db: number): Promise<string> {
  const url = new URL(TEST_REDIS_URL!);
  const base = Number(url.pathname.slice(1)) || 0;
  url.pathname = `/${base + db}`;
  const r = new Redis(url.toString(), { lazyConnect: true });
  await r.connect();
  await r.flushdb();
  r.disconnect();
  return url.toString();
}

/** A test that needs Redis: skipped with the reason when TEST_REDIS_URL is unset. */
export function redisTest(name: string, fn: () => Promise<void>): void {
  test(name, { skip: TEST_REDIS_URL ? undefined : REDIS_SKIP }, fn);
}

/** A logger that keeps what it was told, for the tests that check a fallback is logged. */
export function memoryLog() {
  const lines: Array<{ level: 'warn' | 'info'; obj: object; msg: string }> = [];
  return {
    lines,
    warn: (obj: object, msg: string) => void lines.push({ level: 'warn', obj, msg }),
    info: (obj: object, msg: string) => void lines.push({ level: 'info', obj, msg }),
  };
}
