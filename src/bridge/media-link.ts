import type { MediaTransport } from '../telephony/carrier.js';
import { PlayoutTracker } from '../media/playout-tracker.js';
import type { TimelineEventType } from '../shared/event-types.js';
import type { EndReason } from '../calls/state.js';

export interface MediaLinkHost {
  record(type: TimelineEventType, data: Record<string, unknown>): void;
  requestEnd(reason: EndReason, detail?: string): void;
  /** Largest audio chunk between two playout marks (bounds the heard-position error). */
  markChunkMs: number;
  /** The playout trackers' clock (default performance.now). */
  clock?: () => number;
}

/**
 * The call's media stream from the carrier, and the playout tracker of what was sent on it. A TwiML
 * update opens a new stream (new id) for the same call: it replaces the old one, whose late events are
 * then ignored, and the old one's end is not the call's end.
 */
export class MediaLink {
  transport?: MediaTransport;
  tracker?: PlayoutTracker;
  /** Streams attached so far (1 for the first). */
  streams = 0;
  /** Set while a stream replacement is expected (e.g. after a TwiML update): its end is not the call's. */
  private reattachTimer?: NodeJS.Timeout;

  constructor(private readonly h: MediaLinkHost) {}

  /** Makes `transport` the call's stream, with a fresh tracker; the previous one is closed. */
  attach(transport: MediaTransport): void {
    clearTimeout(this.reattachTimer);
    this.reattachTimer = undefined;
    const previous = this.transport;
    this.transport = transport;
    this.streams++;
    this.tracker?.clear();
    this.tracker = new PlayoutTracker({ chunkMs: this.h.markChunkMs, markPrefix: `s${this.streams}m`, ...(this.h.clock ? { now: this.h.clock } : {}) });
    this.h.record('media.attached', { stream: this.streams, streamId: transport.streamId });
    previous?.close();
  }

  /**
   * The carrier is about to replace the media stream (updating a live call's TwiML ends the running
   * stream with a normal `stop`): that stop must not end the call. If no new stream arrives in time,
   * the call ends as a media error. `false`: not coming after all (the update was refused).
   */
  expectNewStream(timeoutMs: number | false): void {
    clearTimeout(this.reattachTimer);
    this.reattachTimer = undefined;
    if (timeoutMs === false) return;
    this.reattachTimer = setTimeout(() => {
      this.reattachTimer = undefined;
      if (!this.transport) this.h.requestEnd('media-error', 'the replacement media stream never arrived');
    }, timeoutMs);
  }

  /**
   * The stream ended. `stop` means the call is over (the callee hung up, or we did), unless a
   * replacement is expected; a drop without `stop` also leaves the call with no audio path, so it ends
   * too, with a reason that says so.
   */
  ended(expected: boolean): void {
    this.transport = undefined;
    const replacing = Boolean(this.reattachTimer);
    this.h.record('media.ended', { expected, replacing });
    if (replacing) return;
    this.h.requestEnd(expected ? 'callee-hangup' : 'media-error', expected ? undefined : 'media stream closed without stop');
  }

  /** No replacement is awaited any more (the call is ending). */
  stopWaiting(): void {
    clearTimeout(this.reattachTimer);
    this.reattachTimer = undefined;
  }

  close(): void {
    this.stopWaiting();
    this.transport?.close();
    this.transport = undefined;
  }
}
