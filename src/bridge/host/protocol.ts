import type { TimelineEventType } from '../../shared/event-types.js';
import type { EndReason } from '../../calls/state.js';
import type { TransferRequest } from '../../calls/transfer/transfer-types.js';
import type { EngineName } from '../../voice/registry.js';
import type { CallSessionOptions } from '../call-session-types.js';

/**
 * The messages between the call service (main side) and the media host, where each call's session, engine
 * and audio live (docs/benchmarks.md, "Where the process boundary falls"). Everything here is plain data,
 * so a host may be another process; the one thing that is not, the carrier's media stream, is handed over
 * beside the messages (`CallMedia.attach`), as a socket is handed to a child process.
 */

/** What a media host builds a call's session from. */
export interface SessionSpec {
  callId: string;
  clientId?: string;
  /** Which engine to build (from the registry, with the host's settings). */
  engine: EngineName;
  /** The engine's system prompt and the tools it is offered. */
  instructions: string;
  hasClient: boolean;
  session: SessionSettings;
}

/** The session's own options that are data; hooks, engine and tools are the host's to wire. */
export type SessionSettings = Omit<CallSessionOptions, 'callId' | 'clientId' | 'engine' | 'tools' | 'hooks' | 'owner' | 'playoutClock'> & {
  /** ask_owner: whom the agent names and how often it says a holding line; absent, no one to ask. */
  owner?: { name: string; holdingLineMs: number };
  /** DTMF_MODE=carrier: keys are played by the carrier (a request to the main side). */
  digitsViaCarrier: boolean;
};

/** A request one side makes of the other, answered by a `reply` with the same `rid`. */
export type MediaRequest =
  /** Main -> media: stop the session; answered once its last transcript lines are recorded. */
  | { kind: 'shutdown' }
  /** Main -> media: a transfer's preamble (the agent's words before it) was heard, talked over, or withdrawn. */
  | { kind: 'preamble'; transfer: number }
  /** Media -> main: the carrier plays these keys (DTMF_MODE=carrier). */
  | { kind: 'playDigits'; digits: string }
  /** Media -> main: transfer_call. The main side asks `preamble` (with this `transfer` id) back before it dials. */
  | { kind: 'transfer'; req: TransferRequest; transfer: number }
  /** Media -> main: ask_owner's question; abortable. */
  | { kind: 'askOwner'; question: string }
  /** Media -> main: a tool that runs beside the store (ToolDefinition.runsOnMain); abortable. */
  | { kind: 'tool'; name: string; argsJson: string };

export type Reply = { t: 'reply'; callId: string; rid: number } & ({ ok: true; value: unknown } | { ok: false; error: string });
export type Request = { t: 'request'; callId: string; rid: number; ask: MediaRequest };
/** The asker no longer wants the answer (the engine withdrew the tool call): the work is called off. */
export type Abort = { t: 'abort'; callId: string; rid: number };

/** Main -> media. */
export type ToMedia =
  | { t: 'open'; spec: SessionSpec }
  | { t: 'answeredBy'; callId: string; answeredBy: string }
  | { t: 'beginEnd'; callId: string }
  /** A limit asks for a goodbye; `data` goes into `wrapup.requested`, or the call ends at once if there is no conversation. */
  | { t: 'wrapUp'; callId: string; reason: EndReason; instructions: string; graceMs: number; data: Record<string, unknown> }
  | { t: 'holdForTransfer'; callId: string; holdingLine?: string }
  | { t: 'resumeAfterTransfer'; callId: string; instructions?: string }
  | { t: 'expectNewStream'; callId: string; timeoutMs: number | false }
  | Request
  | Reply
  | Abort;

/** Media -> main. */
export type ToMain =
  | { t: 'record'; callId: string; type: TimelineEventType; data: Record<string, unknown> }
  | { t: 'end'; callId: string; reason: EndReason; detail?: string }
  | { t: 'conversationStarted'; callId: string }
  /** The engine's connect settled (its `engine.ready` or error is recorded before this); `error`: handling it failed. */
  | { t: 'started'; callId: string; error?: string }
  | Request
  | Reply
  | Abort;
