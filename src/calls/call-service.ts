import type { CarrierEvent, MediaStreamHandler, MediaTransport } from '../telephony/carrier.js';
import type { StreamOpenRequest } from '../telephony/twilio/media-connection.js';
import type { CallRow } from '../store/calls-repo.js';
import type { Refusal } from '../store/refusals-repo.js';
import { loadPriceTable } from '../records/pricing.js';
import type { EndReason } from './state.js';
import type { CreateCallInput } from './call-request.js';
import { CallRuntime, type CallServiceDeps } from './call-runtime.js';
import { AfterCallRecords } from './after-call-records.js';
import { CallEnding } from './call-ending.js';
import { CallLimits } from './call-limits.js';
import { CarrierEvents } from './carrier-events.js';
import { StreamAuthorization } from './stream-authorization.js';
import { CallCreation } from './call-creation.js';
import { recoverAfterRestart } from './restart-recovery.js';
import { endLostNodeCalls } from './lost-node-calls.js';
import { CallTransfer } from './transfer/call-transfer.js';
import type { TransferRequest, TransferResult } from './transfer/transfer-types.js';
import type { IncomingCall, IncomingCallAnswer, TransferLegHandler } from '../telephony/carrier.js';
import { DECLINE_MESSAGES, InboundCalls } from './inbound-calls.js';

export { createCallSchema, CallRequestError, type CreateCallInput } from './call-request.js';
export type { CallServiceDeps } from './call-runtime.js';

/**
 * Creates calls, drives each through its state machine, and owns the live sessions. Each job lives in its
 * own part (creation, carrier events, stream authorization, limits, ending, late records, restart
 * recovery); they share one CallRuntime. This class is the one entry point the server uses.
 */
export class CallService {
  private readonly rt: CallRuntime;
  private readonly records: AfterCallRecords;
  private readonly ending: CallEnding;
  private readonly limits: CallLimits;
  private readonly carrierEvents: CarrierEvents;
  private readonly streams: StreamAuthorization;
  private readonly creation: CallCreation;
  private readonly transfers: CallTransfer;
  private readonly inbound: InboundCalls;
  /**
   * Every third of the lease (two renewals can be missed before another node takes a call for lost):
   * renews this node's hold on its live calls and refreshes their running cost (calls-repo.ts
   * `renewLeases`), then ends other nodes' calls whose lease ran out (lost-node-calls.ts).
   */
  private readonly leases: NodeJS.Timeout;
  private sweeping: Promise<unknown> | undefined;

  constructor(d: CallServiceDeps) {
    const prices = d.prices ?? loadPriceTable(d.settings.PRICES_FILE);
    this.rt = new CallRuntime(d, prices);
    this.records = new AfterCallRecords(this.rt);
    this.ending = new CallEnding(this.rt, this.records);
    this.limits = new CallLimits(this.rt, this.ending);
    this.rt.onUsage = (callId) => this.limits.checkCost(callId);
    this.transfers = new CallTransfer(this.rt, this.ending);
    this.creation = new CallCreation(this.rt, this.ending, this.limits, this.transfers);
    this.carrierEvents = new CarrierEvents(this.rt, this.ending, this.limits, this.records);
    this.streams = new StreamAuthorization(this.rt, this.limits, this.ending);
    this.inbound = new InboundCalls({ rt: this.rt, ending: this.ending, limits: this.limits, transfers: this.transfers });
    this.leases = setInterval(() => {
      d.calls.renewLeases();
      // One sweep at a time: a slow database must not pile them up.
      this.sweeping ??= this.endLostNodeCalls()
        .catch((err: Error) => d.log.error({ event: 'calls.nodeLostSweepFailed', err: err.message }, 'ending a lost node\'s calls failed; tried again at the next renewal'))
        .finally(() => (this.sweeping = undefined));
    }, d.calls.leaseMs / 3).unref();
  }

  get liveCount(): number {
    return this.rt.live.size;
  }

  create(input: CreateCallInput): Promise<CallRow> {
    return this.creation.create(input);
  }

  /** Checks a call ahead of its time (a scheduled call); throws the refusal. See CallCreation.checkAhead. */
  checkAhead(input: CreateCallInput, at: Date): Promise<void> {
    return this.creation.checkAhead(input, at);
  }

