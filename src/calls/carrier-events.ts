import type { CarrierEvent } from '../telephony/carrier.js';
import type { CallRow } from '../store/calls-repo.js';
import type { EndReason } from './state.js';
import type { CallRuntime } from './call-runtime.js';
import type { CallEnding } from './call-ending.js';
import type { CallLimits } from './call-limits.js';
import type { AfterCallRecords } from './after-call-records.js';
import { bindCarrierCallId } from './carrier-binding.js';

/** The carrier's callbacks (status, answering-machine verdict, recording) applied to a call. */
export class CarrierEvents {
  private readonly seenStmt;

  constructor(
    private readonly rt: CallRuntime,
    private readonly ending: CallEnding,
    private readonly limits: CallLimits,
    private readonly records: AfterCallRecords,
  ) {
    const { db } = rt.d;
    this.seenStmt = db.prepare('INSERT OR IGNORE INTO webhook_receipts (key, at) VALUES (?, ?)');
    // Twilio retries within hours; receipts older than a week only take space.
    db.prepare('DELETE FROM webhook_receipts WHERE at < ?').run(new Date(Date.now() - 7 * 86400_000).toISOString());
  }

  /**
   * Twilio retries and reorders callbacks: duplicates are dropped, and nothing moves a call backwards.
   * The first signed callback of a call whose dial response has not come back yet binds its CallSid.
   */
  onCarrierEvent(callId: string, carrierCallId: string, event: CarrierEvent, dedupeKey: string): void {
    const { d } = this.rt;
    // A number's own status callback (an inbound call) names no call of ours: the carrier's id does.
    if (!callId) callId = d.calls.getByCarrierId(carrierCallId)?.id ?? '';
    if (bindCarrierCallId(this.rt, callId, carrierCallId, 'callback') === 'refused') {
      d.log.warn({ event: 'carrier.unknownCall', type: event.type }, 'callback for an unknown call ignored');
      return;
    }
    const call = d.calls.get(callId)!;
    if (this.seenStmt.run(`${callId}:${dedupeKey}`, new Date().toISOString()).changes === 0) return;
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
