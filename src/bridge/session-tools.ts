import type { TimelineEventType } from '../shared/event-types.js';
import type { AfterPreamble } from './after-preamble.js';
import type { CallSessionOptions } from './call-session-types.js';
import type { EndAfterPlayout } from './end-after-playout.js';
import type { HoldMode } from './hold-mode.js';
import type { MenuMode } from './menu-mode.js';
import { OwnerWait } from './owner-wait.js';
import { ReplyTurns } from './reply-turns.js';
import { ToolCalls } from './tool-calls.js';

/** What the tools need from their session. */
export interface SessionToolsHost {
  record(type: TimelineEventType, data: Record<string, unknown>): void;
  endAfterPlayout: EndAfterPlayout;
  preambles: AfterPreamble;
  menu: MenuMode;
  hold: HoldMode;
  /** A response is in flight. */
  responding(): boolean;
  ending(): boolean;
  /** Talking, and neither side is speaking nor is agent audio waiting to play: a holding line fits. */
  quiet(): boolean;
}

/**
 * The model's tools on this call (tool-calls.ts), wired to what carries them out: hanging up after the
 * goodbye, keys through the menu, the carrier's transfer, the owner (owner-wait.ts), waiting on hold.
 */
export function createSessionTools(o: CallSessionOptions, h: SessionToolsHost): { toolCalls: ToolCalls; ownerWait: OwnerWait; replies: ReplyTurns } {
  const replies = new ReplyTurns({ engine: o.engine, active: h.responding, ending: h.ending });
  const ownerWait = new OwnerWait({
    engine: o.engine,
    record: h.record,
    ask: o.owner?.ask,
    ownerName: o.owner?.name ?? 'the person you represent',
    holdingLineMs: o.owner?.holdingLineMs ?? 15_000,
    quiet: () => h.quiet() && !replies.underWay(),
    speak: (instructions) => replies.speak(instructions),
  });
  const toolCalls = new ToolCalls({
    callId: o.callId,
    clientId: o.clientId,
    engine: o.engine,
    tools: o.tools,
    record: h.record,
    hangupAfterPlayout: (responseId, _callId, signal) => h.endAfterPlayout.hangup(responseId, signal),
    sendDtmf: (digits, signal, responseId) => h.menu.enginePress(digits, signal, responseId),
    transfer: (responseId, signal, req) =>
      o.hooks.transfer ? o.hooks.transfer(req, () => h.preambles.wait(responseId, signal).then((p) => (p === 'unconfirmed' ? 'played' : p))) : Promise.resolve({ status: 'refused', httpStatus: 501, message: 'transfers are not available on this call' }),
    askOwner: (question, signal) => ownerWait.ask(question, signal),
    replyWhenIdle: () => replies.replyWhenIdle(),
    ending: h.ending,
    waitOnHold: () => h.hold.enter('tool'),
    cancelWaitMs: o.toolCancelWaitMs,
  });
  return { toolCalls, ownerWait, replies };
}