  /** The calls the dial policy refused, newest first. */
  listRefusals(limit: number, beforeId?: number): Promise<Refusal[]> {
    return this.creation.listRefusals(limit, beforeId);
  }

  /** Twilio retries and reorders callbacks: duplicates are dropped, and nothing moves a call backwards. */
  onCarrierEvent(callId: string, carrierCallId: string, event: CarrierEvent, dedupeKey: string): Promise<void> {
    return this.carrierEvents.onCarrierEvent(callId, carrierCallId, event, dedupeKey);
  }

  /** A call to our number: answered per INBOUND (see inbound-calls.ts). */
  incomingCall(call: IncomingCall): Promise<IncomingCallAnswer> {
    if (this.rt.closing) return Promise.resolve({ decline: DECLINE_MESSAGES.unavailable });
    return this.inbound.answer(call);
  }

  streamParamsFor(callId: string, carrierCallId: string): Record<string, string> | undefined {
    return this.streams.streamParamsFor(callId, carrierCallId);
  }

  authorizeStream(req: StreamOpenRequest, transport: MediaTransport): MediaStreamHandler | undefined {
    return this.streams.authorizeStream(req, transport);
  }

  /** The carrier's reports on warm-transfer legs. */
  get transferLegs(): TransferLegHandler {
    return this.transfers;
  }

  /**
   * User-requested transfer (API, UI): acts at once (no preamble to wait for). A refusal, or a cold
   * transfer's outcome, is the answer; a warm one answers `dialing` and goes on (see the timeline).
   */
  async transfer(callId: string, req: TransferRequest): Promise<TransferResult | { status: 'dialing' }> {
    const r = await this.transfers.start(callId, { ...req, via: 'api' }, async () => 'played');
    if ('refused' in r) return r.refused;
    if (req.mode === 'cold') return r.outcome;
    void r.outcome.catch(() => undefined);
    return { status: 'dialing' };
  }

  /** User-requested hang-up. */
  hangup(callId: string): Promise<CallRow> {
    return this.ending.hangup(callId);
  }

  /** Ends a call, once; every later cause joins the first (see CallEnding). Never rejects. */
  end(callId: string, reason: EndReason, opts: { detail?: string; hangup?: boolean } = {}): Promise<void> {
    return this.ending.end(callId, reason, opts);
  }

  /** True while the call is live or its late records are still expected: its event stream stays open. */
  isStreaming(callId: string): boolean {
    return this.rt.live.has(callId) || this.rt.ending.has(callId) || this.records.isWaiting(callId);
  }

  /**
   * Sends the call's stored outcome to CALL_WEBHOOK_URL again (a new delivery, with its retries), e.g.
   * after the receiver was down for longer than the retries lasted.
   */
  async redeliverOutcome(callId: string): Promise<'started' | 'not-configured' | 'not-ready'> {
    const outcomes = this.rt.outcomes;
    if (!outcomes?.webhookConfigured) return 'not-configured';
    if (this.rt.live.has(callId) || this.rt.ending.has(callId) || this.records.isWaiting(callId) || !(await outcomes.isFinal(callId))) return 'not-ready';
    this.rt.track(outcomes.deliver(callId));
    return 'started';
  }

  /** Calls left live by a crash or restart cannot be resumed: mark them and make sure they are hung up. */
  recoverAfterRestart(): Promise<number> {
    return recoverAfterRestart(this.rt, this.ending, this.records);
  }

  /** Multi-node: ends other nodes' calls whose lease ran out (their node died) as `node-lost`. */
  endLostNodeCalls(): Promise<number> {
    return endLostNodeCalls(this.rt, this.ending, this.records);
  }

  /** Ends every live call (server shutdown) and waits for background work such as downloads. */
  async shutdown(): Promise<void> {
    this.rt.closing = true;
    clearInterval(this.leases);
    await this.sweeping;
    await Promise.all([...this.rt.live.keys()].map((id) => this.ending.end(id, 'interrupted', { detail: 'Callwright shut down' })));
    this.records.completeAll();
    this.rt.outcomes?.stop();
    await Promise.allSettled([...this.rt.background]);
  }

  /** Waits for background work (recording downloads, price polls); for tests and shutdown. */
  async idle(): Promise<void> {
    while (this.rt.background.size || this.rt.ending.size) await Promise.allSettled([...this.rt.background, ...this.rt.ending.values()]);
  }
}
