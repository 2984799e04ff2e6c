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
export async function streamTimeline(req: FastifyRequest, reply: FastifyReply, timeline: Timeline, callId: string, open: boolean, afterSeq: number): Promise<void> {
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
  // A close during the replay (or before the subscription reached Redis) waits for it: the stream ends
  // after the stored events, not before.
  let closedDuringReplay = false;
  const offClosed = open ? timeline.onClosed(callId, () => setImmediate(() => (replaying ? (closedDuringReplay = true) : finish()))) : () => undefined;
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  function cleanup() {
    subscription.close();
    offClosed();
    clearInterval(heartbeat);
  }
  req.raw.on('close', cleanup);

  res.write('retry: 2000\n\n');
  try {
    await subscription.ready;
  } catch {
    // The bus could not subscribe (Redis down): the stream still replays what is stored, and the
    // subscription's own gap signal ends it for a reconnect.
  }
  if (res.writableEnded || res.destroyed) return;
  let sawEnd = false;
  // Events appended while the stored ones are read are buffered, and sent after them (each seq once).
  let replay: StoredEvent[];
  try {
    replay = await timeline.list(callId, afterSeq);
  } catch (err) {
    req.log.error({ event: 'sse.replayFailed', callId, err: (err as Error).message }, "could not read the call's timeline for the stream");
    cleanup();
    res.end();
    return;
  }
  if (res.writableEnded || res.destroyed) return; // the client went away meanwhile
  for (const ev of [...replay, ...buffered]) {
    send(ev);
    if (ev.type === 'records.complete') sawEnd = true;
  }
  // A client resuming past `records.complete` (it saw it, but not the end) replays nothing that says so,
  // and no `closed` will come again: the store says whether the timeline is complete, whatever the Last-Event-ID.
  if (open && !sawEnd && !closedDuringReplay && afterSeq > 0) {
    try {
      sawEnd = await timeline.has(callId, 'records.complete');
    } catch (err) {
      req.log.warn({ event: 'sse.completeCheckFailed', callId, err: (err as Error).message }, "could not check whether the call's timeline is complete; following it live");
    }
    if (res.writableEnded || res.destroyed) return;
    for (const ev of buffered) {
      send(ev); // those sent already are skipped (by seq)
      if (ev.type === 'records.complete') sawEnd = true;
    }
  }
  replaying = false;
  // The records may have completed between the caller's check and our subscription: the store says so.
  if (!open || sawEnd || closedDuringReplay) finish();
}
