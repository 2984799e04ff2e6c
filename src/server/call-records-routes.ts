import type { FastifyInstance } from 'fastify';
import { sendError } from './errors.js';
import { z } from 'zod';
import { CallRequestError, type CallService } from '../calls/call-service.js';
import { CallCaps, utcDayStart } from '../calls/caps.js';
import type { Settings } from '../config/settings.js';
import type { CallFilter, CallRow, CallsRepo } from '../store/calls-repo.js';
import type { Timeline } from '../records/timeline.js';
import type { PriceTable } from '../records/pricing.js';
import { computeCost } from '../records/cost.js';
import { callsCsv, type ExportedCall } from '../records/call-export.js';
import { deleteCallRecord } from '../records/call-deletion.js';
import type { RecordFolders } from '../records/record-files.js';
import { repeatRequest } from '../records/call-repeat.js';
import { mayStillBeRecording } from '../records/late-records-window.js';
import type { OutcomesRepo } from '../store/outcomes-repo.js';
import { documented } from './openapi.js';

export interface CallRecordsRoutesOptions {
  service: CallService;
  calls: CallsRepo;
  timeline: Timeline;
  prices: PriceTable;
  carrierPricePerMinute: number;
  outcomes?: OutcomesRepo;
  /** Where the calls' recording and transcript files are (RECORDINGS_DIR, TRANSCRIPTS_DIR). */
  folders: RecordFolders;
  /** The caps the overview measures against (0: off). */
  settings: Pick<Settings, 'MAX_CALLS_PER_DAY' | 'MAX_CONCURRENT_CALLS' | 'MAX_COST_PER_DAY_USD' | 'TWILIO_PRICE_PER_MINUTE'>;
  /** Refusals by the dial policy or a cap since a moment (the overview's "refused today"). */
  refusedSince(iso: string): Promise<number>;
  /** The caps' clock (tests inject one). */
  now?: () => Date;
  /** A call as the list shows it (GET /api/calls), for the exports. */
  listRow(c: CallRow): Promise<Omit<ExportedCall, 'instructions' | 'clientName'>>;
  /** The list's filters from a query (GET /api/calls), or the 400 to send. */
  filterOf(query: unknown): { filter: CallFilter } | { error: string; field: string };
}

/** Most calls one export holds (newest first); narrow the filters for older ones. */
export const EXPORT_MAX = 10_000;

const idParams = z.object({ id: z.string().uuid() });
const exportQuery = z.object({
  status: z.string().optional(),
  endReason: z.string().optional(),
  clientId: z.string().optional(),
  q: z.string().optional(),
  goalMet: z.string().optional(),
  direction: z.string().optional(),
});

const DOCS = {
  csv: documented({ tag: 'calls', summary: `The calls list as CSV (the same filters as GET /api/calls; newest first, at most ${EXPORT_MAX})`, query: exportQuery, responses: { 200: { description: 'RFC 4180 CSV, a header row first', contentType: 'text/csv' }, 400: 'a bad filter' } }),
  json: documented({ tag: 'calls', summary: `The calls list as JSON (the same filters as GET /api/calls; newest first, at most ${EXPORT_MAX})`, query: exportQuery, responses: { 200: '{exportedAt, filters, truncated, calls}', 400: 'a bad filter' } }),
  overview: documented({
    tag: 'calls',
    summary: "Today's calls and spend against the daily caps, live calls against MAX_CONCURRENT_CALLS, and calls refused today (the caps' day is UTC)",
    responses: { 200: '{day, calls: {today, max}, spend: {today, max, currency}, live: {now, max}, refused: {today}}: a max of 0 means no cap' },
  }),
  remove: documented({
    tag: 'calls',
    summary: "Delete a call's record: its row, timeline and outcome, its recording and its transcript file",
    description: "Refused while the call is live or its late records (recording, price, outcome) are still arriving. It still counts towards today's caps.",
    params: idParams,
    responses: { 200: '{id, files}: deleted, with the files removed', 404: 'no such call', 409: 'the call is live, or its records are still arriving' },
  }),
  repeat: documented({
    tag: 'calls',
    summary: 'The POST /api/calls body that places this call again with the same settings (the UI\'s "Call again")',
    params: idParams,
    responses: { 200: '{request}', 404: 'no such call', 409: 'an incoming call: there is nothing to repeat' },
  }),
};

