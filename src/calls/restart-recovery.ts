import type { CallRuntime } from './call-runtime.js';
import type { CallEnding } from './call-ending.js';
import type { AfterCallRecords } from './after-call-records.js';

/**
 * Calls left live by a crash or restart cannot be resumed: mark them, make sure they are hung up, and
 * gather their price and recording in the background (after-call-records.ts). Only
 * calls no live node holds (calls-repo.ts `listOrphaned`): another node's live calls are left alone, and
 * another node's calls whose lease ran out are the lost-node sweep's (`node-lost`, lost-node-calls.ts).
 */
export async function recoverAfterRestart(rt: CallRuntime, ending: CallEnding, records: AfterCallRecords): Promise<number> {
  const { d } = rt;
  const me = d.calls.nodeId;
  const stale = (await d.calls.listOrphaned()).filter((c) => d.calls.dialect === 'sqlite' || !c.nodeId || c.nodeId === me);
  for (const call of stale) {
    if (call.carrierCallId && d.carrier) await d.carrier.hangup(call.carrierCallId).catch(() => undefined);
    const end = { status: 'ended' as const, endReason: 'interrupted' as const, endedAt: new Date().toISOString(), error: 'Callwright restarted while the call was in progress' };
    d.calls.update(call.id, end);
    rt.record(call.id, 'status', { status: 'ended', reason: 'interrupted' });
    const transcriptText = await ending.writeTranscript(call.id);
    // The price and the recording, as after any end (`records.complete` once they are in): the crash
    // left no one to wait for them.
    await records.settleInterruptedCall({ ...call, ...end }, transcriptText);
  }
  // The pending outcomes are found by joining the calls just ended: on PostgreSQL those updates are still on their way.
  await d.calls.settled();
  await rt.outcomes?.resumePending((p) => rt.track(p), d.calls.nodeId);
  return stale.length;
}
