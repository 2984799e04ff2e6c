import { setTimeout as sleep } from 'node:timers/promises';
import { CarrierError, type Carrier, type CarrierRecording } from '../telephony/carrier.js';

/** Why a call's recording could not be found at the carrier (the `reason` of its timeline error). */
export type RecordingNotFound = 'not-listable' | 'list-failed' | 'none' | 'absent' | 'not-ready';

export type RecordingSearch = { found: string } | { notFound: RecordingNotFound; message: string } | { stopped: true };

/**
 * When to ask, about two minutes in all. Twilio says a recording "temporarily performing some
 * post-processing" is available "within a couple seconds" (https://www.twilio.com/docs/api/errors/21501);
 * the later pauses ride out a slow day or a carrier API that is briefly down, never more than 30 s late.
 */
export const RECORDING_LIST_POLL_MS = [0, 2_000, 3_000, 5_000, 10_000, 10_000, 15_000, 15_000, 30_000, 30_000];

/**
 * Looks for a call's completed recording in the carrier's list of the call's recordings, with growing
 * pauses: right after the call it is still `processing`. For a call whose recording callback never comes
 * (its node died). `knownId`: the recording the call's row already names (its callback reached the node
 * before it died), taken over any other. Stops when `signal` aborts (shutdown).
 */
export async function findCompletedRecording(
  carrier: Carrier,
  carrierCallId: string,
  o: { pollMs: number[]; knownId?: string | null; signal: AbortSignal },
): Promise<RecordingSearch> {
  if (!carrier.callRecordings) return { notFound: 'not-listable', message: `the ${carrier.name} carrier cannot list a call's recordings` };
  let last = 'not asked';
  let emptyBefore = false;
  for (const waitMs of o.pollMs) {
    if (waitMs) await sleep(waitMs, undefined, { signal: o.signal }).catch(() => undefined);
    if (o.signal.aborted) return { stopped: true };
    let list: CarrierRecording[];
    try {
      list = await carrier.callRecordings(carrierCallId);
    } catch (err) {
      const message = `listing the call's recordings failed: ${(err as Error).message}`;
      // A refusal (the call unknown, the credentials wrong) will not change by asking again.
      if (err instanceof CarrierError && !err.retryable) return { notFound: 'list-failed', message };
      last = message;
      continue;
    }
    const completed = list.filter((r) => r.status === 'completed');
    const pick = completed.find((r) => r.recordingId === o.knownId) ?? completed[0];
    if (pick) return { found: pick.recordingId };
    if (list.length && list.every((r) => r.status === 'absent')) {
      const codes = list.flatMap((r) => (r.errorCode ? [r.errorCode] : []));
      return { notFound: 'absent', message: `the carrier reports the call's recording absent${codes.length ? ` (error ${codes.join(', ')})` : ''}` };
    }
    // Empty twice in a row: the call was not recorded (once could be the carrier's list catching up).
    if (!list.length && emptyBefore) return { notFound: 'none', message: 'the carrier has no recording of the call' };
    emptyBefore = !list.length;
    last = list.length ? `the carrier lists it as ${list.map((r) => r.status).join(', ')}` : 'the carrier lists no recording for the call';
  }
  const totalS = Math.round(o.pollMs.reduce((a, b) => a + b, 0) / 1000);
  return { notFound: 'not-ready', message: `no completed recording after ${totalS} s of asking the carrier (last: ${last})` };
}
