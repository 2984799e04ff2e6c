import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createCampaignSchema } from '../campaigns/campaign-schema.js';
import type { CampaignChange, CampaignService } from '../campaigns/campaign-service.js';
import { ApiError, zodError } from './errors.js';
import { documented } from './openapi.js';

const idParams = z.object({ id: z.string().uuid() });
const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) });
const HEARTBEAT_MS = 15_000;
const SHAPE = '{id, name, status, createdAt, updatedAt, total, runbook, instructions, clientId, callingHours, timezone, concurrency, retries, voicemail, progress: {total, pending, inFlight, done, answered?, voicemail?, busy?, no-answer?, failed?, refused?, interrupted?, cancelled?}}';
const NUMBER_SHAPE = '{index, to, variables, timezone, state, outcome, attempts, nextAt, callId, callIds, endReason, detail, updatedAt}';

const idOf = (params: unknown): string => {
  const p = idParams.safeParse(params);
  if (!p.success) throw new ApiError(404, 'campaign not found', { code: 'not_found' });
  return p.data.id;
};

/** Campaigns: many numbers, one plan (docs/campaigns.md). Behind bearer auth. */
export async function campaignRoutes(app: FastifyInstance, o: { campaigns: CampaignService }): Promise<void> {
  const { campaigns } = o;
  app.post(
    '/api/campaigns',
    documented({
      tag: 'campaigns',
      summary: 'Start a campaign: one runbook or instructions template, many numbers (JSON `numbers` or CSV text `csv`)',
      description:
        'Every number is checked first (a real number, not twice in the list, its variables complete); a problem is a 400 naming the field, or for CSV the row and column. Numbers are then dialled up to `concurrency` at a time, inside `callingHours` in each callee\'s local time, through the same checks as POST /api/calls (dial policy, do-not-call, calling hours, caps). No answer and busy are tried again after `retries.backoffSeconds`, growing by `backoffFactor`. Progress: GET /api/campaigns/{id}, live at /api/campaigns/{id}/events.',
      body: createCampaignSchema,
      responses: {
        201: { description: `the campaign, status active: ${SHAPE}`, schema: z.object({ id: z.string(), status: z.string() }) },
        400: 'a field is missing or wrong (named in `field`; a CSV problem names its row and column in the message)',
        404: 'unknown runbook',
        422: 'the runbook has problems',
        503: 'Callwright is not configured to place calls (`missing` lists the settings)',
      },
    }),
    async (req, reply) => {
      const body = createCampaignSchema.safeParse(req.body ?? {});
      if (!body.success) throw zodError(body.error);
      return reply.code(201).send(await campaigns.create(body.data));
    },
  );

  app.get('/api/campaigns', documented({ tag: 'campaigns', summary: 'Campaigns, newest first, with their progress', query: listQuery, responses: { 200: `{campaigns: [${SHAPE}]}`, 400: 'a bad limit' } }), async (req) => {
    const q = listQuery.safeParse(req.query);
    if (!q.success) throw zodError(q.error, 'query');
    return { campaigns: await campaigns.list(q.data.limit) };
  });

  app.get('/api/campaigns/:id', documented({ tag: 'campaigns', summary: 'One campaign: its progress and every number with its outcome', params: idParams, responses: { 200: `${SHAPE} with numbers: [${NUMBER_SHAPE}]`, 404: 'no such campaign' } }), async (req) => {
    const id = idOf(req.params);
    return { ...(await campaigns.get(id)), numbers: await campaigns.numbers(id) };
  });

  for (const [action, summary, refusal] of [
    ['pause', 'Pause: no new number is dialled; calls in progress finish', 'it is not active'],
    ['resume', 'Resume a paused campaign', 'it is not paused'],
    ['cancel', 'Cancel: numbers not dialled yet are cancelled; calls in progress finish', 'it is over already'],
  ] as const) {
    app.post(`/api/campaigns/:id/${action}`, documented({ tag: 'campaigns', summary, params: idParams, responses: { 200: SHAPE, 404: 'no such campaign', 409: refusal } }), async (req) => campaigns[action](idOf(req.params)));
  }

  app.get(
    '/api/campaigns/:id/results.csv',
    documented({ tag: 'campaigns', summary: 'Every number with its outcome as CSV: row, to, the variables, state, outcome, attempts, end_reason, call_id, call_ids, detail, updated_at', params: idParams, responses: { 200: { description: 'CSV', contentType: 'text/csv' }, 404: 'no such campaign' } }),
    async (req, reply) => {
      const id = idOf(req.params);
      const csv = await campaigns.resultsCsv(id);
      return reply.header('Content-Type', 'text/csv; charset=utf-8').header('Content-Disposition', `attachment; filename="campaign-${id}.csv"`).send(csv);
    },
  );

  app.get(
    '/api/campaigns/:id/events',
    documented({
      tag: 'campaigns',
      summary: "The campaign's progress as server-sent events: `numbers` (every number) and `campaign` (the campaign with its progress) at once, then `campaign` on every change with `number` before it for a number that changed; ends with `event: end` once the campaign is over and no call is in flight",
      description: 'The first two events are the whole state, read in turn with the changes: a change made before them is in them and every later one follows them. A client that connects or reconnects replaces what it holds with them, applies each later event in order, and misses nothing.',
      params: idParams,
      responses: { 200: { description: 'text/event-stream', contentType: 'text/event-stream' }, 404: 'no such campaign' },
    }),
    async (req, reply) => {
      const id = idOf(req.params);
      await campaigns.get(id); // an unknown campaign is a 404, before the stream starts
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
      const over = (c: CampaignChange['campaign']) => (c.status === 'completed' || c.status === 'cancelled') && c.progress.inFlight === 0 && (c.status === 'cancelled' || c.progress.pending === 0);
      const write = (event: string, data: unknown) => void (res.writableEnded || res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
      const stop = () => {
        unwatch();
        clearInterval(heartbeat);
      };
      const finish = () => {
        stop();
        if (!res.writableEnded) {
          write('end', {});
          res.end();
        }
      };
      res.write('retry: 2000\n\n');
      const unwatch = campaigns.watch(id, {
        snapshot: ({ campaign, numbers }) => {
          write('numbers', numbers);
          write('campaign', campaign);
          if (over(campaign)) finish();
        },
        change: ({ campaign, number }) => {
          if (number) write('number', number);
          write('campaign', campaign);
          if (over(campaign)) finish();
        },
        failed: (err) => {
          req.log.warn({ event: 'campaign.watchFailed', campaignId: id, err }, 'campaigns: the live stream could not read the campaign; the client reconnects');
          stop();
          res.end(); // no `end` event: the browser reconnects after `retry`
        },
      });
      req.raw.on('close', stop);
    },
  );
}
