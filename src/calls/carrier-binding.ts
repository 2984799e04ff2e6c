import type { CallRow } from '../store/calls-repo.js';
import type { CallRuntime } from './call-runtime.js';

/**
 * How the carrier's id for a call was learnt: from the dial request's response, or from the carrier's
 * first signed callback for the call (TwiML fetch, status, AMD, recording), which can come first.
 */
export type LearnedFrom = 'dial-response' | 'callback';

/** `bound`: just bound; `same`: already bound to this id; `refused`: not bound (see the log and timeline). */
export type BindResult = 'bound' | 'same' | 'refused';

/**
 * Binds the carrier's id (Twilio's CallSid) to one of our calls, once. The dial response is not the only
 * source: the carrier answers, fetches TwiML and sends callbacks on its own schedule, and these can
 * arrive before the response to the dial request does. A callback's URL names our call id and is signed
 * with the carrier's secret together with the CallSid in its body, so a signed callback for a call whose
 * dial is in flight is as good a source as the response.
 *
 * What never happens: a call's id changing once bound (a conflicting id is refused and recorded), one
 * carrier id on two calls, or a callback binding a call that is not dialling (never dialled, ending or
 * ended): a late or stray callback must not bring a finished call back.
 */
export function bindCarrierCallId(rt: CallRuntime, callId: string, carrierCallId: string, from: LearnedFrom, row?: CallRow): BindResult {
  const { d } = rt;
  // Only a call this node holds (its row in memory) can be dialling here; a caller that read the row
  // (a callback for a call no longer in memory) hands it in.
  const call = row ?? d.calls.kept(callId);
  if (!call) return 'refused';
  if (call.carrierCallId === carrierCallId) return 'same';
  if (call.carrierCallId) {
    d.log.warn({ event: 'carrier.idConflict', callId, from }, 'carrier id for the call differs from the one already bound; refused');
    rt.record(callId, 'error', {
      source: d.carrier?.name ?? 'carrier',
      fatal: false,
      code: 'carrier_id_conflict',
      message: `the ${from === 'callback' ? 'carrier callback' : 'dial response'} named call ${carrierCallId}, but this call is ${call.carrierCallId}`,
    });
    return 'refused';
  }
  if (from === 'callback' && (call.status !== 'dialing' || rt.ending.has(callId))) return 'refused';
  if (d.calls.keptByCarrierId(carrierCallId)) {
    d.log.warn({ event: 'carrier.idTaken', callId, from }, 'carrier id already belongs to another call; refused');
    return 'refused';
  }
  d.calls.update(callId, { carrierCallId });
  rt.record(callId, 'carrier.dialed', { carrier: d.carrier?.name, carrierCallId, learnedFrom: from });
  return 'bound';
}
