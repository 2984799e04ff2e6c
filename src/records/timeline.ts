import type { EventsRepo, StoredEvent } from '../store/events-repo.js';
import type { TimelineEventType } from '../shared/event-types.js';
import { LocalEventBus, type EventBus, type SubscribeOptions, type Subscription } from '../cluster/event-bus.js';

/**
 * A call's timeline: every event is held for the store and published to live subscribers (SSE) through
 * the event bus: this process's subscribers by default, every node's with REDIS_URL (src/cluster/). Listeners
 * are per call, so a slow or failing subscriber of one call never sees another call's traffic.
 */
export class Timeline {
  constructor(
    private readonly repo: EventsRepo,
    private readonly bus: EventBus = new LocalEventBus(),
  ) {
    // This node's followers hear an event once it is numbered: at once, except (PostgreSQL) the first events
    // of a call this process has not numbered yet, which wait for the call's last stored number
    // (events-repo.ts). Other nodes' followers hear it once it is stored: they subscribe, then replay from
    // the store, so an event published to them before it is stored could reach them from neither.
    repo.onNumbered = (ev) => this.bus.publish(ev.callId, ev, 'this-node');
    if (bus.crossNode) repo.onStored = (evs) => evs.forEach((ev) => this.bus.publish(ev.callId, ev, 'other-nodes'));
    // Events held back by a locked database are published live as they happen; once they are stored,
    // the call's record says they were written late (and nothing was lost).
    repo.onDelayedWrite = (callId, events, delayMs) => this.append(callId, 'store.delayed', { events, delayMs });
  }

  append(callId: string, type: TimelineEventType, data: Record<string, unknown> = {}): StoredEvent {
    return this.repo.append(callId, type, data);
  }

  /** Writes events held back (a locked database, PostgreSQL unreachable), waiting up to `waitMs`; resolves to how many are still unwritten. */
  flush(waitMs = 0): Promise<number> {
    return this.repo.flush(waitMs);
  }

  list(callId: string, afterSeq = 0): Promise<StoredEvent[]> {
    return this.repo.list(callId, afterSeq);
  }

  listOfType(callId: string, type: TimelineEventType): Promise<StoredEvent[]> {
    return this.repo.listOfType(callId, type);
  }

  /** Whether the call's timeline has an event of `type` (stored or pending), read afresh: the call may be another node's. */
  has(callId: string, type: TimelineEventType): Promise<boolean> {
    return this.repo.has(callId, type);
  }

  /** True when events appended on other nodes reach this node's subscribers (REDIS_URL). */
  get crossNode(): boolean {
    return this.bus.crossNode;
  }

  subscribe(callId: string, listener: (ev: StoredEvent) => void, opts?: SubscribeOptions): Subscription {
    return this.bus.subscribe(callId, listener, opts);
  }

  /**
   * Tells subscribers the timeline is complete (the call ended and its records are written), each after
   * the call's last event has reached them: this node's once it is numbered, other nodes' once it is stored.
   */
  close(callId: string): void {
    this.repo.afterNumbered(callId, () => this.bus.publishClosed(callId, 'this-node'));
    if (this.bus.crossNode) this.repo.afterStored(callId, () => this.bus.publishClosed(callId, 'other-nodes'));
    this.repo.forget(callId);
  }

  onClosed(callId: string, listener: () => void): () => void {
    return this.bus.onClosed(callId, listener);
  }
}
