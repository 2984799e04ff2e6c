import type { FastifyInstance } from 'fastify';
import { errorBody, sendError, sendZodError } from './errors.js';
import { z } from 'zod';
import type { CallService } from '../calls/call-service.js';
import { documented } from './openapi.js';

const query = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  before: z.coerce.number().int().min(1).optional(),
});

/** GET /api/refusals: the calls the dial policy refused, newest first (behind bearer auth, like /api/calls). */
export async function refusalsRoutes(app: FastifyInstance, o: { service: CallService }): Promise<void> {
  app.get('/api/refusals', documented({ tag: 'calls', summary: 'Calls the dial policy refused, newest first', query, responses: { 200: '{refusals: [{id, at, to, clientId, rule, message}], nextBefore}', 400: 'a bad limit or before' } }), async (req, reply) => {
    const q = query.safeParse(req.query);
    if (!q.success) return sendZodError(reply, q.error, 'query');
    const rows = await o.service.listRefusals(q.data.limit + 1, q.data.before);
    const page = rows.slice(0, q.data.limit);
    return { refusals: page, nextBefore: rows.length > q.data.limit ? page[page.length - 1].id : null };
  });
}
