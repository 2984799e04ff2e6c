import type { CallRuntime } from './call-runtime.js';
import type { CallEnding } from './call-ending.js';
import type { AfterCallRecords } from './after-call-records.js';
import { CallLeases } from '../store/call-leases.js';

/**
 * Multi-node: the calls of a node that died. Its media went with it (the carrier's stream and webhooks
 * are addressed to that node), so they cannot be resumed; every running node, on the lease-renewal
 * timer, ends another node's calls whose lease ran out, as `node-lost`: the carrier leg hung up, the
 * events and transcript kept as they were, and the end on the timeline (so followers on any node get
 * their `end`, and a campaign settles the number). The late records the dead node would have waited for
 * (price, recording, outcome) are this node's to gather, in the background: the sweep does not wait.
 * Exactly one node ends each call (call-leases.ts `endExpired`); a call whose node renewed its lease is
 * never touched. PostgreSQL only.
 */
export async function endLostNodeCalls(rt: CallRuntime, ending: CallEnding, records: AfterCallRecords): Promise<number> {
  const { d } = rt;
  if (rt.closing) return 0;
  const leases = new CallLeases(d.calls);
  let ended = 0;
  for (const stale of await leases.listExpired()) {
    const lostNode = stale.nodeId ?? 'unknown';
    const row = await leases.endExpired(stale.id, {
      endReason: 'node-lost',
      endedAt: rt.now().toISOString(),
      error: `node ${lostNode} stopped renewing its lease on the call (it died or lost the database); ended by node ${d.settings.NODE_ID ?? 'unnamed'}`,
    });
    if (!row) continue; // another node ended it first, or its node renewed meanwhile
    ended++;
    d.log.warn({ event: 'call.nodeLost', callId: row.id, node: lostNode, leaseUntil: stale.leaseUntil }, 'call ended: the node running it was lost');
    if (row.carrierCallId && d.carrier) await d.carrier.hangup(row.carrierCallId).catch(() => undefined);
    rt.record(row.id, 'status', { status: 'ended', reason: 'node-lost', node: lostNode });
    const transcriptText = await ending.writeTranscript(row.id);
    // Once, by the node that claimed the call above; `records.complete` follows when they are in.
    await records.settleLostCall(row, transcriptText);
  }
  return ended;
}
