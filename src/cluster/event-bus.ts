import { EventEmitter } from 'node:events';
import type { StoredEvent } from '../store/events-repo.js';

/** A live subscription to one call's events. */
export interface Subscription {
  /**
   * Settles once events published anywhere from now on will reach the listener (at once in-process; once
   * Redis confirms the SUBSCRIBE across nodes, or at once while Redis is down). Replaying from the store
   * after this leaves no gap.
   */
  ready: Promise<void>;
  close(): void;
}

export interface SubscribeOptions {
  /**
   * Live events may have been missed (the cross-node link dropped and came back): the subscriber should
   * catch up from the store, which holds every event. Never called in-process.
   */
  onGap?: () => void;
}

/**
 * Who a publish reaches: this process's subscribers, or other nodes' (which hear only what the store already
 * holds: a follower there subscribes, then replays from the store, so an event told to it before it is stored
 * could be in neither). In-process, 'other-nodes' reaches no one.
 */
export type Audience = 'this-node' | 'other-nodes';

/**
 * Where a call's timeline events go live: to this process's subscribers only
 * (LocalEventBus, one node) or to every node's (RedisEventBus, REDIS_URL). The store stays the replay
 * source: the bus only carries what happens while someone listens.
 */
export interface EventBus {
  /** True when subscribers on other nodes hear this node's events. */
  readonly crossNode: boolean;
  publish(callId: string, ev: StoredEvent, to: Audience): void;
  /** The call's timeline is complete (the call ended and its records are written): for 'other-nodes', stored too. */
  publishClosed(callId: string, to: Audience): void;
  subscribe(callId: string, listener: (ev: StoredEvent) => void, opts?: SubscribeOptions): Subscription;
  /** Called once, when the call's timeline is closed; returns how to stop listening. */
  onClosed(callId: string, listener: () => void): () => void;
  close(): Promise<void>;
}

const closedKey = (callId: string) => `${callId}:closed`;

/** One process: an EventEmitter per call id. A listener that throws is its own problem; the call goes on. */
export class LocalEventBus implements EventBus {
  readonly crossNode: boolean = false;
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(callId: string, ev: StoredEvent, to: Audience): void {
    if (to === 'this-node') this.emitter.emit(callId, ev);
  }

  publishClosed(callId: string, to: Audience): void {
    if (to === 'this-node') this.emitter.emit(closedKey(callId));
  }

  subscribe(callId: string, listener: (ev: StoredEvent) => void, _opts?: SubscribeOptions): Subscription {
    const safe = (ev: StoredEvent) => {
      try {
        listener(ev);
      } catch {
        // A subscriber's failure is its own; the call goes on.
      }
    };
    this.emitter.on(callId, safe);
    return { ready: Promise.resolve(), close: () => void this.emitter.off(callId, safe) };
  }

  onClosed(callId: string, listener: () => void): () => void {
    this.emitter.once(closedKey(callId), listener);
    return () => void this.emitter.off(closedKey(callId), listener);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}
