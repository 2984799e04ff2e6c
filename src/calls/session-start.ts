import { CallSession, type CallSessionOptions } from '../bridge/call-session.js';
import type { ClientProfile } from '../clients/profile.js';
import type { EngineFactory } from '../voice/engine.js';
import type { CallRow } from '../store/calls-repo.js';
import type { CallRuntime, LiveCall } from './call-runtime.js';
import type { CallEnding } from './call-ending.js';
import type { CallLimits } from './call-limits.js';
import type { CallTransfer } from './transfer/call-transfer.js';
import type { TransferTarget } from './transfer/transfer-targets.js';

/** The parts a session is built from (one set per CallService). */
export interface SessionParts {
  rt: CallRuntime;
  ending: CallEnding;
  limits: CallLimits;
  transfers: CallTransfer;
}

export interface SessionStart {
  row: CallRow;
  factory: EngineFactory;
  client?: ClientProfile;
  /** The system prompt (see prompt.ts). */
  instructions: string;
  transferTargets: TransferTarget[];
  dtmfOnAnswer?: string;
  /** What to do when a machine answers (a call we place; default: hang up). */
  voicemail?: CallSessionOptions['voicemail'];
  /** The caller is already waiting (an inbound call): the agent greets as soon as it can be heard. */
  greetFirst?: boolean;
}

/**
 * One live call's session and engine, built the same way whichever side dialled: the bridge, its hooks
 * into the call service, the live registration and cost watch, and the engine connecting in the
 * background (a failure to connect ends the call as a provider error).
 */
export function startSession(p: SessionParts, o: SessionStart): LiveCall {
  const { rt, ending, limits, transfers } = p;
  const { d } = rt;
  const s = d.settings;
  const { row, client } = o;
  const live: LiveCall = { id: row.id, attached: false, transferTargets: o.transferTargets } as LiveCall;
  const engine = o.factory({ callId: row.id, onEvent: (e) => live.session.onEngineEvent(e) });
  live.session = new CallSession({
    callId: row.id,
    clientId: client?.id,
    engine,
    tools: d.tools,
    greetingSilenceMs: s.GREETING_SILENCE_MS,
    dtmfOnAnswer: o.dtmfOnAnswer,
    voicemail: o.voicemail,
    greetFirst: o.greetFirst,
    hooks: {
      record: (type, data) => rt.record(row.id, type, data),
      requestEnd: (reason, detail) => void ending.end(row.id, reason, { detail }),
      conversationStarted: () => rt.transition(row.id, 'talking'),
      transfer: async (req, preamble) => {
        const r = await transfers.start(row.id, { ...req, via: 'tool' }, preamble);
        return 'refused' in r ? r.refused : r.outcome;
      },
      ...(s.DTMF_MODE === 'carrier'
        ? {
            playDigitsViaCarrier: async (digits: string) => {
              const call = d.calls.get(row.id);
              if (!d.carrier?.playDigits || !call?.carrierCallId) throw new Error(`call ${row.id}: the carrier cannot play digits on this call`);
              await d.carrier.playDigits(call.carrierCallId, digits, { publicUrl: s.PUBLIC_URL!, params: { callId: row.id, secret: call.streamSecret } });
            },
          }
        : {}),
    },
  });
  rt.live.set(row.id, live);
  limits.watchCost(row.id);

  // The engine connects while the phone rings (or the caller's stream opens), so the greeting is not
  // delayed by the handshake.
  rt.track(
    engine
      .start({ instructions: o.instructions, tools: d.tools.specs({ hasClient: Boolean(client && d.knowledge) }), autoRespond: false })
      .then(() => {
        rt.record(row.id, 'engine.ready', { engine: engine.name });
        live.session.engineStarted();
      })
      .catch((err: Error) => {
        rt.record(row.id, 'error', { source: engine.name, fatal: true, code: 'connect_failed', message: err.message });
        return ending.end(row.id, 'provider-error', { detail: err.message });
      }),
  );
  return live;
}
