import type { VoiceEngine } from '../voice/engine.js';
import type { TimelineEventType } from '../shared/event-types.js';
import type { OwnerReply } from '../owner/owner-channel.js';

/** What the engine is asked for while the owner has not answered yet. */
export const HOLDING_LINE_INSTRUCTIONS =
  'You are still waiting for an answer to the question you asked. Say briefly, in one short sentence, that you are still checking and thank them for waiting. Do not answer the question yourself.';

export interface OwnerWaitHost {
  engine: VoiceEngine;
  record(type: TimelineEventType, data: Record<string, unknown>): void;
  /** Absent: no owner to ask on this call (every question is cancelled at once). */
  ask?(question: string, signal: AbortSignal): Promise<OwnerReply>;
  ownerName: string;
  /** How often a holding line is said while a question is open. */
  holdingLineMs: number;
  /** Asks the engine for a reply with these instructions (the session notes that one is on its way). */
  speak(instructions: string): void;
  /** The agent may speak now: the conversation is on, nothing is playing or being generated, the callee is silent. */
  quiet(): boolean;
}

/** A holding line that could not be said (someone was talking) is tried again this soon. */
const RETRY_MS = 1000;

/**
 * The bridge's side of ask_owner: the question goes to the owner, and while it is open the callee is not
 * left in silence: a short holding line every `holdingLineMs`, only when nobody is speaking, and only
 * with an engine that can speak while a tool call is open. The call ending withdraws open questions.
 */
export class OwnerWait {
  private readonly open = new Set<AbortController>();
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly h: OwnerWaitHost) {}

  async ask(question: string, signal: AbortSignal): Promise<OwnerReply & { ownerName: string }> {
    const ownerName = this.h.ownerName;
    if (!this.h.ask || this.closed || signal.aborted) return { status: 'cancelled', ownerName };
    const ac = new AbortController();
    const withdraw = () => ac.abort();
    signal.addEventListener('abort', withdraw, { once: true });
    this.open.add(ac);
    this.schedule(this.h.holdingLineMs);
    try {
      return { ...(await this.h.ask(question, ac.signal)), ownerName };
    } finally {
      signal.removeEventListener('abort', withdraw);
      this.open.delete(ac);
      if (!this.open.size) this.stop();
    }
  }

  /** The call is ending: open questions are withdrawn and no more holding lines are said. */
  close(): void {
    this.closed = true;
    this.stop();
    for (const ac of this.open) ac.abort();
  }

  private schedule(ms: number): void {
    if (this.timer || this.closed || !this.h.engine.capabilities.speaksWhileToolRuns) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tick();
    }, ms);
  }

  private tick(): void {
    if (!this.open.size || this.closed) return;
    if (!this.h.quiet()) return this.schedule(RETRY_MS);
    this.h.record('owner.holdingLine', { open: this.open.size });
    this.h.speak(HOLDING_LINE_INSTRUCTIONS);
    this.schedule(this.h.holdingLineMs);
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
