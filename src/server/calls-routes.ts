import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { CallRequestError, createCallSchema, type CallService } from '../calls/call-service.js';
import type { CallFilter, CallRow, CallsRepo } from '../store/calls-repo.js';
import type { Timeline } from '../records/timeline.js';
import { computeCost } from '../records/cost.js';
import type { PriceTable } from '../records/pricing.js';
import { renderTranscriptText, toolCallEntries, transcriptEntries } from '../records/transcript.js';
import { streamTimeline } from './sse.js';
import { CALL_STATUSES, END_REASONS } from '../calls/state.js';
import type { StreamTokens } from './auth.js';
import { documented } from './openapi.js';
import type { RunbookLibrary } from '../runbooks/runbook-library.js';
import { resolveRunbookRequest } from '../runbooks/runbook-call.js';
import type { OutcomesRepo } from '../store/outcomes-repo.js';
import { withOutcomeText } from '../outcome/payload.js';
import { callPurpose } from '../records/call-purpose.js';
import { recordFilePath, type RecordFolders } from '../records/record-files.js';
import { callRecordsRoutes, type CallRecordsRoutesOptions } from './call-records-routes.js';
import type { CallScheduler } from '../calls/scheduler.js';
import { readMetadata } from '../calls/metadata.js';
import { zodError, sendError, sendZodError } from './errors.js';
import { mayStillBeRecording } from '../records/late-records-window.js';
import { IDEMPOTENCY_HEADER, IdempotentRequests } from './idempotency.js';

export interface CallsRoutesOptions {
  service: CallService;
  calls: CallsRepo;
  timeline: Timeline;
  prices: PriceTable;
  carrierPricePerMinute: number;
  streamTokens: StreamTokens;
  runbooks: RunbookLibrary;
  /** Each call's outcome (docs/outcome.md). */
  outcomes?: OutcomesRepo;
  /** Where the calls' recording and transcript files are (RECORDINGS_DIR, TRANSCRIPTS_DIR): shared by every node when there are several. */
  folders: RecordFolders;
  /** The overview's caps, refusals and clock (call-records-routes.ts). */
  records: Pick<CallRecordsRoutesOptions, 'settings' | 'refusedSince' | 'now'>;
  /** Calls with `scheduledAt` go here instead of dialling now (docs/scheduled-calls.md). */
  scheduler?: CallScheduler;
  /** Idempotency-Key on POST /api/calls (docs/api-reference.md). */
  idempotency?: IdempotentRequests;
}

const idParams = z.object({ id: z.string().uuid() });
const transferBody = z.object({
  mode: z.enum(['cold', 'warm'], { error: 'must be "cold" or "warm"' }),
  /** A destination's label (or 1-based position): never a number (see docs/transfer.md). */
  to: z.string().trim().min(1, 'is empty').max(40).optional(),
  brief: z.string().trim().min(1, 'is empty').max(400, 'is longer than 400 characters').optional(),
}).strict();
const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
  status: z.enum([...CALL_STATUSES, 'live']).optional(),
  endReason: z.enum(END_REASONS).optional(),
  clientId: z.string().max(64).optional(),
  q: z.string().trim().max(200).optional(),
  goalMet: z.enum(['achieved', 'partly', 'not-achieved', 'unknown', 'none']).optional(),
  /** `inbound`: calls to our number (the UI's "Incoming" filter); `outbound`: calls we placed. */
  direction: z.enum(['inbound', 'outbound']).optional(),
});

