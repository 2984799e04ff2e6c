import type { TimelineEventType } from '../../shared/event-types.js';
import type { EndReason } from '../../calls/state.js';
import type { PreambleWait, TransferRequest, TransferResult } from '../../calls/transfer/transfer-types.js';
import type { OwnerReply } from '../../owner/owner-channel.js';
import type { ToolContext, ToolRegistry } from '../../tools/registry.js';
import type { MediaStreamHandler, MediaTransport } from '../../telephony/carrier.js';
import type { MediaRequest, SessionSpec, ToMain, ToMedia } from './protocol.js';
import { Requests } from './requests.js';

/** What one call's session asks of the main side: the store, the carrier, the owner. */
export interface CallSide {
  record(type: TimelineEventType, data: Record<string, unknown>): void;
  /** Ends the call (hang up at the carrier). Idempotent; never throws. */
  requestEnd(reason: EndReason, detail?: string): void;
  conversationStarted(): void;
  /** DTMF_MODE=carrier: the carrier plays the keys (the spec said `digitsViaCarrier`). */
  playDigits?(digits: string): Promise<void>;
  transfer(req: TransferRequest, preamble: PreambleWait): Promise<TransferResult>;
  askOwner?(question: string, signal: AbortSignal): Promise<OwnerReply>;
}

/** The main side's handle on one call's session, wherever the host keeps it. */
export interface CallMedia {
  /** The call's media stream, authorised: joined to the session (the host is given the stream itself). */
  attach(transport: MediaTransport): MediaStreamHandler | undefined;
  answeredBy(answeredBy: string): void;
  /** The call is ending: nothing more reaches the callee or the engine (see CallSession.beginEnd). */
  beginEnd(): void;
  /** Stops the session; resolves once its last transcript lines are recorded. */
  shutdown(): Promise<void>;
  /** A limit asks for a goodbye (recorded as `wrapup.requested` with `data`), or ends the call if there is no conversation yet. */
  wrapUp(reason: EndReason, instructions: string, graceMs: number, data: Record<string, unknown>): void;
  holdForTransfer(holdingLine?: string): void;
  resumeAfterTransfer(instructions?: string): void;
  expectNewStream(timeoutMs: number | false): void;
  /** Settles once the engine's connect has (its outcome is on the timeline); rejects only if handling that outcome failed. */
  readonly started: Promise<void>;
}

interface OpenCall {
  spec: SessionSpec;
  side: CallSide;
  started(error?: string): void;
  startedSeen: boolean;
  shutDown: boolean;
}

/**
 * The call service's end of the media boundary: opens sessions in a host, turns the handle's methods
 * into messages, and answers the session's requests (records, ends, transfers, the owner, the tools
 * that run beside the store).
 */
export class MainSide {
  private readonly calls = new Map<string, OpenCall>();
  private readonly requests: Requests;

  constructor(
    private readonly post: (m: ToMedia) => void,
    private readonly attachStream: (callId: string, transport: MediaTransport) => MediaStreamHandler | undefined,
    private readonly tools: ToolRegistry,
  ) {
    this.requests = new Requests(
      (m) => post(m),
      (callId, ask, signal) => this.serve(callId, ask, signal),
    );
  }

  open(spec: SessionSpec, side: CallSide): CallMedia {
    const { callId } = spec;
    let settle!: (error?: string) => void;
    const startedP = new Promise<void>((resolve, reject) => (settle = (error) => (error === undefined ? resolve() : reject(new Error(error)))));
    const call: OpenCall = { spec, side, started: settle, startedSeen: false, shutDown: false };
    this.calls.set(callId, call);
    const post = this.post;
    post({ t: 'open', spec });
    return {
      started: startedP,
      attach: (transport) => this.attachStream(callId, transport),
      answeredBy: (answeredBy) => post({ t: 'answeredBy', callId, answeredBy }),
      beginEnd: () => post({ t: 'beginEnd', callId }),
      wrapUp: (reason, instructions, graceMs, data) => post({ t: 'wrapUp', callId, reason, instructions, graceMs, data }),
      holdForTransfer: (holdingLine) => post({ t: 'holdForTransfer', callId, ...(holdingLine !== undefined ? { holdingLine } : {}) }),
      resumeAfterTransfer: (instructions) => post({ t: 'resumeAfterTransfer', callId, ...(instructions !== undefined ? { instructions } : {}) }),
      expectNewStream: (timeoutMs) => post({ t: 'expectNewStream', callId, timeoutMs }),
      shutdown: () => {
        // A refusal means the session was already gone on the media side: nothing left to stop either way.
        const done = () => this.settled(callId, 'shutDown');
        return this.requests.ask<void>(callId, { kind: 'shutdown' }).then(done, done);
      },
    };
  }

  receive(m: ToMain): void {
    if (m.t === 'request' || m.t === 'reply' || m.t === 'abort') return this.requests.receive(m);
    const call = this.calls.get(m.callId);
    if (!call) return;
    switch (m.t) {
      case 'record':
        return call.side.record(m.type, m.data);
      case 'end':
        return call.side.requestEnd(m.reason, m.detail);
      case 'conversationStarted':
        return call.side.conversationStarted();
      case 'started':
        call.started(m.error);
        return this.settled(m.callId, 'startedSeen');
    }
  }

  /** A call's entry goes once its session has shut down and its engine's connect has settled (both may record). */
  private settled(callId: string, what: 'shutDown' | 'startedSeen'): void {
    const call = this.calls.get(callId);
    if (!call) return;
    call[what] = true;
    if (call.shutDown && call.startedSeen) this.calls.delete(callId);
  }

  private serve(callId: string, ask: MediaRequest, signal: AbortSignal): Promise<unknown> {
    const call = this.calls.get(callId);
    if (!call) return Promise.reject(new Error(`call ${callId}: not open on the main side`));
    const { side } = call;
    switch (ask.kind) {
      case 'playDigits':
        return side.playDigits ? side.playDigits(ask.digits) : Promise.reject(new Error(`call ${callId}: the carrier does not play digits on this call`));
      case 'transfer':
        return side.transfer(ask.req, () => this.requests.ask(callId, { kind: 'preamble', transfer: ask.transfer }));
      case 'askOwner':
        return side.askOwner ? side.askOwner(ask.question, signal) : Promise.resolve({ status: 'cancelled' } satisfies OwnerReply);
      case 'tool':
        return this.tools.dispatch(mainToolContext(callId, call.spec.clientId, side, signal, ask.name), ask.name, ask.argsJson);
      default:
        return Promise.reject(new Error(`call ${callId}: the main side does not serve ${ask.kind}`));
    }
  }
}

/** A tool that runs beside the store gets the call's ids, `record` and its signal; driving the call is the session's. */
function mainToolContext(callId: string, clientId: string | undefined, side: CallSide, signal: AbortSignal, tool: string): ToolContext {
  const notHere = (what: string) => () => Promise.reject(new Error(`${tool} runs on the main side and cannot ${what}`));
  return {
    callId,
    clientId,
    signal,
    record: (type, data) => side.record(type, data),
    hangupAfterPlayout: notHere('hang up'),
    sendDtmf: notHere('press keys'),
    transfer: notHere('transfer the call'),
    askOwner: notHere('ask the owner'),
  };
}
