import type { FastifyInstance } from 'fastify';
import { sendZodError } from './errors.js';
import { z } from 'zod';
import { CallRequestError } from '../calls/call-request.js';
import type { CallScheduler } from '../calls/scheduler.js';
import { SCHEDULED_CALL_STATUSES } from '../shared/scheduled-call-types.js';
import { documented } from './openapi.js';

const idParams = z.object({ id: z.string().uuid() });
const query = z.object({
  /** `scheduled`: the calls still waiting, the next one first. Without it: every scheduled call, latest first. */
  status: z.enum(SCHEDULED_CALL_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const SHAPE = '{id, scheduledAt, status, to, clientId, instructions, runbook, provider, overrideCallingHours, overrideReason, callId, reason, createdAt, updatedAt}';

/** Calls set for later (POST /api/calls with `scheduledAt`): listed and cancelled here. Behind bearer auth. */
export async function scheduledCallsRoutes(app: FastifyInstance, o: { scheduler: CallScheduler }): Promise<void> {
  app.get(
    '/api/scheduled-calls',
    documented({ tag: 'calls', summary: 'Scheduled calls: `?status=scheduled` lists those still waiting, the next first', query, responses: { 200: `{scheduledCalls: [${SHAPE}]}`, 400: 'a bad status or limit' } }),
    async (req, reply) => {
      const q = query.safeParse(req.query);
      if (!q.success) return sendZodError(reply, q.error, 'query');
      return { scheduledCalls: await o.scheduler.list(q.data.status, q.data.limit) };
    },
  );

  app.get('/api/scheduled-calls/:id', documented({ tag: 'calls', summary: 'One scheduled call: its status, and the call it became or why not', params: idParams, responses: { 200: SHAPE, 404: 'no such scheduled call' } }), async (req) => {
    const p = idParams.safeParse(req.params);
    const row = p.success ? await o.scheduler.get(p.data.id) : undefined;
    if (!row) throw new CallRequestError(404, undefined, 'scheduled call not found');
    return row;
  });

  app.post(
    '/api/scheduled-calls/:id/cancel',
    documented({ tag: 'calls', summary: 'Cancel a scheduled call that has not dialled yet (it stays listed, status `cancelled`)', params: idParams, responses: { 200: SHAPE, 404: 'no such scheduled call', 409: 'it is dialling or done already' } }),
    async (req) => {
      const p = idParams.safeParse(req.params);
      if (!p.success) throw new CallRequestError(404, undefined, 'scheduled call not found');
      return await o.scheduler.cancel(p.data.id);
    },
  );
}
