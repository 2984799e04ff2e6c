import type { CallRow } from '../../store/calls-repo.js';
import { randomUUID } from 'node:crypto';
import type { TransferLegHandler, CarrierCallStatus } from '../../telephony/carrier.js';
import type { CallRuntime, LiveCall } from '../call-runtime.js';
import type { CallEnding } from '../call-ending.js';
import { DialPolicy, isRefusal } from '../dial-policy.js';
import { checkDestination, maskNumber } from '../policy.js';
import { chooseTarget, describeTarget, type TransferTarget } from './transfer-targets.js';
import type { PreambleWait, TransferRequest, TransferResult } from './transfer-types.js';
import { callPublicUrl } from '../../cluster/node-urls.js';

/** A warm transfer's second leg (the call to the owner) while it rings, answers and is briefed. */
interface WarmLeg {
  callId: string;
  target: TransferTarget;
  room: string;
  brief: string;
  legId?: string;
  machine: boolean;
  briefed: boolean;
  settled: boolean;
  settle(outcome: 'joined' | { reason: string }): void;
}

type Checked = { ok: true; live: LiveCall; carrierCallId: string; target: TransferTarget } | { ok: false; result: Extract<TransferResult, { status: 'refused' }> };

const FINAL: ReadonlySet<CarrierCallStatus> = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled']);

/** Extra time a warm leg may take past its ring timeout (machine detection, the brief) before it is given up. */
const LEG_GRACE_MS = 90_000;

/**
 * Handing a live call over, cold or warm (see docs/transfer.md). Every destination comes from the call's
 * list (OWNER_PHONE and `transferTo`) and passes the dial policy when the transfer is asked for; a
 * refusal changes nothing. Cold: the carrier connects the callee to the destination and the AI leaves.
 * Warm: the destination is called as a second carrier call, hears a brief, and both meet in a room; if
 * they are not reached, the agent is back with the callee. Either way the record ends `transferred` with
 * its transcript, and the destination appears only as a label and a masked number.
 */
export class CallTransfer implements TransferLegHandler {
  private readonly policy: DialPolicy;
  private readonly inProgress = new Set<string>();
  private readonly legs = new Map<string, WarmLeg>();

  constructor(
    private readonly rt: CallRuntime,
    private readonly ending: CallEnding,
  ) {
    this.policy = new DialPolicy(rt.d.settings);
    rt.endListeners.add((callId) => this.callEnded(callId));
  }

  /**
   * Checks the request (the call, the destination, the dial policy), then, unless refused, hands the call
   * over once `preamble` says the agent's words were heard. `started` is the refusal, or the transfer's
   * outcome still to come, so an API caller can answer before a warm transfer is over.
   */
  async start(callId: string, req: TransferRequest & { via: 'tool' | 'api' }, preamble: PreambleWait): Promise<{ refused: TransferResult } | { outcome: Promise<TransferResult> }> {
    const c = await this.check(callId, req);
    if (!c.ok) {
      // A `to` that is a phone number (refused as such) is masked like every number on the record.
      const to = req.to && (/\d{5,}/.test(req.to.replace(/\D/g, '')) ? maskNumber(req.to.replace(/[^\d+]/g, '')) : req.to.slice(0, 40));
      this.rt.record(callId, 'transfer.refused', { mode: req.mode, via: req.via, ...(to ? { to } : {}), message: c.result.message });
      return { refused: c.result };
    }
    this.inProgress.add(callId);
    const outcome = this.run(callId, c, req, preamble).finally(() => this.inProgress.delete(callId));
    return { outcome };
  }

  private async check(callId: string, req: TransferRequest): Promise<Checked> {
    const { d } = this.rt;
    const refuse = (httpStatus: number, message: string, field?: string): Checked => ({ ok: false, result: { status: 'refused', httpStatus, message, ...(field ? { field } : {}) } });
    const live = this.rt.live.get(callId);
    const call = d.calls.kept(callId);
    if (!live || !call || this.rt.ending.has(callId) || call.status === 'ended') return refuse(409, 'the call is not live');
    if (!call.carrierCallId || !['answered', 'screening', 'talking'].includes(call.status)) return refuse(409, 'the call has not been answered yet');
    if (this.inProgress.has(callId)) return refuse(409, 'a transfer is already in progress on this call');
    const carrier = d.carrier;
    if (req.mode === 'cold' ? !carrier?.transfer : !carrier?.dialTransferLeg || !carrier.joinRoom) return refuse(501, `mode: the carrier cannot do a ${req.mode} transfer`, 'mode');
    const choice = chooseTarget(live.transferTargets ?? [], req.to);
    if (!choice.ok) return refuse(400, `to: ${choice.message}`, 'to');
    const t = choice.target;
    const dest = checkDestination(t.number);
    if (!dest.ok) return refuse(403, `to: destination "${t.label}" ${dest.message}`, 'to');
    // The dial policy, as for any call we place: allow list, do-not-call list, calling hours.
    const verdict = await this.policy.check(dest.e164, dest.country, { now: this.rt.now() });
    if (isRefusal(verdict)) return refuse(verdict.status, `to: the dial policy refuses destination "${t.label}" (${maskNumber(dest.e164)}): ${POLICY_TEXT[verdict.rule]}`, 'to');
    return { ok: true, live, carrierCallId: call.carrierCallId, target: { label: t.label, number: dest.e164 } };
  }

