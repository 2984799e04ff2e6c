import type { Redis } from 'ioredis';
import { nodeInfoSchema, snapshot, type NodeInfo, type NodeList, type NodeRegistry, type NodeSelf } from './node-registry.js';
import type { ClusterLog } from './redis-client.js';

const PREFIX = 'callwright:node:';

export interface RedisNodeRegistryOptions {
  /** How often this node rewrites its entry. */
  heartbeatMs?: number;
  /** How long an entry lives without a heartbeat: a node that died leaves the list after this. */
  ttlMs?: number;
}

/**
 * Every live node, in Redis: one key per node holding its entry (id, base URL, start, live calls, load),
 * rewritten every `heartbeatMs` with a TTL of `ttlMs`. A node that stops cleanly deletes its key; one that
 * dies is gone once the key expires. While Redis fails, the list is this node alone, saying why.
 */
export class RedisNodeRegistry implements NodeRegistry {
  private timer?: NodeJS.Timeout;
  private readonly heartbeatMs: number;
  private readonly ttlMs: number;
  private loggedAt = 0;

  constructor(private readonly redis: Redis, private readonly self: NodeSelf, private readonly log: ClusterLog, o: RedisNodeRegistryOptions = {}) {
    this.heartbeatMs = o.heartbeatMs ?? 5000;
    this.ttlMs = o.ttlMs ?? 15_000;
    if (this.ttlMs <= this.heartbeatMs) throw new Error(`node registry: the TTL (${this.ttlMs} ms) must be longer than the heartbeat (${this.heartbeatMs} ms), or live nodes would blink out`);
  }

  start(): void {
    if (this.timer) return;
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.timer.unref();
  }

  async list(): Promise<NodeList> {
    const mine = snapshot(this.self);
    try {
      const keys = await this.keys();
      const values = keys.length ? await this.redis.mget(...keys) : [];
      const others: NodeInfo[] = [];
      for (const raw of values) {
        const n = raw ? parseEntry(raw) : undefined;
        if (n && n.id !== mine.id) others.push(n);
      }
      const nodes = [{ ...mine, self: true }, ...others.map((n) => ({ ...n, self: false }))].sort((a, b) => a.id.localeCompare(b.id));
      return { nodes, shared: true };
    } catch (err) {
      return { nodes: [{ ...mine, self: true }], shared: false, error: `Redis did not answer (${(err as Error).message}): only this node is listed` };
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.redis.del(PREFIX + this.self.id).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    try {
      await this.redis.set(PREFIX + this.self.id, JSON.stringify(snapshot(this.self)), 'PX', this.ttlMs);
    } catch (err) {
      if (Date.now() - this.loggedAt < 60_000) return;
      this.loggedAt = Date.now();
      this.log.warn({ event: 'nodes.heartbeatFailed', err: (err as Error).message }, 'node registry: heartbeat not written (Redis did not answer); other nodes stop listing this one until it is');
    }
  }

  private async keys(): Promise<string[]> {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 200);
      out.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return out;
  }
}

function parseEntry(raw: string): NodeInfo | undefined {
  try {
    const r = nodeInfoSchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
