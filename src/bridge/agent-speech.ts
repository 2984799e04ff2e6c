import type { MediaTransport } from '../telephony/carrier.js';
import type { EngineEvent, VoiceEngine } from '../voice/engine.js';
import type { PlayoutTracker } from '../media/playout-tracker.js';
import type { TimelineEventType } from '../shared/event-types.js';
import { heardPart } from '../records/transcript.js';
import type { AudioPath } from './audio-path.js';
import { isDtmfItem, type DtmfSender } from './dtmf-sender.js';

/** How long agent audio sent without a mark waits for more before its mark is sent on its own. */
const TAIL_MARK_MS = 40;

export type CutCause = 'callee' | 'answering-machine' | 'mode';

interface AgentItem {
  responseId: string;
  /** When the callee began to hear it (first echoed mark), else when its first audio was sent. */
  startedAt: string;
  heard: boolean;
  text?: string;
  /** Audio the engine generated for the item, including any dropped after a cut. */
  generatedMs?: number;
  written: boolean;
  interrupted?: { heardMs: number };
  /** Some of its audio went to the carrier (the engine was told, once). */
  sent?: boolean;
}

export interface AgentSpeechHost {
  engine: VoiceEngine;
  audio: AudioPath;
  dtmf: DtmfSender;
  record(type: TimelineEventType, data: Record<string, unknown>): void;
  /** The live media stream, if any. */
  transport(): MediaTransport | undefined;
  /** The current stream's playout tracker (kept after the stream ends, for what was heard). */
  tracker(): PlayoutTracker | undefined;
}

/**
 * What the agent says, from the engine's audio to the transcript line: plays audio out with marks,
 * writes each item once it was heard in full, and when the agent is cut off, cuts the engine's memory
 * and the transcript to what the callee actually heard (per echoed marks).
 */
export class AgentSpeech {
  private readonly items = new Map<string, AgentItem>();
  /** Responses cut before any of their audio was played (a reply to hold music): nobody heard them. */
  private readonly unheard = new Set<string>();
  private tailTimer?: NodeJS.Timeout;
  private lastUnmarkedAt = 0;

  constructor(private readonly h: AgentSpeechHost) {}

  /** An item the engine is still talking about (its words may arrive after a cut). */
  has(itemId: string): boolean {
    return this.items.has(itemId);
  }

  play(e: Extract<EngineEvent, { type: 'agent.audio' }>): void {
    // No stream (between a stream's end and its replacement): nothing can be played.
    const transport = this.h.transport();
    const tracker = this.h.tracker();
    if (!transport || !tracker) return;
    const fresh = !this.items.has(e.itemId);
    const item = this.itemFor(e.itemId, e.responseId);
    if (this.unheard.has(e.responseId)) {
      // Dropped as it started: none of it is played, and the engine forgets it was said.
      if (fresh) this.h.engine.deleteItem(e.itemId);
      return;
    }
    const audio = this.h.audio.toCarrier(e.audio);
    if (audio.length === 0) return;
    // A transport that can send a mark on its own gets one per 40 ms of audio, not one per delta.
    const coalesce = transport.sendMark !== undefined;
    let unmarked = false;
    for (const chunk of tracker.push(e.itemId, audio, coalesce)) {
      transport.sendAudio(chunk.audio, chunk.mark);
      unmarked = chunk.mark === undefined;
    }
    if (!item.sent) {
      item.sent = true;
      // Only the bridge knows when the reply's first audio left for the callee (the end of a turn's latency).
      this.h.engine.audioSent?.(e.responseId);
    }
    if (unmarked) {
      this.lastUnmarkedAt = performance.now();
      // Harmless if it fires after the call ended (no stream: nothing is sent).
      this.tailTimer ??= setTimeout(this.markTail, TAIL_MARK_MS).unref();
    }
  }

  /**
   * Audio went out without a mark and no more has come for a while (the end of a turn): its mark goes on
   * its own, so that what was heard, and the end of the item, are confirmed once it plays.
   */
  private readonly markTail = (): void => {
    this.tailTimer = undefined;
    const idle = performance.now() - this.lastUnmarkedAt;
    if (idle < TAIL_MARK_MS) {
      // Audio still flowing: its next chunk carries the mark.
      this.tailTimer = setTimeout(this.markTail, TAIL_MARK_MS - idle).unref();
      return;
    }
    this.sendTailMark();
  };

