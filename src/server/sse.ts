import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Timeline } from '../records/timeline.js';
import type { StoredEvent } from '../store/events-repo.js';

const HEARTBEAT_MS = 15_000;

/**
 * Server-sent events for one call: replays the stored timeline after `afterSeq` (Last-Event-ID lets a
 * reconnecting client resume), then streams new events live, and ends with `event: end` once the call is
 * over and its late records (recording, carrier price) are in. Subscribing before replaying, and
 * skipping seqs already sent, means no event falls in the gap. The subscription may reach other nodes
 * (REDIS_URL): the replay waits until it is in place, and if the bus says live events were lost (its
 * link dropped) the stream ends without `end`, so the client reconnects with Last-Event-ID and replays.
 */
export function streamTimeline(req: FastifyRequest, reply: FastifyReply, timeline: Timeline, callId: string, open: boolean, afterSeq: number): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  let last = afterSeq;
  const send = (ev: StoredEvent) => {
    if (ev.seq <= last) return;
    last = ev.seq;
    res.write(`id: ${ev.seq}\nevent: ${ev.type}\ndata: ${JSON.stringify({ seq: ev.seq, at: ev.at, type: ev.type, data: ev.data })}\n\n`);
  };
  const finish = () => {
    cleanup();
    if (!res.writableEnded) {
      res.write('event: end\ndata: {}\n\n');
      res.end();
    }
  };
  const buffered: StoredEvent[] = [];
  let replaying = true;
  const resync = () => {
    cleanup();
    if (!res.writableEnded) res.end();
  };
  const subscription = timeline.subscribe(callId, (ev) => (replaying ? buffered.push(ev) : send(ev)), { onGap: resync });
  // Closed before the replay ran (the subscription took a moment to reach Redis): finish after it.
  let closedEarly = false;
  const offClosed = open ? timeline.onClosed(callId, () => (replaying ? (closedEarly = true) : setImmediate(finish))) : () => undefined;
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  function cleanup() {
    subscription.close();
    offClosed();
    clearInterval(heartbeat);
  }
  req.raw.on('close', cleanup);

  res.write('retry: 2000\n\n');
  void subscription.ready.then(() => {
    if (res.writableEnded || res.destroyed) return;
    let sawEnd = false;
    for (const ev of [...timeline.list(callId, afterSeq), ...buffered]) {
      send(ev);
      if (ev.type === 'records.complete') sawEnd = true;
    }
    replaying = false;
    // The records may have completed between the caller's check and our subscription: the store says so.
    if (!open || sawEnd || closedEarly) finish();
  });
}
