import type { CarrierEvent } from '../telephony/carrier.js';
import type { CallRow } from '../store/calls-repo.js';
import type { EndReason } from './state.js';
import type { CallRuntime } from './call-runtime.js';
import type { CallEnding } from './call-ending.js';
import type { CallLimits } from './call-limits.js';
import type { AfterCallRecords } from './after-call-records.js';
import { bindCarrierCallId } from './carrier-binding.js';
import { WebhookReceiptsRepo } from '../store/webhook-receipts-repo.js';

/** The carrier's callbacks (status, answering-machine verdict, recording) applied to a call. */
export class CarrierEvents {
  private readonly receipts: WebhookReceiptsRepo;
  /** Per call, the callback being applied: the next waits for it, so callbacks apply in arrival order. */
  private readonly applying = new Map<string, Promise<void>>();

  constructor(
    private readonly rt: CallRuntime,
    private readonly ending: CallEnding,
    private readonly limits: CallLimits,
    private readonly records: AfterCallRecords,
  ) {
    this.receipts = new WebhookReceiptsRepo(rt.d.sql);
    // Twilio retries within hours; receipts older than a week only take space.
    this.receipts.prune(new Date(Date.now() - 7 * 86400_000)).catch((err) => rt.d.log.warn({ event: 'carrier.receiptsPruneFailed', err: (err as Error).message }, 'could not prune old webhook receipts'));
  }

  /**
   * Twilio retries and reorders callbacks: duplicates are dropped, and nothing moves a call backwards.
   * The first signed callback of a call whose dial response has not come back yet binds its CallSid.
   * Resolves once the callback is applied (or dropped); rejects if its receipt could not be stored, so
   * the route answers with an error and the carrier retries. A call's callbacks apply one at a time, in
   * the order they arrived: the receipt's insert is awaited, and answers from a pool may come back out
   * of order.
   */
  onCarrierEvent(callId: string, carrierCallId: string, event: CarrierEvent, dedupeKey: string): Promise<void> {
    const lane = callId || carrierCallId;
    const before = this.applying.get(lane) ?? Promise.resolve();
    const mine = before.catch(() => undefined).then(() => this.apply(callId, carrierCallId, event, dedupeKey));
    const tail = mine.catch(() => undefined);
    this.applying.set(lane, tail);
    // Counted as the runtime's work in flight: shutdown and `idle()` wait for a callback being applied.
    this.rt.track(tail);
    void tail.then(() => {
      if (this.applying.get(lane) === tail) this.applying.delete(lane);
    });
    return mine;
  }

  private async apply(callId: string, carrierCallId: string, event: CarrierEvent, dedupeKey: string): Promise<void> {
    const { d } = this.rt;
    // A number's own status callback (an inbound call) names no call of ours: the carrier's id does.
    if (!callId) callId = (await d.calls.getByCarrierId(carrierCallId))?.id ?? '';
    // Multi-node: the number's own status callback reaches any node. Another node's call is that node's
    // to apply (its session is there, and its events would be numbered on two nodes): dropped here.
    const owner = callId && d.calls.dialect === 'postgres' ? (await d.calls.get(callId))?.nodeId : undefined;
    if (owner && d.calls.nodeId && owner !== d.calls.nodeId) {
      d.log.info({ event: 'carrier.otherNodesCall', callId, node: owner, type: event.type }, "callback for another node's call ignored (the number's status callback reaches any node)");
      return;
    }
    if (bindCarrierCallId(this.rt, callId, carrierCallId, 'callback', callId ? await d.calls.get(callId) : undefined) === 'refused') {
      d.log.warn({ event: 'carrier.unknownCall', type: event.type }, 'callback for an unknown call ignored');
      return;
    }
    if (!(await this.receipts.claim(`${callId}:${dedupeKey}`))) return;
    // Read after the claim: the call may have moved on while the receipt was being stored.
    const call = await d.calls.get(callId);
    if (!call) return;
    switch (event.type) {
      case 'status':
        this.rt.record(callId, 'carrier.status', { status: event.status, ...(event.durationSec !== undefined ? { durationSec: event.durationSec } : {}) });
        return this.onCarrierStatus(call, event.status, event.durationSec);
      case 'amd': {
        if (call.status === 'ended') return;
        d.calls.update(callId, { answeredBy: event.answeredBy });
        this.rt.record(callId, 'amd', { answeredBy: event.answeredBy, machine: event.machine });
        this.rt.live.get(callId)?.session.answeredBy(event.answeredBy);
        return;
      }
      case 'recording':
        if (event.status !== 'completed') {
          this.rt.record(callId, 'recording.status', { status: event.status });
          return;
        }
        d.calls.update(callId, { recordingSid: event.recordingId });
        this.records.noteForeignUrl(callId, event.recordingId, event.advertisedOrigin);
        this.rt.track(this.records.fetchRecording(callId, event.recordingId).finally(() => this.records.settled(callId, 'recording')));
        return;
    }
  }

  private onCarrierStatus(call: CallRow, status: string, durationSec?: number): void {
    switch (status) {
      case 'ringing':
        this.rt.transition(call.id, 'ringing');
        return;
      case 'answered':
        if (this.rt.transition(call.id, 'answered')) this.rt.d.calls.update(call.id, { answeredAt: new Date().toISOString() });
        // Answered, and answering-machine detection is listening until its verdict.
        this.rt.transition(call.id, 'screening');
        this.limits.armCallTimers(call.id);
        return;
      case 'completed':
      case 'busy':
      case 'no-answer':
      case 'failed':
      case 'canceled': {
        if (durationSec !== undefined) this.rt.d.calls.update(call.id, { carrierDurationSec: durationSec });
        const reason: EndReason = status === 'completed' ? 'callee-hangup' : (status as EndReason);
        // The carrier says the call is over: nothing to hang up, but the records still need finishing.
        this.rt.track(this.ending.end(call.id, reason, { hangup: false }).then(() => this.records.pollPrice(call.id)));
        return;
      }
    }
  }
}