  private sendTailMark(): void {
    const mark = this.h.tracker()?.markTail();
    if (mark) this.h.transport()?.sendMark?.(mark);
  }


  transcript(e: Extract<EngineEvent, { type: 'agent.transcript' }>): void {
    // The item's words are complete, and its audio with them: its last mark goes now, not after a pause.
    this.sendTailMark();
    const item = this.itemFor(e.itemId, e.responseId);
    item.text = e.text;
    item.generatedMs = e.audioMs;
    const st = this.h.tracker()?.state(e.itemId);
    if (item.interrupted || !st || st.playedMs >= st.sentMs) this.write(e.itemId, item);
  }

  /** A mark came back: the item is being heard, and once all of it was, it is written. */
  played(state: { itemId: string; playedMs: number; sentMs: number }): void {
    const item = this.items.get(state.itemId);
    if (!item) return;
    if (!item.heard) {
      item.heard = true;
      item.startedAt = new Date().toISOString();
    }
    if (item.text !== undefined && !item.written && state.playedMs >= state.sentMs) this.write(state.itemId, item);
  }

  /**
   * Stops the agent now: response cancelled, carrier buffer cleared, items cut to what was heard
   * (truncated in the engine, or deleted if never heard). Returns how many items were cut.
   */
  cut(cause: CutCause): number {
    const { engine } = this.h;
    const transport = this.h.transport();
    const tracker = this.h.tracker();
    engine.interrupt();
    const all = transport && tracker?.hasPending ? (transport.clear(), tracker.clear()) : [];
    // Key tones are not the agent's speech: the engine has no item to truncate for them.
    this.h.dtmf.onCut(all);
    this.h.dtmf.onPlayoutChanged();
    const cut = all.filter((c) => !isDtmfItem(c.itemId));
    if (!cut.length) return 0;
    for (const c of cut) {
      if (c.playedMs > 0 && engine.capabilities.truncation) engine.truncate(c.itemId, c.playedMs);
      else if (c.playedMs === 0) engine.deleteItem(c.itemId);
      const item = this.items.get(c.itemId);
      if (item) {
        item.interrupted = { heardMs: c.playedMs };
        if (item.text !== undefined && !item.written) this.write(c.itemId, item);
      }
    }
    this.h.record('agent.interrupted', { cause, items: cut.map((c) => ({ itemId: c.itemId, heardMs: c.playedMs, sentMs: c.sentMs })) });
    return cut.length;
  }

  /** The line went dead with agent audio still queued: those items were cut off where playback stopped. */
  cutUnplayed(): void {
    const tracker = this.h.tracker();
    if (!tracker?.hasPending) return;
    const cut = tracker.clear();
    this.h.dtmf.onCut(cut);
    for (const c of cut) {
      const item = this.items.get(c.itemId);
      if (item && !item.written) item.interrupted = { heardMs: c.playedMs };
    }
  }

  /**
   * A response nobody asked for (a reply on hold): none of its audio is played, what was queued before it
   * still is, and its transcript line says it was not heard.
   */
  dropResponse(responseId: string): void {
    this.unheard.add(responseId);
  }

  /** Agent turns never confirmed as played are still part of what was said up to the end. */
  writeRemaining(): void {
    for (const [id, item] of [...this.items]) if (item.text !== undefined && !item.written) this.write(id, item);
  }

  private itemFor(itemId: string, responseId: string): AgentItem {
    let item = this.items.get(itemId);
    if (!item) {
      item = { responseId, written: false, heard: false, startedAt: new Date().toISOString(), ...(this.unheard.has(responseId) ? { interrupted: { heardMs: 0 } } : {}) };
      this.items.set(itemId, item);
    }
    return item;
  }

  private write(itemId: string, item: AgentItem): void {
    item.written = true;
    this.items.delete(itemId);
    const text = item.text ?? '';
    if (item.interrupted) {
      // The heard fraction is taken of all audio generated for the item, including what was dropped.
      const totalMs = Math.max(item.generatedMs ?? 0, this.h.tracker()?.state(itemId)?.sentMs ?? 0);
      this.h.record('transcript', {
        speaker: 'agent',
        text,
        itemId,
        startedAt: item.startedAt,
        interrupted: { heardText: heardPart(text, item.interrupted.heardMs, totalMs), heardMs: item.interrupted.heardMs, totalMs },
      });
    } else if (text) {
      this.h.record('transcript', { speaker: 'agent', text, itemId, startedAt: item.startedAt });
    }
  }
}
