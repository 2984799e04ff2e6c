import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { openRedis, type ClusterLog } from './redis-client.js';

/**
 * Word between nodes that something changed that they may hold or show (a client's documents, a
 * campaign's progress), so they act at once rather than at their next read of the store. Best effort:
 * a message lost while Redis is away delays that, nothing more; each channel's user says what catches up.
 */
export interface Announcements<T extends object> {
  /** Tells the other nodes. */
  announce(message: T): void;
  /** `handler` is called for each message another node announces. */
  onRemote(handler: (message: T) => void): void;
}

/** One node: there is nobody to tell. */
export class LocalAnnouncements<T extends object> implements Announcements<T> {
  announce(): void {}
  onRemote(): void {}
}

export interface ChannelSpec<T extends object> {
  /** The Redis channel. */
  name: string;
  /** What a message holds, checked on arrival (a message that does not fit is ignored). */
  schema: z.ZodType<T>;
  /** Logged (at most once a minute) when a message cannot be published: what the other nodes miss, and what catches up. */
  onPublishFailed: { event: string; message: string; fields: (message: T) => Record<string, unknown> };
}

/**
 * Announcement channels through Redis pub/sub, all on one subscribing connection. A message is the
 * channel's object with the sender's `node` beside its fields; a node ignores its own.
 */
export class RedisAnnouncer {
  private readonly sub: Redis;
  private readonly receivers = new Map<string, (raw: Record<string, unknown>) => void>();
  private readonly subscriptions: Promise<unknown>[] = [];

  constructor(
    url: string,
    private readonly pub: Redis,
    private readonly nodeId: string,
    private readonly log: ClusterLog,
  ) {
    this.sub = openRedis(url, 'announcements-sub', log, { subscriber: true });
    this.sub.on('message', (channel: string, raw: string) => {
      const receive = this.receivers.get(channel);
      if (!receive) return;
      let m: unknown;
      try {
        m = JSON.parse(raw);
      } catch {
        return;
      }
      if (typeof m !== 'object' || m === null || Array.isArray(m)) return;
      const { node, ...fields } = m as Record<string, unknown>;
      if (typeof node !== 'string' || node === this.nodeId) return;
      receive(fields);
    });
  }

  channel<T extends object>(spec: ChannelSpec<T>): Announcements<T> {
    const handlers: Array<(message: T) => void> = [];
    this.receivers.set(spec.name, (raw) => {
      const parsed = spec.schema.safeParse(raw);
      if (!parsed.success) return;
      for (const h of handlers) h(parsed.data);
    });
    // Re-subscribed by ioredis after a reconnect; what was published meanwhile is caught as the channel's user says.
    this.subscriptions.push(this.sub.subscribe(spec.name).catch(() => {}));
    let loggedFailureAt = 0;
    return {
      announce: (message) => {
        this.pub.publish(spec.name, JSON.stringify({ ...message, node: this.nodeId })).catch((err: Error) => {
          const now = Date.now();
          if (now - loggedFailureAt < 60_000) return;
          loggedFailureAt = now;
          this.log.warn({ event: spec.onPublishFailed.event, ...spec.onPublishFailed.fields(message), err: err.message }, spec.onPublishFailed.message);
        });
      },
      onRemote: (handler) => void handlers.push(handler),
    };
  }

  /** Resolves when the subscriptions are confirmed (or after `timeoutMs` if Redis is down: each channel's fallback covers it). */
  async ready(timeoutMs = 2000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.subscriptions), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  close(): void {
    this.sub.disconnect();
  }
}
