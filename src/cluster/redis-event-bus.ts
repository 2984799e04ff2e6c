import { z } from 'zod';
import type { Redis } from 'ioredis';
import type { StoredEvent } from '../store/events-repo.js';
import { LocalEventBus, type Audience, type EventBus, type SubscribeOptions, type Subscription } from './event-bus.js';
import { openRedis, whenReady, type ClusterLog } from './redis-client.js';

/** The longest a new subscriber waits for Redis to confirm its SUBSCRIBE before replaying anyway. */
const SUBSCRIBE_WAIT_MS = 2000;
/** The longest `close` waits for publishes Redis has not answered. */
const CLOSE_WAIT_MS = 1000;

const channelOf = (callId: string) => `callwright:events:${callId}`;
const CALL_OF_CHANNEL = /^callwright:events:(.+)$/;

// What crosses Redis: the publishing node (it has delivered to its own subscribers already) and the event.
const messageSchema = z.discriminatedUnion('kind', [
  z.object({ from: z.string(), kind: z.literal('event'), ev: z.object({ seq: z.number().int(), at: z.string(), type: z.string(), data: z.record(z.string(), z.unknown()) }) }),
  z.object({ from: z.string(), kind: z.literal('closed') }),
]);

/**
 * Timeline events across nodes over Redis pub/sub, one channel per call. This node's own subscribers get
 * its events in-process at once (no round trip, and still while Redis is down); Redis carries them to the
 * other nodes once they are stored (the caller publishes to each audience at its time, records/timeline.ts),
 * which subscribe to a call's channel only while someone there follows that call. One publishing
 * connection per node keeps each call's events in order (a call's events come from the one node running it).
 *
 * Redis pub/sub forgets what it could not deliver, so: a subscription is `ready` only once Redis has
 * confirmed it (the caller replays from the store after that), and when the subscribing connection drops
 * and comes back every subscriber is told (`onGap`) to catch up from the store.
 */
export class RedisEventBus implements EventBus {
  readonly crossNode: boolean = true;
  private readonly local = new LocalEventBus();
  private readonly pub: Redis;
  private readonly sub: Redis;
  /** Per call: how many local subscriptions hold its channel, and the SUBSCRIBE's confirmation. */
  private readonly channels = new Map<string, { holders: number; subscribed: Promise<void> }>();
  /** Followers' gap listeners by channel: a dropped link is a gap for all, a late subscription for its channel. */
  private readonly channelGaps = new Map<string, Set<() => void>>();
  private publishLoggedAt = 0;
  private lost = false;
  /** Publishes Redis has not answered yet: `close` lets them go out (the last events stored at shutdown). */
  private readonly sending = new Set<Promise<unknown>>();
  private closing = false;

  constructor(url: string, private readonly nodeId: string, private readonly log: ClusterLog) {
    this.pub = openRedis(url, `events-pub-${nodeId}`, log);
    this.sub = openRedis(url, `events-sub-${nodeId}`, log, { subscriber: true });
    this.sub.on('message', (channel: string, raw: string) => this.received(channel, raw));
    this.sub.on('close', () => {
      this.lost = true;
    });
    // ioredis subscribes to the channels again by itself; what was published meanwhile is gone.
    this.sub.on('ready', () => {
      if (!this.lost) return;
      this.lost = false;
      for (const gap of [...this.channelGaps.values()].flatMap((set) => [...set])) gap();
    });
  }

  /** Settles once both connections are up, or after a short wait if Redis is not there. */
  async ready(): Promise<void> {
    await Promise.all([whenReady(this.pub), whenReady(this.sub)]);
  }

  publish(callId: string, ev: StoredEvent, to: Audience): void {
    if (to === 'this-node') this.local.publish(callId, ev, to);
    else this.send(callId, { from: this.nodeId, kind: 'event', ev });
  }

  publishClosed(callId: string, to: Audience): void {
    if (to === 'this-node') this.local.publishClosed(callId, to);
    else this.send(callId, { from: this.nodeId, kind: 'closed' });
  }

