import { CallSession } from '../call-session.js';
import type { MediaStreamHandler, MediaTransport } from '../../telephony/carrier.js';
import type { EngineFactory } from '../../voice/engine.js';
import type { EngineName } from '../../voice/registry.js';
import type { ToolRegistry } from '../../tools/registry.js';
import type { PreambleWait, TransferResult } from '../../calls/transfer/transfer-types.js';
import type { OwnerReply } from '../../owner/owner-channel.js';
import type { MediaRequest, SessionSpec, ToMain, ToMedia } from './protocol.js';
import { Requests } from './requests.js';

export interface MediaSideDeps {
  engines: Partial<Record<EngineName, EngineFactory>>;
  /** The tools: those that drive the call run here, those marked `runsOnMain` are asked of the main side. */
  tools: ToolRegistry;
  post(m: ToMain): void;
}

interface Entry {
  session: CallSession;
  /** The transfer_call requests in flight, by id: their preamble waits, which the main side asks back. */
  preambles: Map<number, PreambleWait>;
}

/**
 * Where calls' sessions live: builds each call's engine and CallSession from a SessionSpec, carries out
 * the main side's messages, and turns the session's hooks into messages. Knows nothing of the store, the
 * carrier's REST API or the owner's channels: those are requests to the main side.
 */
export class MediaSide {
  private readonly sessions = new Map<string, Entry>();
  private readonly requests: Requests;
  private nextTransfer = 1;

  constructor(private readonly d: MediaSideDeps) {
    this.requests = new Requests(
      (m) => d.post(m),
      (callId, ask) => this.serve(callId, ask),
    );
  }

  receive(m: ToMedia): void {
    if (m.t === 'open') return this.open(m.spec);
    if (m.t === 'request' || m.t === 'reply' || m.t === 'abort') return this.requests.receive(m);
    const s = this.sessions.get(m.callId)?.session;
    if (!s) return; // the call's session has shut down: nothing left to tell
    switch (m.t) {
      case 'answeredBy':
        return s.answeredBy(m.answeredBy);
      case 'beginEnd':
        return s.beginEnd();
      case 'wrapUp':
        if (s.wrapUp(m.reason, m.instructions, m.graceMs)) this.d.post({ t: 'record', callId: m.callId, type: 'wrapup.requested', data: { reason: m.reason, graceMs: m.graceMs, ...m.data } });
        else this.d.post({ t: 'end', callId: m.callId, reason: m.reason });
        return;
      case 'holdForTransfer':
        return s.holdForTransfer(m.holdingLine);
      case 'resumeAfterTransfer':
        return s.resumeAfterTransfer(m.instructions);
      case 'expectNewStream':
        return s.expectNewStream(m.timeoutMs);
    }
  }

  /** The call's media stream, authorised by the main side: joined to its session. */
  attach(callId: string, transport: MediaTransport): MediaStreamHandler | undefined {
    return this.sessions.get(callId)?.session.attach(transport);
  }

  private open(spec: SessionSpec): void {
    const { callId } = spec;
    const post = this.d.post;
    const record = (type: Extract<ToMain, { t: 'record' }>['type'], data: Record<string, unknown>) => post({ t: 'record', callId, type, data });
    const factory = this.d.engines[spec.engine];
    if (!factory) {
      // The main side checked the engine before it placed the call; a host built with other settings did not.
      record('error', { source: spec.engine, fatal: true, code: 'connect_failed', message: `the media host has no ${spec.engine} engine` });
      post({ t: 'end', callId, reason: 'provider-error', detail: `no ${spec.engine} engine` });
      post({ t: 'started', callId });
      return;
    }
    const { owner, digitsViaCarrier, ...settings } = spec.session;
    const preambles = new Map<number, PreambleWait>();
    let session: CallSession | undefined;
    const engine = factory({ callId, onEvent: (e) => session?.onEngineEvent(e) });
    session = new CallSession({
      ...settings,
      callId,
      clientId: spec.clientId,
      engine,
      tools: {
        dispatch: (ctx, name, argsJson) =>
          this.d.tools.runsOnMain(name) ? this.requests.ask(callId, { kind: 'tool', name, argsJson }, ctx.signal) : this.d.tools.dispatch(ctx, name, argsJson),
      },
      owner: owner && { ...owner, ask: (question, signal) => this.requests.ask<OwnerReply>(callId, { kind: 'askOwner', question }, signal) },
      hooks: {
        record,
        requestEnd: (reason, detail) => post({ t: 'end', callId, reason, ...(detail !== undefined ? { detail } : {}) }),
        conversationStarted: () => post({ t: 'conversationStarted', callId }),
        transfer: (req, preamble) => {
          const transfer = this.nextTransfer++;
          preambles.set(transfer, preamble);
          return this.requests.ask<TransferResult>(callId, { kind: 'transfer', req, transfer }).finally(() => preambles.delete(transfer));
        },
        ...(digitsViaCarrier ? { playDigitsViaCarrier: (digits: string) => this.requests.ask<void>(callId, { kind: 'playDigits', digits }) } : {}),
      },
    });
    this.sessions.set(callId, { session, preambles });
    // The engine connects while the phone rings (or the caller's stream opens), so the greeting is not
    // delayed by the handshake.
    engine
      .start({ instructions: spec.instructions, tools: this.d.tools.specs({ hasClient: spec.hasClient }), autoRespond: false })
      .then(() => {
        record('engine.ready', { engine: engine.name });
        session.engineStarted();
      })
      .catch((err: Error) => {
        record('error', { source: engine.name, fatal: true, code: 'connect_failed', message: err.message });
        post({ t: 'end', callId, reason: 'provider-error', detail: err.message });
      })
      // Whatever failed after that is the main side's to log, with the call's background work.
      .then(
        () => post({ t: 'started', callId }),
        (err: unknown) => post({ t: 'started', callId, error: `call ${callId}: ${err instanceof Error ? err.message : String(err)}` }),
      );
  }

  private serve(callId: string, ask: MediaRequest): Promise<unknown> {
    const entry = this.sessions.get(callId);
    if (!entry) return Promise.reject(new Error(`call ${callId}: no media session (it has ended)`));
    switch (ask.kind) {
      case 'shutdown':
        return entry.session.shutdown().then(() => {
          this.sessions.delete(callId);
        });
      case 'preamble': {
        const wait = entry.preambles.get(ask.transfer);
        return wait ? wait() : Promise.resolve('cancelled');
      }
      default:
        return Promise.reject(new Error(`call ${callId}: the media side does not serve ${ask.kind}`));
    }
  }
}
