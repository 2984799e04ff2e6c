/**
 * How long after its end a call may still be writing late records (recording, price, outcome) on the node
 * that ran it: the late records' own limit (10 minutes, calls/after-call-records.ts) and a margin. Another
 * node reads a call ended longer ago than this as settled, whatever became of the node that ran it.
 */
export const LATE_RECORDS_WINDOW_MS = 15 * 60_000;

/** Whether a call ended so recently that the node running it may still be writing its late records. */
export function mayStillBeRecording(call: { status: string; endedAt: string | null }, nowMs = Date.now()): boolean {
  if (call.status !== 'ended' || !call.endedAt) return true;
  return nowMs - Date.parse(call.endedAt) < LATE_RECORDS_WINDOW_MS;
}