/** What the calls list offers besides browsing: exports, the overview, delete and call again. */
export async function callRecordsRoutes(app: FastifyInstance, o: CallRecordsRoutesOptions): Promise<void> {
  const now = o.now ?? (() => new Date());
  const caps = new CallCaps(o.settings, o.calls);
  const load = async (params: unknown): Promise<CallRow> => {
    const p = idParams.safeParse(params);
    const call = p.success ? await o.calls.get(p.data.id) : undefined;
    if (!call) throw new CallRequestError(404, undefined, 'call not found');
    return call;
  };
  const exported = async (query: unknown) => {
    const f = o.filterOf(query);
    if ('error' in f) return f;
    const rows = await o.calls.list(EXPORT_MAX + 1, undefined, f.filter);
    const calls = await Promise.all(rows.slice(0, EXPORT_MAX).map(async (c) => ({ ...(await o.listRow(c)), clientName: c.clientName, instructions: c.instructions })));
    return { calls, truncated: rows.length > EXPORT_MAX, filters: f.filter };
  };
  const stamp = () => now().toISOString().slice(0, 19).replace(/:/g, '-');

  app.get('/api/calls/export.csv', DOCS.csv, async (req, reply) => {
    const r = await exported(req.query);
    if ('error' in r) return sendError(reply, 400, r.error, { field: r.field, code: 'invalid_field' });
    reply.type('text/csv; charset=utf-8').header('Content-Disposition', `attachment; filename="calls-${stamp()}.csv"`);
    if (r.truncated) reply.header('X-Callwright-Truncated', String(EXPORT_MAX));
    return callsCsv(r.calls);
  });

  app.get('/api/calls/export.json', DOCS.json, async (req, reply) => {
    const r = await exported(req.query);
    if ('error' in r) return sendError(reply, 400, r.error, { field: r.field, code: 'invalid_field' });
    reply.type('application/json; charset=utf-8').header('Content-Disposition', `attachment; filename="calls-${stamp()}.json"`);
    return { exportedAt: now().toISOString(), filters: r.filters, truncated: r.truncated, calls: r.calls };
  });

  app.get('/api/calls/overview', DOCS.overview, async () => {
    const at = now();
    const dayStart = utcDayStart(at).toISOString();
    const s = o.settings;
    return {
      day: dayStart.slice(0, 10),
      calls: { today: await o.calls.countCreatedSince(dayStart), max: s.MAX_CALLS_PER_DAY },
      spend: { today: Math.round((await caps.spentToday(at)) * 1e6) / 1e6, max: s.MAX_COST_PER_DAY_USD, currency: 'USD' },
      live: { now: o.service.liveCount, max: s.MAX_CONCURRENT_CALLS },
      refused: { today: await o.refusedSince(dayStart) },
    };
  });

  app.delete('/api/calls/:id', DOCS.remove, async (req, reply) => {
    const call = await load(req.params);
    if (call.status !== 'ended') return sendError(reply, 409, 'the call is live: hang up first, then delete it');
    if (o.service.isStreaming(call.id)) return sendError(reply, 409, "the call's records (recording, price, outcome) are still arriving: try again in a moment");
    // Another node's call: that node may still be writing its late records (it alone knows it is streaming).
    if (call.nodeId && call.nodeId !== o.calls.nodeId && mayStillBeRecording(call) && !(await o.timeline.has(call.id, 'records.complete'))) {
      return sendError(reply, 409, `the call's records (recording, price, outcome) are still arriving on node ${call.nodeId}: try again in a moment`);
    }
    const cost = computeCost(call, await o.timeline.listOfType(call.id, 'usage'), o.prices, o.carrierPricePerMinute);
    const { files } = await deleteCallRecord(o.calls, call, cost.currency === 'USD' ? cost.total : 0, o.folders);
    req.log.info({ event: 'call.deleted', callId: call.id, files: files.length }, 'call record deleted');
    return { id: call.id, files: files.length };
  });

  app.get('/api/calls/:id/repeat', DOCS.repeat, async (req, reply) => {
    const call = await load(req.params);
    if (call.direction === 'inbound') return sendError(reply, 409, 'an incoming call cannot be placed again: start a new call to the caller instead');
    return { request: repeatRequest(call, (await o.timeline.listOfType(call.id, 'status'))[0], await o.outcomes?.request(call.id)) };
  });
}