  private async run(callId: string, c: Extract<Checked, { ok: true }>, req: TransferRequest & { via: 'tool' | 'api' }, preamble: PreambleWait): Promise<TransferResult> {
    const heard = await preamble();
    if (heard !== 'played') {
      this.rt.record(callId, 'transfer.failed', { mode: req.mode, ...describeTarget(c.target), reason: heard === 'interrupted' ? 'the callee spoke over the preamble' : 'the tool call was withdrawn' });
      return { status: heard };
    }
    if (!this.rt.live.has(callId) || this.rt.ending.has(callId)) return { status: 'failed', message: 'the call ended' };
    this.rt.record(callId, 'transfer.started', { mode: req.mode, via: req.via, ...describeTarget(c.target) });
    return req.mode === 'cold' ? this.cold(callId, c) : this.warm(callId, c, req);
  }

  private async cold(callId: string, c: Extract<Checked, { ok: true }>): Promise<TransferResult> {
    const { d } = this.rt;
    // The update ends our media stream with a normal `stop`: that is the hand-over, not the callee leaving.
    c.live.session.expectNewStream(15_000);
    try {
      await d.carrier!.transfer!(c.carrierCallId, c.target.number, { callerId: ourNumber(d.calls.kept(callId)) ?? d.settings.TWILIO_FROM_NUMBER!, ringTimeoutSec: d.settings.TRANSFER_RING_TIMEOUT_S });
    } catch (err) {
      c.live.session.expectNewStream(false);
      return this.failed(callId, 'cold', c.target, err as Error);
    }
    return this.handedOver(callId, 'cold', c.target);
  }

  private async warm(callId: string, c: Extract<Checked, { ok: true }>, req: TransferRequest & { via: 'tool' | 'api' }): Promise<TransferResult> {
    const { d } = this.rt;
    const s = d.settings;
    const name = this.rt.d.calls.kept(callId)?.clientName;
    c.live.session.holdForTransfer(req.via === 'api' ? `In one short sentence, tell the callee you are connecting them to ${c.target.label === 'owner' ? (name ?? 'the person you are calling for') : c.target.label} and ask them to hold a moment. Then say nothing more.` : undefined);
    let settle!: (o: 'joined' | { reason: string }) => void;
    const outcome = new Promise<'joined' | { reason: string }>((r) => (settle = r));
    const leg: WarmLeg = {
      callId,
      target: c.target,
      // Twilio asks that room names carry no personal data: a random id.
      room: `cw-${randomUUID()}`,
      brief: req.brief ?? defaultBrief(name),
      machine: false,
      briefed: false,
      settled: false,
      settle: (o) => {
        if (leg.settled) return;
        leg.settled = true;
        settle(o);
      },
    };
    this.legs.set(callId, leg);
    const guard = setTimeout(() => {
      this.hangupLeg(leg);
      leg.settle({ reason: 'no answer in time' });
    }, s.TRANSFER_RING_TIMEOUT_S * 1000 + LEG_GRACE_MS);
    try {
      const { carrierCallId } = await d.carrier!.dialTransferLeg!({ callId, to: c.target.number, from: ourNumber(d.calls.kept(callId)) ?? s.TWILIO_FROM_NUMBER!, publicUrl: callPublicUrl(s)!, ringTimeoutSec: s.TRANSFER_RING_TIMEOUT_S });
      // A callback may have named the leg first (see `answered`); a different id is not this leg's.
      leg.legId ??= carrierCallId;
      if (leg.settled) this.hangupLeg(leg);
    } catch (err) {
      leg.settle({ reason: `the call to ${c.target.label} could not be placed: ${(err as Error).message}` });
    }
    const r = await outcome;
    clearTimeout(guard);
    if (this.legs.get(callId) === leg) this.legs.delete(callId);
    if (r === 'joined') return this.handedOver(callId, 'warm', c.target);
    if (!this.rt.live.has(callId) || this.rt.ending.has(callId)) return { status: 'failed', message: 'the call ended during the transfer' };
    this.rt.record(callId, 'transfer.returned', { mode: 'warm', ...describeTarget(c.target), reason: r.reason });
    c.live.session.resumeAfterTransfer(req.via === 'api' ? `${c.target.label === 'owner' ? (name ?? 'The person you called for') : c.target.label} could not be reached (${r.reason}). In one short sentence, tell the callee, then carry on with the call.` : undefined);
    return { status: 'returned', label: c.target.label, reason: r.reason };
  }

