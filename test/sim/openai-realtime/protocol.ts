/**
 * Wire-level vocabulary shared by the simulator: the GA event types (borrowed from the official SDK so a
 * protocol rename upstream breaks the type-check here, not silently at runtime), id minting and `error` events.
 */
import type {
  ConversationItem,
  RealtimeError,
  RealtimeErrorEvent,
  RealtimeResponse,
  RealtimeServerEvent,
  RealtimeSessionCreateRequest,
} from 'openai/resources/realtime/realtime';

export type { ConversationItem, RealtimeResponse, RealtimeServerEvent, RealtimeSessionCreateRequest };

/**
 * A server event before the session stamps its `event_id`. Distributing Omit over the SDK union keeps each
 * member's own fields checked, so a typo in an event name or field fails `tsc`.
 */
export type ServerEventBody = RealtimeServerEvent extends infer E ? (E extends { event_id: string } ? Omit<E, 'event_id'> : never) : never;

/** The full session object the simulator keeps and echoes; extra read-only fields the real server also sends. */
export type SessionObject = RealtimeSessionCreateRequest & { id: string; object: 'realtime.session'; expires_at: number };

/** A client event after JSON parsing; only `type` is guaranteed, everything else is validated per type. */
export interface ClientEvent {
  type: string;
  event_id?: string;
  [key: string]: unknown;
}

/**
 * A protocol-level rejection. Handlers throw it; the session turns it into an `error` event and keeps the
 * socket open, as the real server does for request errors.
 */
export class RealtimeRequestError extends Error {
  constructor(
    readonly code: string | null,
    message: string,
    readonly param: string | null = null,
    readonly errorType: string = 'invalid_request_error',
  ) {
    super(message);
  }
}

export function errorEventBody(err: RealtimeError): Omit<RealtimeErrorEvent, 'event_id'> {
  return { type: 'error', error: err };
}

/**
 * Ids look like the real ones (prefix + 20ish base62-ish chars) but are counters, so two runs of the same
 * test produce the same ids and failures are reproducible. The session index keeps them unique across sockets.
 */
export class IdMinter {
  private counter = 0;
  constructor(private readonly sessionIndex: number) {}

  next(prefix: 'event' | 'resp' | 'item' | 'call' | 'sess' | 'conv'): string {
    this.counter++;
    const tag = `S${this.sessionIndex.toString(36).toUpperCase()}`;
    return `${prefix}_Sim${tag}x${this.counter.toString(36).padStart(8, '0')}`;
  }
}
