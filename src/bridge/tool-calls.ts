import type { VoiceEngine } from '../voice/engine.js';
import type { ToolRegistry } from '../tools/registry.js';
import type { TimelineEventType } from '../shared/event-types.js';
import type { DtmfOutcome } from './dtmf-sender.js';
import type { TransferRequest, TransferResult } from '../calls/transfer/transfer-types.js';
import type { AskOwnerResult } from '../owner/owner-channel.js';

export type HangupOutcome = 'hung-up' | 'interrupted' | 'cancelled';

export interface ToolCallsHost {
  callId: string;
  clientId?: string;
  engine: VoiceEngine;
  tools: Pick<ToolRegistry, 'dispatch'>;
  record(type: TimelineEventType, data: Record<string, unknown>): void;
  /** end_call's side effect, owned by the session (it knows what has played). */
  hangupAfterPlayout(responseId: string, callId: string, signal: AbortSignal): Promise<HangupOutcome>;
  /**
   * send_dtmf's side effect: key tones on the media stream, resolved once played (marks). `signal`: the
   * engine withdrew the call; a press still waiting (for a menu prompt to end) is then called off.
   */
  sendDtmf(digits: string, signal: AbortSignal, responseId: string): Promise<DtmfOutcome>;
  /** transfer_call's side effect: after the preamble (this response's audio) has played. */
  transfer(responseId: string, signal: AbortSignal, req: TransferRequest): Promise<TransferResult>;
  /** wait_on_hold's side effect: the call goes on hold. */
  waitOnHold?(): void;
  /** ask_owner's side effect: the question to the owner, with holding lines while it is open. */
  askOwner(question: string, signal: AbortSignal): Promise<AskOwnerResult>;
  /**
   * A response is in progress: the session asks for a reply once it is done and returns true; false
   * when the engine can be asked at once.
   */
  replyWhenIdle?(): boolean;
  /** The call is ending: nothing more goes to the engine. */
  ending(): boolean;
  /** With an engine that cancels interrupted tool calls: longest wait for that cancellation (default 2 s). */
  cancelWaitMs?: number;
}

/**
 * The model's tool calls during one call: each runs with an AbortSignal the engine can fire
 * (`tool.cancelled`); a withdrawn call's side effects are called off and its result is never sent.
 */
export class ToolCalls {
  private readonly running = new Map<string, { cancel: AbortController; bargedIn: boolean }>();

  constructor(private readonly h: ToolCallsHost) {}

  async run(responseId: string, callId: string, name: string, argsJson: string): Promise<void> {
    const h = this.h;
    h.record('tool.call', { callId, name, arguments: safeJson(argsJson) });
    const cancel = new AbortController();
    const entry = { cancel, bargedIn: false };
    this.running.set(callId, entry);
    const outcome = await h.tools.dispatch(
      {
        callId: h.callId,
        clientId: h.clientId,
        signal: cancel.signal,
        record: (type, data) => h.record(type, data),
        hangupAfterPlayout: () => h.hangupAfterPlayout(responseId, callId, cancel.signal),
        // A call the engine has withdrawn presses nothing.
        sendDtmf: (digits) => (cancel.signal.aborted ? Promise.resolve({ status: 'cancelled', pressed: '' }) : h.sendDtmf(digits, cancel.signal, responseId)),
        transfer: (req) => h.transfer(responseId, cancel.signal, req),
        waitOnHold: h.waitOnHold && (() => !cancel.signal.aborted && h.waitOnHold!()),
        askOwner: (question) => h.askOwner(question, cancel.signal),
      },
      name,
      argsJson,
    );
    // The callee talked over this call: an engine that cancels interrupted calls is about to withdraw it
    // (its cancellation may be a message behind the interruption), so the result waits for that.
    if (entry.bargedIn && !cancel.signal.aborted && h.engine.capabilities.cancelsInterruptedToolCalls) await abortedWithin(cancel.signal, h.cancelWaitMs ?? 2000);
    this.running.delete(callId);
    // The engine withdrew the call (the callee interrupted it): it expects no result, and one sent anyway
    // would answer a call the model no longer has.
    const cancelled = cancel.signal.aborted;
    h.record('tool.result', { callId, name, ok: outcome.ok, output: outcome.output ?? null, ...(cancelled ? { cancelled: true } : {}) });
    if (outcome.output !== undefined && !h.ending() && !cancelled) {
      const reply = outcome.reply && !h.engine.capabilities.autoReplyAfterTool;
      // One response at a time: a result that lands while the agent is speaking (a holding line during
      // ask_owner, say) is added at once, and the reply is asked for when that response is done.
      const later = reply && Boolean(h.replyWhenIdle?.());
      h.engine.sendToolResult(callId, outcome.output, { reply: reply && !later });
    }
  }

  /** The engine cancelled a tool call: its pending side effects are called off and its result is not sent. */
  cancel(callId: string): void {
    const entry = this.running.get(callId);
    this.h.record('tool.cancelled', { callId, running: Boolean(entry) });
    entry?.cancel.abort();
  }

  /** The callee spoke over the agent while these calls ran. */
  bargedIn(): void {
    for (const entry of this.running.values()) entry.bargedIn = true;
  }
}

/** Resolves when `signal` aborts or after `ms`, whichever comes first; leaves no timer or listener behind. */
function abortedWithin(signal: AbortSignal, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}