  /** The callee is with the destination: the record ends (transcript kept), the carrier call goes on. */
  private handedOver(callId: string, mode: 'cold' | 'warm', target: TransferTarget): TransferResult {
    this.rt.record(callId, 'transfer.completed', { mode, ...describeTarget(target), at: this.rt.now().toISOString() });
    void this.ending.end(callId, 'transferred', { hangup: false });
    return { status: 'transferred', label: target.label };
  }

  private failed(callId: string, mode: 'cold' | 'warm', target: TransferTarget, err: Error): TransferResult {
    this.rt.record(callId, 'transfer.failed', { mode, ...describeTarget(target), reason: err.message });
    return { status: 'failed', message: `the phone carrier could not transfer the call (${err.message})` };
  }

  private leg(callId: string, legId: string): WarmLeg | undefined {
    const leg = this.legs.get(callId);
    if (!leg || leg.settled) return undefined;
    // The leg's first callback can beat the response to the dial request: it names the leg then.
    leg.legId ??= legId;
    return leg.legId === legId ? leg : undefined;
  }

  // ---- the carrier's reports on the warm leg (TransferLegHandler) -------------------------------
  answered(callId: string, legId: string, human: boolean): { brief: string } | undefined {
    const leg = this.leg(callId, legId);
    if (!leg) return undefined;
    this.rt.record(callId, 'transfer.ownerAnswered', { label: leg.target.label, human });
    if (!human) {
      // A voicemail greeting is never briefed and never joined to the callee; its hang-up settles the leg.
      leg.machine = true;
      return undefined;
    }
    return { brief: leg.brief };
  }

  briefed(callId: string, legId: string): { room: string } | undefined {
    const leg = this.leg(callId, legId);
    const live = this.rt.live.get(callId);
    const calleeId = this.rt.d.calls.kept(callId)?.carrierCallId;
    if (!leg || !live || !calleeId || this.rt.ending.has(callId)) return undefined;
    leg.briefed = true;
    void this.joinCallee(leg, live, calleeId);
    return { room: leg.room };
  }

  status(callId: string, legId: string, status: CarrierCallStatus): void {
    const leg = this.leg(callId, legId);
    if (!leg || !FINAL.has(status)) return;
    const reason = leg.machine ? 'voicemail answered' : status === 'completed' ? (leg.briefed ? 'hung up' : 'hung up before the brief ended') : status;
    leg.settle({ reason });
  }

  /** The owner has heard the brief and is in the room: the callee follows; our media stream ends. */
  private async joinCallee(leg: WarmLeg, live: LiveCall, calleeId: string): Promise<void> {
    live.session.expectNewStream(15_000);
    try {
      await this.rt.d.carrier!.joinRoom!(calleeId, leg.room);
      leg.settle('joined');
    } catch (err) {
      live.session.expectNewStream(false);
      this.rt.record(leg.callId, 'transfer.failed', { mode: 'warm', ...describeTarget(leg.target), reason: (err as Error).message });
      this.hangupLeg(leg);
      leg.settle({ reason: 'the callee could not be joined' });
    }
  }

  private hangupLeg(leg: WarmLeg): void {
    if (leg.legId) void this.rt.d.carrier?.hangup(leg.legId).catch(() => undefined);
  }

  /** The call ended (the callee hung up while the owner was being called): the owner's phone stops ringing. */
  private callEnded(callId: string): void {
    const leg = this.legs.get(callId);
    if (!leg || leg.settled) return;
    this.legs.delete(callId);
    this.hangupLeg(leg);
    leg.settle({ reason: 'the call ended' });
  }
}

const POLICY_TEXT: Record<string, string> = {
  'not-allowed': 'not on the allow list (ALLOWED_DESTINATIONS)',
  'do-not-call': 'on the do-not-call list (DNC_FILE)',
  'calling-hours': 'outside calling hours (CALLING_HOURS)',
};

function defaultBrief(name: string | null | undefined): string {
  return `Hello${name ? ` ${name}` : ''}, this is your Callwright assistant. The person I called asked to speak with you; connecting you now.`;
}

/**
 * Our number on the call, the caller ID a hand-over shows: an inbound call's `to` (its `from` is the
 * caller, which a new call may not use as From and which may be withheld, see Twilio error 13214).
 */
function ourNumber(call: CallRow | undefined): string | undefined {
  if (!call) return undefined;
  return (call.direction === 'inbound' ? call.to : call.from) ?? undefined;
}