  subscribe(callId: string, listener: (ev: StoredEvent) => void, opts: SubscribeOptions = {}): Subscription {
    const inner = this.local.subscribe(callId, listener);
    const release = this.hold(callId);
    const gap = opts.onGap;
    const channel = channelOf(callId);
    if (gap) {
      if (!this.channelGaps.has(channel)) this.channelGaps.set(channel, new Set());
      this.channelGaps.get(channel)!.add(gap);
    }
    let closed = false;
    return {
      ready: this.channels.get(channel)!.subscribed,
      close: () => {
        if (closed) return;
        closed = true;
        inner.close();
        if (gap) {
          const set = this.channelGaps.get(channel);
          set?.delete(gap);
          if (set?.size === 0) this.channelGaps.delete(channel);
        }
        release();
      },
    };
  }

  onClosed(callId: string, listener: () => void): () => void {
    const release = this.hold(callId);
    let done = false;
    const off = this.local.onClosed(callId, () => {
      if (done) return;
      done = true;
      release();
      listener();
    });
    return () => {
      if (done) return;
      done = true;
      off();
      release();
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.race([Promise.all(this.sending), new Promise((r) => setTimeout(r, CLOSE_WAIT_MS).unref())]);
    await this.local.close();
    this.channelGaps.clear();
    this.channels.clear();
    this.pub.disconnect();
    this.sub.disconnect();
  }

  private send(callId: string, message: z.infer<typeof messageSchema>): void {
    // No offline queue: while Redis is down this fails at once; other nodes' followers catch up from the
    // store when their link comes back (onGap), and this node's own followers already have the event.
    if (this.closing) return;
    const sent = this.pub.publish(channelOf(callId), JSON.stringify(message)).catch((err: Error) => {
      if (Date.now() - this.publishLoggedAt < 60_000) return;
      this.publishLoggedAt = Date.now();
      this.log.warn({ event: 'events.publishFailed', err: err.message }, 'live events not sent to other nodes: Redis did not answer (they replay from the store)');
    });
    this.sending.add(sent);
    void sent.finally(() => this.sending.delete(sent));
  }

  private received(channel: string, raw: string): void {
    const callId = CALL_OF_CHANNEL.exec(channel)?.[1];
    if (!callId) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return;
    }
    const m = messageSchema.safeParse(parsed);
    // Our own messages come back too: this node delivered them when it published.
    if (!m.success || m.data.from === this.nodeId) return;
    if (m.data.kind === 'closed') this.local.publishClosed(callId, 'this-node');
    else this.local.publish(callId, m.data.ev as StoredEvent, 'this-node');
  }

  /** Keeps the call's channel subscribed until the returned function is called (counted per call). */
  private hold(callId: string): () => void {
    const channel = channelOf(callId);
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = { holders: 0, subscribed: this.subscribeChannel(channel) };
      this.channels.set(channel, entry);
    }
    entry.holders++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const e = this.channels.get(channel);
      if (!e || --e.holders > 0) return;
      this.channels.delete(channel);
      this.sub.unsubscribe(channel).catch(() => undefined);
    };
  }

  private subscribeChannel(channel: string): Promise<void> {
    // Queued while the link is down (ioredis sends it on reconnect); the caller does not wait for that:
    // it replays from the store now and hears of the gap when the link is back.
    // A confirmation that comes after the wait below, or a refusal, leaves the followers who went on
    // without it missing what was published meanwhile: their gap signal makes them replay from the store.
    let waited = false;
    const gap = () => {
      for (const g of [...(this.channelGaps.get(channel) ?? [])]) g();
    };
    const confirmed = this.sub.subscribe(channel).then(
      () => {
        if (waited) gap();
      },
      // Refused while the link is down: the reconnect's gap (the 'ready' handler) covers it.
      () => {
        if (this.sub.status === 'ready') gap();
      },
    );
    if (this.sub.status !== 'ready' && this.sub.status !== 'connecting' && this.sub.status !== 'connect') return Promise.resolve();
    return Promise.race([
      confirmed,
      new Promise<void>((resolve) =>
        setTimeout(() => {
          waited = true;
          resolve();
        }, SUBSCRIBE_WAIT_MS).unref(),
      ),
    ]);
  }
}
