import type { MediaTransport } from '../telephony/carrier.js';
import type { ItemPlayout, PlayoutTracker } from '../media/playout-tracker.js';
import { AudioChunk } from '../media/audio-chunk.js';
import { dtmfAudio, type DtmfSegment } from '../media/dtmf.js';
import type { TimelineEventType } from '../shared/event-types.js';

/** Who pressed: the engine (send_dtmf), the call's own keys (`dtmf`), or the menu handling (operator route). */
export type DtmfSource = 'tool' | 'call' | 'menu';

export interface DtmfOutcome {
  /**
   * played: every key was confirmed played by the carrier (marks). interrupted: the carrier's buffer was
   * cleared (the callee spoke over it) or the stream ended; `pressed` holds the keys heard in full.
   * unconfirmed: sent, but the marks (carrier mode: the new stream) never came back. no-stream: nothing
   * could be sent. failed: the carrier refused to play them (carrier mode). refused: not pressed, because
   * the menu handling pressed something else or a person picked up (`why` says which).
   */
  status: 'played' | 'interrupted' | 'unconfirmed' | 'no-stream' | 'cancelled' | 'failed' | 'refused';
  /** The keys (and `w` pauses) played in full, in order. */
  pressed: string;
  /** refused: why, in words for the model. */
  why?: string;
}

export interface DtmfSenderHost {
  /** The current stream and its playout tracker; undefined between streams. */
  stream(): { transport: MediaTransport; tracker: PlayoutTracker } | undefined;
  record(type: TimelineEventType, data: Record<string, unknown>): void;
  /** Beyond the sequence's own length, how long to wait for its last mark (default 5 s). */
  markGraceMs?: number;
  /**
   * Carrier mode (DTMF_MODE=carrier): has the carrier play the digits; the running stream ends and a new
   * one re-attaches once they have played. Undefined: in-band tones.
   */
  carrier?: {
    play(digits: string): Promise<void>;
    /** The running stream is about to be replaced (its stop must not end the call); false: it is not after all. */
    expectNewStream(timeoutMs: number | false): void;
  };
  /** Carrier mode: longest wait for the new stream beyond the digits' own length (default 10 s). */
  reattachGraceMs?: number;
}

interface Pending {
  itemId: string;
  digits: string;
  source: DtmfSource;
  segments: DtmfSegment[];
  resolve(o: DtmfOutcome): void;
  guard: NodeJS.Timeout;
}

/** Playout items of key tones carry this prefix, so the session never mistakes them for agent speech. */
export const DTMF_ITEM_PREFIX = 'dtmf:';

export function isDtmfItem(itemId: string): boolean {
  return itemId.startsWith(DTMF_ITEM_PREFIX);
}

/**
 * Presses keys on the live call by playing DTMF tones as outbound audio on the media stream, so the
 * stream and the AI session stay up. Tones go into the same ordered playout queue as the agent's speech:
 * behind whatever agent audio is already queued (the carrier plays in order, so nothing is mixed), and
 * agent audio that arrives while they play is queued behind them. Each sequence ends with marks, and
 * resolves only once the carrier confirmed it played.
 */
export class DtmfSender {
  private seq = 0;
  private readonly pending = new Map<string, Pending>();
  private drainWaiters: Array<() => void> = [];
  private attachWaiters: Array<() => void> = [];

  constructor(private readonly h: DtmfSenderHost) {}

  send(digits: string, source: DtmfSource): Promise<DtmfOutcome> {
    if (this.h.carrier) return this.sendViaCarrier(digits, source, this.h.carrier);
    const s = this.h.stream();
    if (!s) {
      this.h.record('dtmf.sent', { digits, source, status: 'no-stream', pressed: '' });
      return Promise.resolve({ status: 'no-stream', pressed: '' });
    }
    const { audio, segments, durationMs } = dtmfAudio(digits);
    const itemId = `${DTMF_ITEM_PREFIX}${++this.seq}`;
    const queuedMs = s.tracker.pendingMs;
    return new Promise<DtmfOutcome>((resolve) => {
      const guard = setTimeout(() => this.finish(itemId, 'unconfirmed', 0), queuedMs + durationMs + (this.h.markGraceMs ?? 5000));
      this.pending.set(itemId, { itemId, digits, source, segments, resolve, guard });
      for (const chunk of s.tracker.push(itemId, AudioChunk.fromBytes(audio))) s.transport.sendAudio(chunk.audio, chunk.mark);
    });
  }

