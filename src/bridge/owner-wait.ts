import type { VoiceEngine } from '../voice/engine.js';
import type { TimelineEventType } from '../shared/event-types.js';
import type { AskOwnerResult, OwnerReply } from '../owner/owner-channel.js';
import { ownerAnswered, ownerTimedOut } from '../tools/ask-owner.js';

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

/** A holding line or a late answer that could not be said (someone was talking) is tried again this soon. */
const RETRY_MS = 1000;

/** What the engine is asked to say when an answer comes after the engine withdrew the tool call. */
export function lateAnswerInstructions(ownerName: string, question: string, answer: string): string {
  return `${ownerName} has now answered your earlier question ("${question}"): "${answer}". Tell the other person now, in your own words, and carry on.`;
}

/** How the owner's answer (or the deferral) is put to an engine whose tool call was answered at once. */
export function relayInstructions(ownerName: string, question: string, reply: OwnerReply): string | undefined {
  if (reply.status === 'answered') return `About your question to ${ownerName} ("${question}"): ${ownerAnswered(ownerName, reply.answer)}`;
  if (reply.status === 'timeout') return `About your question to ${ownerName} ("${question}"): ${ownerTimedOut(ownerName)}`;
  return undefined;
}

/**
 * The bridge's side of ask_owner: the question goes to the owner, and while it is open the callee is not
 * left in silence: a short holding line every `holdingLineMs`, only when nobody is speaking.
 * - An engine that can speak while a tool call is open (OpenAI): the call stays open until the answer or
 *   the timeout, which is its result; holding lines are replies asked for meanwhile.
 * - An engine that holds with text turns (Gemini Live, `holdsWithTextTurns`): the tool call is answered at
 *   once ("asked; wait"), since a BLOCKING call is cancelled by any new input; holding lines, then the
 *   answer or the deferral, are text turns the agent speaks (the pattern of Google's "asynchronous
 *   function calling" guide: the client sends a text message for the model to say while the work goes on).
 * - Otherwise the call stays open and nothing is said meanwhile.
 * If the engine withdraws an open tool call, the question stays open and its answer, when it comes, is
 * given to the engine as an instruction to relay it. The call ending withdraws open questions.
 */
export class OwnerWait {
  /** Every open question: the call ending withdraws them all. */
  private readonly open = new Set<AbortController>();
  /** Questions whose tool call is still waiting (holding lines are said for these). */
  private waiting = 0;
  private timer?: NodeJS.Timeout;
  private readonly lateAnswers: string[] = [];
  private relayTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly h: OwnerWaitHost) {}

  async ask(question: string, signal: AbortSignal): Promise<AskOwnerResult> {
    const ownerName = this.h.ownerName;
    if (!this.h.ask || this.closed || signal.aborted) return { status: 'cancelled', ownerName };
    const ac = new AbortController();
    this.open.add(ac);
    const reply = this.h.ask(question, ac.signal).finally(() => this.open.delete(ac));
    this.waiting++;
    this.schedule(this.h.holdingLineMs);
    if (this.h.engine.capabilities.holdsWithTextTurns) {
      void reply.then((r) => {
        this.waiting--;
        if (!this.waiting) this.stop();
        const instructions = relayInstructions(ownerName, question, r);
        if (instructions && !this.closed) this.relay(instructions);
      });
      return { status: 'asked', ownerName };
    }
    let onWithdrawn!: () => void;
    const withdrawn = new Promise<'withdrawn'>((resolve) => {
      onWithdrawn = () => resolve('withdrawn');
      signal.addEventListener('abort', onWithdrawn, { once: true });
    });
    try {
      const r = await Promise.race([reply, withdrawn]);
      if (r !== 'withdrawn') return { ...r, ownerName };
      // The engine withdrew the call, not the owner's question: it stays open, and its answer is relayed.
      this.h.record('owner.detached', { question });
      void reply.then((late) => {
        if (late.status === 'answered' && !this.closed) this.relay(lateAnswerInstructions(ownerName, question, late.answer));
      });
      return { status: 'cancelled', ownerName };
    } finally {
      signal.removeEventListener('abort', onWithdrawn);
      this.waiting--;
      if (!this.waiting) this.stop();
    }
  }

  /** The call is ending: open questions are withdrawn and nothing more is said. */
  close(): void {
    this.closed = true;
    this.stop();
    clearTimeout(this.relayTimer);
    this.lateAnswers.length = 0;
    for (const ac of this.open) ac.abort();
  }

  private relay(instructions: string): void {
    this.lateAnswers.push(instructions);
    if (this.relayTimer) return;
    const attempt = () => {
      this.relayTimer = undefined;
      if (this.closed || !this.lateAnswers.length) return;
      if (!this.h.quiet()) {
        this.relayTimer = setTimeout(attempt, RETRY_MS);
        return;
      }
      this.h.speak(this.lateAnswers.shift()!);
      if (this.lateAnswers.length) this.relayTimer = setTimeout(attempt, RETRY_MS);
    };
    attempt();
  }

  private schedule(ms: number): void {
    const caps = this.h.engine.capabilities;
    if (this.timer || this.closed || !(caps.speaksWhileToolRuns || caps.holdsWithTextTurns)) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tick();
    }, ms);
  }

  private tick(): void {
    if (!this.waiting || this.closed) return;
    if (!this.h.quiet()) return this.schedule(RETRY_MS);
    this.h.record('owner.holdingLine', { open: this.waiting });
    this.h.speak(HOLDING_LINE_INSTRUCTIONS);
    this.schedule(this.h.holdingLineMs);
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
