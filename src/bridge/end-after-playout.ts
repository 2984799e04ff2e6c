import type { VoiceEngine } from '../voice/engine.js';
import type { TimelineEventType } from '../shared/event-types.js';
import type { EndReason } from '../calls/state.js';
import type { HangupOutcome } from './tool-calls.js';

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
  /** Safety net if marks never come back: hang up after the pending audio plus this (default 30 s). */
  hangupGraceMs?: number;
}

interface PendingHangup {
  responseId: string;
  /** The end_call tool calls waiting on this hang-up; when the engine has cancelled all of them, it is off. */
  owners: Set<string>;
  promise: Promise<HangupOutcome>;
  resolve(outcome: HangupOutcome): void;
  guard: NodeJS.Timeout;
}

/**
 * Ending a call only after the last words were heard: end_call's hang-up, and a limit's goodbye
 * (wrap-up), each wait for their response to finish and for every mark of its audio to come back.
 * Callers poke `check()` whenever a mark returns or a response ends.
 */
export class EndAfterPlayout {
  private pending?: PendingHangup;
  /** A limit is ending the call: the goodbye response it asked for, and the guard that cuts the line anyway. */
  private wrapping?: { reason: EndReason; responseId?: string; guard: NodeJS.Timeout };

  constructor(private readonly h: EndAfterPlayoutHost) {}

  /** end_call's side effect: resolves once the goodbye has played and the call was hung up. */
  hangup(responseId: string, callId: string, signal: AbortSignal): Promise<HangupOutcome> {
    if (signal.aborted) return Promise.resolve('cancelled');
    // A second end_call while one waits joins it rather than starting another wait.
    let p = this.pending;
    if (!p) {
      let resolve!: (o: HangupOutcome) => void;
      const promise = new Promise<HangupOutcome>((r) => (resolve = r));
      const guard = setTimeout(() => {
        if (this.pending?.guard !== guard) return;
        this.pending = undefined;
        this.h.record('hangup.guard', { note: 'playout marks did not come back in time' });
        this.h.requestEnd('agent-hangup');
        resolve('hung-up');
      }, (this.h.playout()?.pendingMs ?? 0) + (this.h.hangupGraceMs ?? 30_000));
      p = { responseId, owners: new Set(), promise, resolve, guard };
      this.pending = p;
    }
    const pending = p;
    pending.owners.add(callId);
    signal.addEventListener(
      'abort',
      () => {
        pending.owners.delete(callId);
        if (this.pending !== pending || pending.owners.size > 0) return;
        this.pending = undefined;
        clearTimeout(pending.guard);
        this.h.record('hangup.cancelled', { reason: 'tool call cancelled by the engine' });
        pending.resolve('cancelled');
      },
      { once: true },
    );
    this.check();
    return pending.promise;
  }

  /**
   * The callee spoke over the agent. A goodbye they talked over does not end the call, whether its
   * audio was still queued (`cutItems` > 0) or its response was still being generated.
   */
  bargedIn(cutItems: number, interruptedResponse: string | undefined): void {
    const p = this.pending;
    if (!p || (cutItems === 0 && interruptedResponse !== p.responseId)) return;
    this.pending = undefined;
    clearTimeout(p.guard);
    this.h.record('hangup.cancelled', { reason: 'goodbye interrupted' });
    p.resolve('interrupted');
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

  /**
   * Hangs up once the response carrying end_call is done and all its audio was confirmed played. An
   * engine that continues by itself after a tool result holds its turn open until it gets one, so
   * there, all audio before the call is all there is. Likewise for a wrap-up's goodbye.
   */
  check(): void {
    const active = this.h.activeResponse();
    const played = !this.h.playout()?.hasPending;
    const p = this.pending;
    if (p && played && !(active === p.responseId && !this.h.engine.capabilities.autoReplyAfterTool)) {
      this.pending = undefined;
      clearTimeout(p.guard);
      this.h.requestEnd(this.wrapping?.reason ?? 'agent-hangup');
      p.resolve('hung-up');
    }
    const w = this.wrapping;
    if (w?.responseId && active !== w.responseId && played) {
      clearTimeout(w.guard);
      this.h.requestEnd(w.reason);
    }
  }

  /** The call is ending: timers stop and a waiting end_call learns the call was hung up. */
  close(): void {
    if (this.wrapping) clearTimeout(this.wrapping.guard);
    if (this.pending) {
      clearTimeout(this.pending.guard);
      this.pending.resolve('hung-up');
      this.pending = undefined;
    }
  }
}