  /** A mark came back: a sequence whose audio has all played is done. */
  onPlayout(state: ItemPlayout): void {
    if (!this.pending.has(state.itemId)) return;
    if (state.playedMs >= state.sentMs) this.finish(state.itemId, 'played', state.playedMs);
  }

  /** The carrier's buffer was cleared or the stream ended: these items stopped where they were. */
  onCut(items: ItemPlayout[]): void {
    for (const c of items) if (this.pending.has(c.itemId)) this.finish(c.itemId, 'interrupted', c.playedMs);
  }

  /** The call is ending: every sequence still waiting resolves with what was confirmed. */
  close(): void {
    for (const id of [...this.pending.keys()]) this.finish(id, 'interrupted', 0);
    for (const w of [...this.drainWaiters.splice(0), ...this.attachWaiters.splice(0)]) w();
  }

  /** A mark came back or the buffer was cleared: wakes carrier-mode sends waiting for the agent's audio to play out. */
  onPlayoutChanged(): void {
    const s = this.h.stream();
    if (!s || !s.tracker.hasPending) for (const w of this.drainWaiters.splice(0)) w();
  }

  /** A media stream attached (carrier mode: the replacement after the digits). */
  onAttached(): void {
    for (const w of this.attachWaiters.splice(0)) w();
  }

  /**
   * Carrier mode. The call update ends the running stream at once, so the agent's queued audio plays out
   * first; the digits count as played when the new stream attaches (TwiML runs <Play> before <Connect>).
   */
  private async sendViaCarrier(digits: string, source: DtmfSource, carrier: NonNullable<DtmfSenderHost['carrier']>): Promise<DtmfOutcome> {
    const done = (status: DtmfOutcome['status'], extra: Record<string, unknown> = {}): DtmfOutcome => {
      const pressed = status === 'played' || status === 'unconfirmed' ? digits : '';
      this.h.record('dtmf.sent', { digits, source, status, pressed, via: 'carrier', ...extra });
      return { status, pressed };
    };
    const s = this.h.stream();
    if (!s) return done('no-stream');
    if (s.tracker.hasPending) await within(new Promise<void>((r) => this.drainWaiters.push(r)), s.tracker.pendingMs + (this.h.markGraceMs ?? 5000));
    if (!this.h.stream()) return done('interrupted');
    const { durationMs } = dtmfAudio(digits);
    const attached = new Promise<void>((r) => this.attachWaiters.push(r));
    const graceMs = durationMs + (this.h.reattachGraceMs ?? 10_000);
    carrier.expectNewStream(graceMs);
    try {
      await carrier.play(digits);
    } catch (err) {
      carrier.expectNewStream(false);
      return done('failed', { error: (err as Error).message });
    }
    const ok = await within(attached, graceMs);
    return done(ok ? 'played' : 'unconfirmed');
  }

  private finish(itemId: string, status: DtmfOutcome['status'], playedMs: number): void {
    const p = this.pending.get(itemId);
    if (!p) return;
    this.pending.delete(itemId);
    clearTimeout(p.guard);
    const pressed = status === 'played' ? p.digits : p.segments.filter((seg) => seg.endMs <= playedMs).map((seg) => seg.key).join('');
    this.h.record('dtmf.sent', { digits: p.digits, source: p.source, status, pressed });
    p.resolve({ status, pressed });
  }
}

/** Resolves true when `p` settles within `ms`, false otherwise; leaves no timer behind. */
function within(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout;
  return Promise.race([p.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]).finally(() => clearTimeout(timer));
}
