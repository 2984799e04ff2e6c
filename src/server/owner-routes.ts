import type { FastifyInstance } from 'fastify';
import { errorBody, sendError, sendZodError } from './errors.js';
import { z } from 'zod';
import type { CallsRepo } from '../store/calls-repo.js';
import type { OwnerQuestions } from '../owner/questions.js';
import { documented } from './openapi.js';

export interface OwnerRoutesOptions {
  owner: OwnerQuestions;
  calls: CallsRepo;
}

const idParams = z.object({ id: z.string().uuid() });
const params = z.object({ id: z.string().uuid(), qid: z.string().uuid() });
const answerBody = z.object({
  answer: z.string().trim().min(1, 'must not be empty').max(1000, 'at most 1000 characters'),
  /** Which channel this is: the live call page sends `ui`; anything else answering through the API is `api`. */
  channel: z.enum(['ui', 'api']).default('api'),
}).strict();

const docs = {
  answer: documented({
    tag: 'calls',
    summary: 'Answer a question the agent asked the owner mid-call (ask_owner); the first answer on any channel wins',
    params,
    body: answerBody,
    responses: { 200: '{ok, questionId}: on its way to the agent', 400: 'answer is missing or empty', 404: 'no such call or question', 409: 'the question is closed (answered elsewhere, timed out, withdrawn)' },
  }),
  open: documented({ tag: 'calls', summary: "The call's open questions to the owner", params: idParams, responses: { 200: '{open: [{id, question, askedAt, code}]}', 404: 'no such call' } }),
};

/** The owner answers a question the agent asked mid-call. Behind bearer auth (registered by the caller). */
export async function ownerRoutes(app: FastifyInstance, o: OwnerRoutesOptions): Promise<void> {
  app.post('/api/calls/:id/questions/:qid/answer', docs.answer, async (req, reply) => {
    const p = params.safeParse(req.params);
    if (!p.success || !(await o.calls.get(p.data.id))) {
      const field = p.success ? 'id' : String(p.error.issues[0].path[0]);
      return sendError(reply, 404, field === 'qid' ? 'no such question' : 'call not found', { field });
    }
    const body = answerBody.safeParse(req.body ?? {});
    if (!body.success) return sendZodError(reply, body.error, 'answer');
    const r = o.owner.answer(p.data.id, p.data.qid, body.data.answer, body.data.channel);
    if ('error' in r) return sendError(reply, r.status, r.error, { field: 'qid' });
    return { ok: true, questionId: p.data.qid };
  });

  app.get('/api/calls/:id/questions', docs.open, async (req, reply) => {
    const p = idParams.safeParse(req.params);
    if (!p.success || !(await o.calls.get(p.data.id))) return sendError(reply, 404, 'call not found');
    return { open: o.owner.openQuestions(p.data.id).map((q) => ({ id: q.id, question: q.question, askedAt: q.askedAt, code: q.code })) };
  });
}
