import type { FastifyInstance } from 'fastify';
import { errorBody, sendError, sendZodError } from './errors.js';
import { z } from 'zod';
import type { RunbookLibrary } from '../runbooks/runbook-library.js';
import { RUNBOOK_NAME_RE } from '../runbooks/runbook-schema.js';
import { documented } from './openapi.js';

const nameParams = z.object({ name: z.string().regex(RUNBOOK_NAME_RE) });

/** The runbooks API: what a call can be made from, and what is wrong with a runbook that cannot. */
export async function runbooksRoutes(app: FastifyInstance, o: { library: RunbookLibrary }): Promise<void> {
  app.get('/api/runbooks', documented({ tag: 'runbooks', summary: 'The runbooks in RUNBOOKS_DIR, each valid or with its problems by line', responses: { 200: '{runbooks: [{name, file, valid, problems, title, goal, variables}]}' } }), async () => {
    const entries = await o.library.list();
    return {
      runbooks: entries.map((e) => ({
        name: e.name,
        file: e.file,
        valid: e.problems.length === 0,
        problems: e.problems,
        ...(e.runbook ? { title: e.runbook.title, description: e.runbook.description ?? null, goal: e.runbook.goal, variables: e.runbook.variables } : {}),
      })),
    };
  });

  app.get('/api/runbooks/:name', documented({ tag: 'runbooks', summary: 'One runbook in full (body and outcome schema), or its problems', params: nameParams, responses: { 200: 'the runbook', 400: 'not a runbook name', 404: 'no such runbook' } }), async (req, reply) => {
    const p = nameParams.safeParse(req.params);
    if (!p.success) return sendError(reply, 400, 'name: runbook names are lower-case letters, digits and "-"', { field: 'name' });
    const found = await o.library.get(p.data.name);
    if ('runbook' in found) return { ...found.runbook, valid: true, problems: [] };
    if ('missing' in found) return sendError(reply, 404, found.problems[0].message);
    return { name: p.data.name, valid: false, problems: found.problems };
  });
}