/** The routes as the OpenAPI document describes them (GET /api/openapi.json), with the schemas above. */
const DOCS = {
  place: documented({
    tag: 'calls',
    summary: 'Place a call',
    description:
      "The dial policy (destination rules, allow and do-not-call lists, calling hours) and the caps apply to every call. With `runbook`, the runbook gives the instructions and settings and `variables` fills them in (see GET /api/runbooks); the request's own fields win. Unknown fields are refused (400, code `unknown_field`). `metadata` is your own labels, returned wherever the call is (the call, the list, the export, the event stream, the outcome webhook). With `Idempotency-Key`, a retry of the same request (same key, same body, within 24 h, across restarts) returns the first call and places no second one; the replayed answer has `Idempotent-Replayed: true`.",
    headers: z.object({
      'Idempotency-Key': z.string().min(1).max(255).optional().describe('Your own key for this request (a UUID): a retry with the same key and body returns the same call instead of placing another. Kept 24 h.'),
    }),
    body: createCallSchema.extend({ runbook: z.string().optional(), variables: z.record(z.string(), z.string()).optional() }).partial({ instructions: true }),
    responses: {
      201: { description: 'The call was created and is being dialled (or, with a repeated Idempotency-Key, the call first created); with `scheduledAt`, the scheduled call (status `scheduled`, see GET /api/scheduled-calls/{id})', schema: z.object({ id: z.string(), status: z.string(), metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional() }) },
      400: 'a field is missing, wrong or unknown (named in `field`), or a bad Idempotency-Key',
      403: 'the dial policy refused the number (`rule` says which)',
      404: 'unknown runbook',
      409: 'the first request with this Idempotency-Key was cut short by a restart (code `idempotency_key_interrupted`)',
      422: 'the runbook has problems, or the Idempotency-Key was used with a different body (code `idempotency_key_reused`)',
      429: 'a cap was reached (`Retry-After`)',
      503: 'Callwright is not configured to place calls (`missing` lists the settings)',
    },
  }),
  list: documented({ tag: 'calls', summary: 'List calls, newest first, with filters', query: listQuery, responses: { 200: '{calls, nextCursor}: each call with what it was for (`purpose`), its cost total, outcome verdict ({status, goalMet, summary}) and recording ({url} or null)', 400: 'a bad filter or cursor' } }),
  get: documented({ tag: 'calls', summary: 'One call: status, transcript, tool calls, recording, cost breakdown, outcome, calling-hours override (window, local times, reason)', params: idParams, responses: { 200: 'the call', 404: 'no such call' } }),
  export: documented({ tag: 'calls', summary: 'The whole record as one JSON file: {outcome, call, transcript, toolCalls, cost}', params: idParams, responses: { 200: 'the record', 404: 'no such call' } }),
  events: documented({
    tag: 'calls',
    summary: 'The call timeline as server-sent events: replayed, then live; ends with `event: end`',
    description: 'Honours Last-Event-ID. Browsers use the `token` query parameter from POST /api/calls/{id}/events-token.',
    params: idParams,
    query: z.object({ token: z.string().optional() }),
    responses: { 200: { description: 'text/event-stream', contentType: 'text/event-stream' }, 404: 'no such call' },
  }),
  eventsToken: documented({ tag: 'calls', summary: "A 5-minute URL for one call's event stream, for browsers (EventSource cannot send a header)", params: idParams, responses: { 200: '{token, expiresAt, url}', 404: 'no such call' } }),
  transcript: documented({ tag: 'calls', summary: 'The transcript as plain text, the outcome first', params: idParams, responses: { 200: { description: 'the transcript', contentType: 'text/plain' }, 404: 'no such call' } }),
  recording: documented({ tag: 'calls', summary: 'The call recording (when RECORD_CALLS is on)', params: idParams, responses: { 200: { description: 'MP3 audio', contentType: 'audio/mpeg' }, 404: 'no such call, or no recording (yet)' } }),
  transfer: documented({
    tag: 'calls',
    summary: 'Hand a live call over: cold (connected at once, the AI leaves) or warm (the owner is called and briefed first; back to the callee if not reached). See docs/transfer.md',
    params: idParams,
    body: transferBody,
    responses: {
      200: '{id, status: "transferred", label}: a cold transfer is done',
      202: '{id, status: "dialing"}: a warm transfer has started; its outcome is on the timeline (transfer.completed or transfer.returned)',
      400: 'a bad field, an unknown destination label, or a phone number given as `to` (field named)',
      403: 'the dial policy refuses the destination (field `to`)',
      404: 'no such call',
      409: 'the call is not live or not answered yet, or a transfer is already in progress',
      501: 'the carrier cannot transfer calls',
      502: 'the carrier failed to transfer; the call goes on',
    },
  }),
  redeliver: documented({
    tag: 'calls',
    summary: "Send the call's outcome to CALL_WEBHOOK_URL again (a new delivery, with retries)",
    params: idParams,
    responses: { 202: '{id, webhook}: the delivery has started; its tries show on the timeline', 404: 'no such call', 409: 'no webhook is configured, or the outcome is not worked out yet' },
  }),
  hangup: documented({ tag: 'calls', summary: 'End a live call', params: idParams, responses: { 200: '{id, status, endReason}', 404: 'no such call', 409: 'the call is over' } }),
};

