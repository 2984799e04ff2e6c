import type { Redis } from 'ioredis';
import { z } from 'zod';
import { isValidClientId } from '../clients/profile.js';
import { openRedis, type ClusterLog } from './redis-client.js';

/**
 * Word between nodes that a client's documents changed in the shared CLIENTS_DIR, so the other nodes
 * re-sync that client's index at once rather than at their next rescan (knowledge/rescan.ts, which stays
 * the fallback: a lost message delays a document by one rescan period, nothing more).
 */
export interface KnowledgeChanges {
  /** Tells the other nodes that this node changed the client's documents. */
  announce(clientId: string): void;
  /** `handler` is called for each client another node announces. */
  onRemoteChange(handler: (clientId: string) => void): void;
  close(): Promise<void>;
}

/** One node: there is nobody to tell. */
export class LocalKnowledgeChanges implements KnowledgeChanges {
  announce(): void {}
  onRemoteChange(): void {}
  async close(): Promise<void> {}
}

export const KNOWLEDGE_CHANNEL = 'callwright:knowledge';
const message = z.object({ node: z.string().min(1).max(200), clientId: z.string().refine(isValidClientId) });

/** Through Redis pub/sub: one message per change, `{node, clientId}`; a node ignores its own. */
export class RedisKnowledgeChanges implements KnowledgeChanges {
  private readonly sub: Redis;
  private readonly handlers: Array<(clientId: string) => void> = [];
  private loggedFailureAt = 0;
  private readonly subscribed: Promise<unknown>;

  constructor(url: string, private readonly pub: Redis, private readonly nodeId: string, private readonly log: ClusterLog) {
    this.sub = openRedis(url, 'knowledge-sub', log, { subscriber: true });
    // Re-subscribed by ioredis after a reconnect; what was published meanwhile is caught by the rescan.
    this.subscribed = this.sub.subscribe(KNOWLEDGE_CHANNEL).catch(() => {});
    this.sub.on('message', (channel: string, raw: string) => {
      if (channel !== KNOWLEDGE_CHANNEL) return;
      let parsed;
      try {
        parsed = message.safeParse(JSON.parse(raw));
      } catch {
        return;
      }
      if (!parsed.success || parsed.data.node === this.nodeId) return;
      for (const h of this.handlers) h(parsed.data.clientId);
    });
  }

  /** Resolves when the subscription is confirmed (or at once if Redis is down: the rescan covers it). */
  async ready(timeoutMs = 2000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.subscribed, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  announce(clientId: string): void {
    this.pub.publish(KNOWLEDGE_CHANNEL, JSON.stringify({ node: this.nodeId, clientId })).catch((err: Error) => {
      const now = Date.now();
      if (now - this.loggedFailureAt < 60_000) return;
      this.loggedFailureAt = now;
      this.log.warn({ event: 'knowledge.announceFailed', clientId, err: err.message }, 'could not tell the other nodes a client\'s documents changed; they pick it up at their next rescan (KNOWLEDGE_RESCAN_S)');
    });
  }

  onRemoteChange(handler: (clientId: string) => void): void {
    this.handlers.push(handler);
  }

  async close(): Promise<void> {
    this.sub.disconnect();
  }
}
