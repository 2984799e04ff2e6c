import type { CallRuntime } from './call-runtime.js';
import type { CallEnding } from './call-ending.js';

/**
 * Calls left live by a crash or restart cannot be resumed: mark them and make sure they are hung up. Only
 * calls no live node holds (calls-repo.ts `listOrphaned`): another node's live calls are left alone, and
 * another node's calls whose lease ran out are the lost-node sweep's (`node-lost`, lost-node-calls.ts).
 */
export async function recoverAfterRestart(rt: CallRuntime, ending: CallEnding): Promise<number> {
  const { d } = rt;
  const me = d.calls.nodeId;
  const stale = (await d.calls.listOrphaned()).filter((c) => d.calls.dialect === 'sqlite' || !c.nodeId || c.nodeId === me);
  for (const call of stale) {
    if (call.carrierCallId && d.carrier) await d.carrier.hangup(call.carrierCallId).catch(() => undefined);
    d.calls.update(call.id, { status: 'ended', endReason: 'interrupted', endedAt: new Date().toISOString(), error: 'Callwright restarted while the call was in progress' });
    rt.record(call.id, 'status', { status: 'ended', reason: 'interrupted' });
    await ending.writeTranscript(call.id);
    rt.record(call.id, 'records.complete', {});
  }
  // The pending outcomes are found by joining the calls just ended: on PostgreSQL those updates are still on their way.
  await d.calls.settled();
  await rt.outcomes?.resumePending((p) => rt.track(p), d.calls.nodeId);
  return stale.length;
}
