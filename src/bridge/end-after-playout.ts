import type { VoiceEngine } from '../voice/engine.js';
import type { TimelineEventType } from '../shared/event-types.js';
import type { EndReason } from '../calls/state.js';
import type { HangupOutcome } from './tool-calls.js';
import type { AfterPreamble } from './after-preamble.js';

export interface EndAfterPlayoutHost {
  engine: VoiceEngine;
  record(type: TimelineEventType, data: Record<string, unknown>): void;
  requestEnd(reason: EndReason, detail?: string): void;
  /** The response the engine is generating now, if any. */
  activeResponse(): string | undefined;
  /** Cancels the response in flight, if any (the goodbye replaces it). */
  cancelResponse(): void;
  /** Audio sent to the carrier and not yet confirmed played, if any. */
  playout(): { hasPending: boolean; pendingMs: number } | undefined;
  /** Waits for the words before a tool call to be heard (end_call's goodbye). */
  preambles: AfterPreamble;
}

/**
 * Ending a call only after the last words were heard: end_call's hang-up (its goodbye is a preamble,
 * see after-preamble.ts), and a limit's goodbye (wrap-up), which waits for its response to finish and
 * for every mark of its audio to come back. Callers poke `check()` whenever a mark returns or a
 * response ends.
 */
export class EndAfterPlayout {
  /** A limit is ending the call: the goodbye response it asked for, and the guard that cuts the line anyway. */
  private wrapping?: { reason: EndReason; responseId?: string; guard: NodeJS.Timeout };

  constructor(private readonly h: EndAfterPlayoutHost) {}

  /**
   * end_call's side effect: hangs up once the goodbye (the response carrying the call) has played, and
   * not at all if the callee talked over it or the engine withdrew the call.
   */
  async hangup(responseId: string, signal: AbortSignal): Promise<HangupOutcome> {
    const outcome = await this.h.preambles.wait(responseId, signal);
    switch (outcome) {
      case 'played':
        this.h.requestEnd(this.wrapping?.reason ?? 'agent-hangup');
        return 'hung-up';
      case 'unconfirmed':
        this.h.record('hangup.guard', { note: 'playout marks did not come back in time' });
        this.h.requestEnd(this.wrapping?.reason ?? 'agent-hangup');
        return 'hung-up';
      case 'interrupted':
        this.h.record('hangup.cancelled', { reason: 'goodbye interrupted' });
        return 'interrupted';
      case 'cancelled':
        // Withdrawn by the engine; otherwise the call is ending anyway, which is what end_call wanted.
        if (!signal.aborted) return 'hung-up';
        this.h.record('hangup.cancelled', { reason: 'tool call cancelled by the engine' });
        return 'cancelled';
    }
  }

  /**
   * A limit is ending the call: no new turns, the engine is asked for a brief goodbye, and the call
   * ends once that goodbye has played, or after `graceMs` whatever happens.
   */
  wrapUp(reason: EndReason, instructions: string, graceMs: number, late: { reason: EndReason; detail: string } = { reason, detail: 'the goodbye did not finish in time' }): void {
    if (this.wrapping) return;
    // `late`: how the call ends if the words never finish playing (a voicemail then is not "message left").
    const guard = setTimeout(() => this.h.requestEnd(late.reason, late.detail), graceMs);
    this.wrapping = { reason, guard };
    this.h.engine.setAutoRespond(false);
    this.h.cancelResponse();
    this.h.engine.generateReply({ instructions });
  }

  /** A response started: the first one after a wrap-up request is the goodbye. */
  responseStarted(responseId: string): void {
    if (this.wrapping && !this.wrapping.responseId) this.wrapping.responseId = responseId;
  }

  /** A wrap-up's goodbye has played (its response is done and every mark came back): the call ends. */
  check(): void {
    const w = this.wrapping;
    if (w?.responseId && this.h.activeResponse() !== w.responseId && !this.h.playout()?.hasPending) {
      clearTimeout(w.guard);
      this.h.requestEnd(w.reason);
    }
  }

  /** The call is ending: the wrap-up's guard stops (a waiting end_call learns it from the preambles). */
  close(): void {
    if (this.wrapping) clearTimeout(this.wrapping.guard);
  }
}