/** The calls API. Every route sits behind bearer auth (registered by the caller). */
export async function callsRoutes(app: FastifyInstance, o: CallsRoutesOptions): Promise<void> {
  const load = async (params: unknown): Promise<CallRow> => {
    const p = idParams.safeParse(params);
    const call = p.success ? await o.calls.get(p.data.id) : undefined;
    if (!call) throw new CallRequestError(404, undefined, 'call not found');
    return call;
  };

  const summary = async (c: CallRow) => ({
    id: c.id,
    status: c.status,
    direction: c.direction,
    to: c.to,
    // The caller's number of an inbound call (an outbound call's `from` is our own number: see GET /:id).
    ...(c.direction === 'inbound' ? { from: c.from } : {}),
    clientId: c.clientId,
    provider: c.provider,
    createdAt: c.createdAt,
    answeredAt: c.answeredAt,
    endedAt: c.endedAt,
    durationSec: durationSec(c),
    answeredBy: c.answeredBy,
    endReason: c.endReason,
    // What the call was for: its runbook, or the first line of its instructions.
    purpose: callPurpose(c, (await o.timeline.listOfType(c.id, 'status'))[0]),
    metadata: readMetadata(c.metadataJson),
  });
  const outcomeOf = async (c: CallRow) => (await o.outcomes?.get(c.id, c.instructions)) ?? null;

  app.post('/api/calls', DOCS.place, async (req, reply) => {
    const key = IdempotentRequests.keyOf(req.headers[IDEMPOTENCY_HEADER]);
    const place = async () => {
      const body = createCallSchema.safeParse(await resolveRunbookRequest(o.runbooks, req.body ?? {}));
      if (!body.success) throw zodError(body.error);
      if (body.data.scheduledAt && o.scheduler) return { status: 201, body: await o.scheduler.schedule(body.data) };
      const call = await o.service.create(body.data);
      return { status: 201, body: { id: call.id, status: call.status, metadata: readMetadata(call.metadataJson), ...(call.endReason ? { endReason: call.endReason, error: call.error } : {}) } };
    };
    if (!key || !o.idempotency) {
      const a = await place();
      return reply.code(a.status).send(a.body);
    }
    const a = await o.idempotency.run(key, req.body ?? {}, place);
    if (a.replayed) reply.header('Idempotent-Replayed', 'true');
    return reply.code(a.status).send(a.body);
  });

  // The history list shows each call's cost: the same breakdown as the call's page, total only.
  const listRow = async (c: CallRow) => {
    const cost = computeCost(c, await o.timeline.listOfType(c.id, 'usage'), o.prices, o.carrierPricePerMinute); // the cost needs only usage events (cached by the repository)
    const outcome = await outcomeOf(c);
    return {
      ...(await summary(c)),
      cost: { total: cost.total, currency: cost.currency },
      outcome: outcome && { status: outcome.status, goalMet: outcome.goalMet, summary: outcome.summary },
      recording: c.recordingPath ? { url: `/api/calls/${c.id}/recording.mp3` } : null,
    };
  };
  const filterOf = (query: unknown) => {
    const q = listQuery.safeParse(query);
    if (!q.success) return { error: `${String(q.error.issues[0].path[0])} ${q.error.issues[0].message}`, field: String(q.error.issues[0].path[0]) };
    const { status, endReason, clientId, q: text, goalMet, direction } = q.data;
    return { filter: { status, endReason, clientId, text: text || undefined, goalMet, direction } };
  };
  await app.register(callRecordsRoutes, { ...o, ...o.records, listRow, filterOf });

  app.get('/api/calls', DOCS.list, async (req, reply) => {
    const q = listQuery.safeParse(req.query);
    if (!q.success) return sendZodError(reply, q.error, 'query');
    let before: { createdAt: string; id: string } | undefined;
    if (q.data.cursor) {
      try {
        before = JSON.parse(Buffer.from(q.data.cursor, 'base64url').toString('utf8'));
        if (typeof before?.createdAt !== 'string' || typeof before?.id !== 'string') throw new Error();
      } catch {
        return sendError(reply, 400, 'cursor is not valid', { field: 'cursor' });
      }
    }
    const { filter } = filterOf(req.query) as { filter: CallFilter };
    const rows = await o.calls.list(q.data.limit + 1, before, filter);
    const page = rows.slice(0, q.data.limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > q.data.limit && last ? Buffer.from(JSON.stringify({ createdAt: last.createdAt, id: last.id })).toString('base64url') : null;
    return { calls: await Promise.all(page.map(listRow)), nextCursor };
  });

  app.get('/api/calls/:id', DOCS.get, async (req) => {
    const call = await load(req.params);
    const events = await o.timeline.list(call.id);
    return {
      ...(await summary(call)),
      from: call.from,
      clientName: call.clientName,
      instructions: call.instructions,
      error: call.error,
      transcript: transcriptEntries(call, events),
      toolCalls: toolCallEntries(events),
      recording: call.recordingPath ? { url: `/api/calls/${call.id}/recording.mp3` } : null,
      transcriptUrl: `/api/calls/${call.id}/transcript.txt`,
      exportUrl: `/api/calls/${call.id}/export.json`,
      cost: computeCost(call, events, o.prices, o.carrierPricePerMinute),
      outcome: await outcomeOf(call),
      callingHoursOverride: callingHoursOverride(events),
    };
  });

  // The whole record as one JSON file: the outcome first, then what was said and done, and the cost.
  app.get('/api/calls/:id/export.json', DOCS.export, async (req, reply) => {
    const call = await load(req.params);
    const events = await o.timeline.list(call.id);
    reply.type('application/json; charset=utf-8').header('Content-Disposition', `attachment; filename="call-${call.id}.json"`);
    return {
      outcome: await outcomeOf(call),
      call: { ...(await summary(call)), from: call.from, clientName: call.clientName, instructions: call.instructions, error: call.error },
      transcript: transcriptEntries(call, events),
      toolCalls: toolCallEntries(events),
      cost: computeCost(call, events, o.prices, o.carrierPricePerMinute),
    };
  });

  app.post('/api/calls/:id/outcome/webhook', DOCS.redeliver, async (req, reply) => {
    const call = await load(req.params);
    const r = await o.service.redeliverOutcome(call.id);
    if (r === 'not-configured') return sendError(reply, 409, 'no webhook is configured (set CALL_WEBHOOK_URL and CALL_WEBHOOK_SECRET)');
    if (r === 'not-ready') return sendError(reply, 409, "the call's outcome is not worked out yet");
    return reply.code(202).send({ id: call.id, webhook: (await outcomeOf(call))?.webhook });
  });

  app.get('/api/calls/:id/events', DOCS.events, async (req, reply) => {
    const call = await load(req.params);
    const lastId = Number(req.headers['last-event-id'] ?? 0);
    await streamTimeline(req, reply, o.timeline, call.id, o.service.isStreaming(call.id) || liveElsewhere(o.timeline, call), Number.isFinite(lastId) && lastId > 0 ? lastId : 0);
    return reply;
  });

  // For browsers: EventSource cannot send the bearer header, so it gets a short-lived URL instead.
  app.post('/api/calls/:id/events-token', DOCS.eventsToken, async (req) => {
    const call = await load(req.params);
    const t = o.streamTokens.issue(call.id);
    return { ...t, url: `/api/calls/${call.id}/events?token=${encodeURIComponent(t.token)}` };
  });

  app.get('/api/calls/:id/transcript.txt', DOCS.transcript, async (req, reply) => {
    const call = await load(req.params);
    reply.type('text/plain; charset=utf-8').header('Content-Disposition', `attachment; filename="call-${call.id}.txt"`);
    return withOutcomeText(renderTranscriptText(call, await o.timeline.list(call.id), call.clientName ?? undefined), (await outcomeOf(call)) ?? undefined);
  });

  app.get('/api/calls/:id/recording.mp3', DOCS.recording, async (req, reply) => {
    const call = await load(req.params);
    if (!call.recordingPath) return sendError(reply, 404, call.status === 'ended' ? 'no recording for this call (yet)' : 'the call is still in progress');
    // Written by whichever node fetched it, renamed into place only when complete (recordings.ts).
    const path = recordFilePath(o.folders.recordings, call.recordingPath);
    const st = await stat(path).catch(() => undefined);
    if (!st) return sendError(reply, 404, 'recording file is missing from RECORDINGS_DIR (with several nodes: is the shared folder mounted on this one?)');
    reply.type('audio/mpeg').header('Content-Length', st.size).header('Content-Disposition', `inline; filename="call-${call.id}.mp3"`);
    return reply.send(createReadStream(path));
  });

  app.post('/api/calls/:id/transfer', DOCS.transfer, async (req, reply) => {
    const call = await load(req.params);
    const body = transferBody.safeParse(req.body ?? {});
    if (!body.success) return sendZodError(reply, body.error);
    const r = await o.service.transfer(call.id, body.data);
    switch (r.status) {
      case 'refused':
        return sendError(reply, r.httpStatus, r.message, { ...(r.field ? { field: r.field } : {}) });
      case 'failed':
        return sendError(reply, 502, r.message);
      case 'dialing':
        return reply.code(202).send({ id: call.id, status: 'dialing' });
      default:
        return reply.code(200).send({ id: call.id, ...r });
    }
  });

  app.post('/api/calls/:id/hangup', DOCS.hangup, async (req) => {
    const call = await load(req.params);
    const after = await o.service.hangup(call.id);
    return { id: after.id, status: after.status, endReason: after.endReason };
  });
}

/** The call was placed outside calling hours on a user's word: the window, the local times, and why. */
function callingHoursOverride(events: Array<{ type: string; data: Record<string, unknown> }>): { window: unknown; local: unknown; reason: unknown } | null {
  const e = events.find((x) => x.type === 'policy.override' && x.data.rule === 'calling-hours');
  return e ? { window: e.data.window, local: e.data.local, reason: e.data.reason ?? null } : null;
}

function durationSec(c: CallRow): number | null {
  if (c.carrierDurationSec !== null) return c.carrierDurationSec;
  if (!c.answeredAt) return null;
  const end = c.endedAt ? Date.parse(c.endedAt) : Date.now();
  return Math.round((end - Date.parse(c.answeredAt)) / 1000);
}

/**
 * With REDIS_URL a call may be running on another node, whose events reach this one through the bus:
 * follow it live unless it ended long enough ago that nothing more can come (the replay ends the stream
 * earlier if it finds the records complete).
 */
function liveElsewhere(timeline: Timeline, call: { status: string; endedAt: string | null }): boolean {
  return timeline.crossNode && mayStillBeRecording(call);
}
