import type { FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Settings } from '../config/settings.js';
import { LocalEventBus, type EventBus } from './event-bus.js';
import { RedisEventBus } from './redis-event-bus.js';
import { LocalNodeRegistry, type NodeRegistry, type NodeSelf } from './node-registry.js';
import { RedisNodeRegistry, type RedisNodeRegistryOptions } from './redis-node-registry.js';
import { openRedis, whenReady, type ClusterLog } from './redis-client.js';
import { sharedRateLimitStore } from './shared-rate-limit-store.js';
import { nodeIdOf, registryIdOf } from './node-id.js';
import { LocalAnnouncements, RedisAnnouncer, type Announcements } from './announcements.js';
import { KNOWLEDGE_CHANNEL, type KnowledgeChange } from './knowledge-changes.js';
import { CAMPAIGN_CHANNEL, type CampaignChangeNotice } from './campaign-changes.js';

export interface Cluster {
  nodeId: string;
  /** This node as the registry lists it; the server sets baseUrl once it listens (without PUBLIC_URL). */
  self: NodeSelf;
  bus: EventBus;
  registry: NodeRegistry;
  /** The API rate limit's shared store (REDIS_URL); undefined: each node counts in memory. */
  rateLimitStore?: FastifyRateLimitStoreCtor;
  /** Word that a client's documents changed, so other nodes re-sync their index at once. */
  knowledge: Announcements<KnowledgeChange>;
  /** Word that a campaign changed, so other nodes tell whoever watches it live. */
  campaigns: Announcements<CampaignChangeNotice>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  settings: Pick<Settings, 'REDIS_URL' | 'DATABASE_URL' | 'NODE_ID' | 'PUBLIC_URL' | 'HOST' | 'PORT'>;
  log: ClusterLog;
  liveCalls: () => number;
  /** Tests shorten the registry's heartbeat and TTL. */
  registry?: RedisNodeRegistryOptions;
}

/**
 * The cross-node pieces, chosen by REDIS_URL: without it everything stays in this process (one node);
 * with it live events, rate limits and the node registry go through Redis (docs/deployment.md). Never
 * fails for Redis being down: each piece falls back to this node and says so in the log.
 */
export async function setupCluster(o: ClusterOptions): Promise<Cluster> {
  const s = o.settings;
  const nodeId = nodeIdOf(s);
  // Redis needs a name no other process has (each ignores its own messages coming back), stable or not.
  const processId = registryIdOf(s);
  const self: NodeSelf = { id: processId, baseUrl: s.PUBLIC_URL ?? `http://${s.HOST}:${s.PORT}`, startedAt: new Date(), liveCalls: o.liveCalls };
  if (!s.REDIS_URL) {
    const bus = new LocalEventBus();
    return { nodeId, self, bus, registry: new LocalNodeRegistry(self), knowledge: new LocalAnnouncements(), campaigns: new LocalAnnouncements(), close: () => bus.close() };
  }
  // One connection for plain commands (rate-limit counts, heartbeats); the bus keeps its own two, as a
  // subscribing connection can do nothing else.
  const redis = openRedis(s.REDIS_URL, 'commands', o.log);
  const bus = new RedisEventBus(s.REDIS_URL, processId, o.log);
  const registry = new RedisNodeRegistry(redis, self, o.log, o.registry);
  const announcer = new RedisAnnouncer(s.REDIS_URL, redis, processId, o.log);
  const knowledge = announcer.channel(KNOWLEDGE_CHANNEL);
  const campaigns = announcer.channel(CAMPAIGN_CHANNEL);
  // Commands fail fast while the link is down (each falls back to local): wait a moment for it at start,
  // so the first requests count in Redis. Redis down at start delays it by that moment, nothing more.
  await Promise.all([whenReady(redis), bus.ready(), announcer.ready()]);
  return {
    nodeId,
    self,
    bus,
    registry,
    rateLimitStore: sharedRateLimitStore(redis, o.log),
    knowledge,
    campaigns,
    async close() {
      await registry.stop();
      announcer.close();
      await bus.close();
      redis.disconnect();
    },
  };
}
