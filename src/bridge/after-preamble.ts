import type { VoiceEngine } from '../voice/engine.js';

export type PreambleOutcome = 'played' | 'interrupted' | 'cancelled';

export interface AfterPreambleHost {
  engine: VoiceEngine;
  /** The response the engine is generating now, if any. */
  activeResponse(): string | undefined;
  /** Audio sent to the carrier and not yet confirmed played, if any. */
  playout(): { hasPending: boolean; pendingMs: number } | undefined;
  /** If marks never come back: go ahead after the pending audio plus this (default 30 s). */
  graceMs?: number;
}

interface Waiting {
  responseId: string;
  resolve(o: PreambleOutcome): void;
  guard: NodeJS.Timeout;
}

/**
 * A side-effecting tool (transfer_call) acts only once the words the model said before calling it (the
 * preamble: "let me put you through to Raju") have been heard in full, per the carrier's playout marks,
 * and not at all if the callee talked over them. end_call's hang-up follows the same rule (see
 * end-after-playout.ts); this is the same check for tools that do something other than hang up.
 * Callers poke `check()` whenever a mark returns or a response ends, and `bargedIn()` on a barge-in.
 */
export class AfterPreamble {
  private readonly waiting = new Set<Waiting>();

  constructor(private readonly h: AfterPreambleHost) {}

  wait(responseId: string, signal: AbortSignal): Promise<PreambleOutcome> {
    if (signal.aborted) return Promise.resolve('cancelled');
    return new Promise((resolve) => {
      const w: Waiting = {
        responseId,
        resolve: (o) => {
          if (!this.waiting.delete(w)) return;
          clearTimeout(w.guard);
          resolve(o);
        },
        guard: setTimeout(() => w.resolve('played'), (this.h.playout()?.pendingMs ?? 0) + (this.h.graceMs ?? 30_000)),
      };
      this.waiting.add(w);
      signal.addEventListener('abort', () => w.resolve('cancelled'), { once: true });
      this.check();
    });
  }

  /**
   * Played: the response carrying the tool call is done (an engine that continues by itself after a
   * tool result holds its turn open until it gets one, so there all audio so far is the preamble) and
   * every mark of its audio came back.
   */
  check(): void {
    if (this.waiting.size === 0 || this.h.playout()?.hasPending) return;
    const active = this.h.activeResponse();
    for (const w of [...this.waiting]) {
      if (!(active === w.responseId && !this.h.engine.capabilities.autoReplyAfterTool)) w.resolve('played');
    }
  }

  /** The callee spoke over the agent: a preamble they cut off (queued audio, or still being generated) counts as not heard. */
  bargedIn(cutItems: number, interruptedResponse: string | undefined): void {
    for (const w of [...this.waiting]) if (cutItems > 0 || interruptedResponse === w.responseId) w.resolve('interrupted');
  }

  /** The call is ending: nothing more will play. */
  close(): void {
    for (const w of [...this.waiting]) w.resolve('cancelled');
  }
}
