import type { CallSessionOptions } from '../bridge/call-session.js';
import type { SessionSettings } from '../bridge/host/protocol.js';
import type { ClientProfile } from '../clients/profile.js';
import type { EngineName } from '../voice/registry.js';
import type { CallRow } from '../store/calls-repo.js';
import type { CallRuntime, LiveCall } from './call-runtime.js';
import type { CallEnding } from './call-ending.js';
import type { CallLimits } from './call-limits.js';
import type { CallTransfer } from './transfer/call-transfer.js';
import type { TransferTarget } from './transfer/transfer-targets.js';
import { callPublicUrl } from '../cluster/node-urls.js';

/** The parts a session is built from (one set per CallService). */
export interface SessionParts {
  rt: CallRuntime;
  ending: CallEnding;
  limits: CallLimits;
  transfers: CallTransfer;
}

export interface SessionStart {
  row: CallRow;
  engine: EngineName;
  client?: ClientProfile;
  /** The system prompt (see prompt.ts). */
  instructions: string;
  transferTargets: TransferTarget[];
  dtmfOnAnswer?: string;
  /** What to do when a machine answers (a call we place; default: hang up). */
  voicemail?: CallSessionOptions['voicemail'];
  /** The caller is already waiting (an inbound call): the agent greets as soon as it can be heard. */
  greetFirst?: boolean;
  /** The call's own longest hold (`hold.maxMinutes`); default HOLD_MAX_MINUTES. */
  holdMaxMinutes?: number;
}

/**
 * One live call's session, built the same way whichever side dialled: opened in the media host (its
 * engine connects there in the background, and a failure to connect ends the call as a provider error),
 * with what it asks of the call service wired here, then the live registration and cost watch.
 */
export function startSession(p: SessionParts, o: SessionStart): LiveCall {
  const { rt, ending, limits, transfers } = p;
  const { d } = rt;
  const s = d.settings;
  const { row, client } = o;
  const live: LiveCall = { id: row.id, attached: false, transferTargets: o.transferTargets } as LiveCall;
  const owner = ownerFor(rt, row, client);
  const session: SessionSettings = {
    greetingSilenceMs: s.GREETING_SILENCE_MS,
    bargeIn: { vad: s.BARGE_IN_VAD, vadFloorDbfs: s.BARGE_IN_VAD_FLOOR_DBFS, minSpeechMs: s.BARGE_IN_MIN_SPEECH_MS, backchannelMaxMs: s.BARGE_IN_BACKCHANNEL_MAX_MS, wordsWaitMs: s.BARGE_IN_WORDS_WAIT_MS },
    ...(o.dtmfOnAnswer !== undefined ? { dtmfOnAnswer: o.dtmfOnAnswer } : {}),
    ...(o.voicemail ? { voicemail: o.voicemail } : {}),
    ...(o.greetFirst !== undefined ? { greetFirst: o.greetFirst } : {}),
    hold: { maxMs: (o.holdMaxMinutes ?? s.HOLD_MAX_MINUTES) * 60_000, tailMs: s.VAD_SILENCE_MS + 200 },
    menuPromptEndMs: s.MENU_PROMPT_END_MS,
    ...(owner ? { owner: { name: owner.name, holdingLineMs: owner.holdingLineMs } } : {}),
    digitsViaCarrier: s.DTMF_MODE === 'carrier',
  };
  live.session = rt.media.open(
    { callId: row.id, clientId: client?.id, engine: o.engine, instructions: o.instructions, hasClient: Boolean(client && d.knowledge), session },
    {
      record: (type, data) => rt.record(row.id, type, data),
      requestEnd: (reason, detail) => void ending.end(row.id, reason, { detail }),
      conversationStarted: () => rt.transition(row.id, 'talking'),
      transfer: async (req, preamble) => {
        const r = await transfers.start(row.id, { ...req, via: 'tool' }, preamble);
        return 'refused' in r ? r.refused : r.outcome;
      },
      ...(owner ? { askOwner: owner.ask } : {}),
      playDigits: async (digits: string) => {
        const call = d.calls.kept(row.id);
        if (!d.carrier?.playDigits || !call?.carrierCallId) throw new Error(`call ${row.id}: the carrier cannot play digits on this call`);
        await d.carrier.playDigits(call.carrierCallId, digits, { publicUrl: callPublicUrl(s)!, params: { callId: row.id, secret: call.streamSecret } });
      },
    },
  );
  rt.live.set(row.id, live);
  limits.watchCost(row.id);
  rt.track(live.session.started);
  return live;
}

/** ask_owner on this call: whom the agent names, how often it says a holding line, and how a question is put. */
function ownerFor(rt: CallRuntime, row: CallRow, client?: ClientProfile): CallSessionOptions['owner'] {
  const { d } = rt;
  const owner = d.owner;
  if (!owner) return undefined;
  const name = d.settings.OWNER_NAME ?? client?.name ?? "the person I'm calling for";
  // The other party: whom we called, or who called us.
  const callee = row.direction === 'inbound' ? row.from ?? row.to : row.to;
  return {
    name,
    holdingLineMs: d.settings.ASK_OWNER_HOLDING_LINE_S * 1000,
    ask: (question, signal) =>
      owner.ask({ callId: row.id, callee, ownerName: name, question, signal, timeoutMs: d.settings.ASK_OWNER_TIMEOUT_S * 1000, record: (type, data) => rt.record(row.id, type, data) }),
  };
}
