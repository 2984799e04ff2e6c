import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { inWindow, localTime, parseCallingHours, zonesFor } from '../calls/calling-hours.js';
import type { CallRow } from '../store/calls-repo.js';
import type { CampaignNumber, CampaignSpec, NumberOutcome } from './campaign-schema.js';

/** What to do with a number whose call ended: done with an outcome, or tried again later. */
export type AfterCall = { done: NumberOutcome; detail: string | null } | { retryAt: Date; detail: string };

/**
 * A busy line and no answer are tried again (up to `retries.busy` / `retries.noAnswer` more times), each
 * wait `backoffFactor` times the last, from `backoffSeconds`. Everything else is final: an answered call
 * (whatever was said), a voicemail, a failure the carrier reported, a call cut by a restart (the callee
 * may have been spoken to, so it is never redialled).
 */
export function afterCall(call: CallRow, n: Pick<CampaignNumber, 'attempts'>, spec: CampaignSpec, now: Date): AfterCall {
  const r = call.endReason;
  if (r === 'busy' || r === 'no-answer') {
    const allowed = 1 + (r === 'busy' ? spec.retries.busy : spec.retries.noAnswer);
    if (n.attempts < allowed) {
      const waitSec = spec.retries.backoffSeconds * spec.retries.backoffFactor ** (n.attempts - 1);
      return { retryAt: new Date(now.getTime() + waitSec * 1000), detail: `${r} on attempt ${n.attempts} of ${allowed}; tried again after ${Math.round(waitSec)} s` };
    }
    return { done: r, detail: `${r} on all ${allowed} attempts` };
  }
  if (r === 'voicemail' || r === 'voicemail-left') return { done: r, detail: null };
  if (r === 'node-lost') return { done: 'interrupted', detail: 'the call was cut short (the node running it was lost mid-call); it is not dialled again, the callee may have been spoken to' };
  if (r === 'interrupted') return { done: 'interrupted', detail: 'the call was cut short (Callwright stopped mid-call); it is not dialled again, the callee may have been spoken to' };
  if (call.answeredAt) return { done: 'answered', detail: null };
  return { done: 'failed', detail: call.error ?? `the call ended: ${r ?? 'unknown reason'}` };
}

/**
 * The campaign's calling hours in the callee's local time: undefined when it may be dialled now, else
 * when to look again. The zone is the number's own `timezone`, else what the number tells (a US area code,
 * a city code; all of a mobile's possible zones must be inside), else the campaign's `timezone`.
 */
export async function outsideCampaignHours(n: Pick<CampaignNumber, 'to' | 'timezone'>, spec: CampaignSpec, now: Date): Promise<{ until: Date; detail: string } | { never: string } | undefined> {
  if (!spec.callingHours) return undefined;
  const w = parseCallingHours(spec.callingHours)!;
  let zones = n.timezone ? [n.timezone] : await zonesFor(parsePhoneNumberFromString(n.to)!);
  if (!zones.length && spec.timezone) zones = [spec.timezone];
  if (!zones.length) return { never: `the callee's local time for ${n.to} cannot be told from the number; give the number a timezone, or the campaign one` };
  const outside = zones.filter((z) => !inWindow(w, localTime(z, now).minutes));
  if (!outside.length) return undefined;
  // Until the window opens where it opens last (a minute's margin); checked again then.
  const waitMin = Math.max(...outside.map((z) => (w.startMin - localTime(z, now).minutes + 1440) % 1440 || 1440)) + 1;
  return { until: new Date(now.getTime() + waitMin * 60_000), detail: `outside the campaign's calling hours ${w.text}: it is ${outside.map((z) => `${localTime(z, now).hhmm} in ${z}`).join(', ')}` };
}
