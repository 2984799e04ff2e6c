import type { FastifyInstance, FastifyReply } from 'fastify';
import { sendError } from './errors.js';
import { z } from 'zod';
import { clientExists } from '../clients/directory.js';
import { joinProfile, readClientDetails, removeClientFolder, updateClientDetails } from '../clients/editor.js';
import { isValidClientId, loadClientProfile } from '../clients/profile.js';
import { buildSystemPrompt, type ReferenceExcerpt } from '../calls/prompt.js';
import type { KnowledgeBase } from '../knowledge/index.js';
import { documented } from './openapi.js';

export interface ClientProfileRoutesOptions {
  knowledge: KnowledgeBase;
  clientsDir: string;
  topK: number;
  /** The settings that shape every call's prompt (the preview must match what a call gets). */
  prompt: { recordingAnnounced: boolean; discloseAi: boolean; askOwnerAvailable: boolean };
}

/** The fields a client is made of, shared by create (POST /api/clients) and edit (PATCH). */
export const clientFields = {
  name: z.string().trim().min(1, 'is required').max(200).regex(/^[^\n\r\u0000-\u001f]*$/, 'must be one line'),
  // The name goes in `name`, which writes the profile's `Full Name:` line: a second one would make two names.
  profile: z.string().max(100_000).refine((p) => !/^\s*Full Name:/im.test(p), 'has a "Full Name:" line: put the name in `name` instead'),
  systemPrompt: z.string().max(100_000),
};

const unknownField = (i: { code: string }) => (i.code === 'unrecognized_keys' ? 'unknown field; only name, profile and systemPrompt can be changed' : undefined);
const patchSchema = z.strictObject({ name: clientFields.name.optional(), profile: clientFields.profile.optional(), systemPrompt: clientFields.systemPrompt.optional() }, { error: unknownField });
const previewSchema = z.strictObject(
  {
    /** The task to preview with; a placeholder when empty. */
    instructions: z.string().max(8000, 'is longer than 8000 characters').optional(),
    /** Unsaved edits: the preview shows what the agent would get once they are saved. */
    name: clientFields.name.optional(),
    profile: clientFields.profile.optional(),
    systemPrompt: clientFields.systemPrompt.optional(),
    /** A call to the client's number, answered for them (docs/inbound.md). */
    inbound: z.boolean().optional(),
  },
  { error: (i) => (i.code === 'unrecognized_keys' ? 'unknown field; the preview takes instructions, name, profile, systemPrompt and inbound' : undefined) },
);
const params = z.object({ id: z.string() });

const SAMPLE_INSTRUCTIONS = '(the instructions of the call go here)';

const DOCS = {
  get: documented({ tag: 'clients', summary: "A client's name, profile and system-prompt override", params, responses: { 200: '{id, name, profile, systemPrompt, documents, chunks}', 404: 'no such client' } }),
  patch: documented({
    tag: 'clients',
    summary: "Edit a client: rename (`name`), the profile, or the system-prompt override (empty: the built-in template)",
    description: 'The client id (its folder) stays; calls made before keep the name they were made under.',
    params,
    body: patchSchema,
    responses: { 200: 'the client', 400: 'a bad value or an unknown field (named in `field`)', 404: 'no such client' },
  }),
  remove: documented({
    tag: 'clients',
    summary: 'Delete a client with its folder: profile, prompt, sharing rules and every document (and their index entries)',
    description: 'Calls made for the client keep their records (with the name they were made under).',
    params,
    responses: { 200: '{id, documents}: deleted, with how many documents went with it', 404: 'no such client' },
  }),
  preview: documented({
    tag: 'clients',
    summary: 'The system prompt a call for this client would get (built as a call builds it), optionally with unsaved edits',
    params,
    body: previewSchema,
    responses: { 200: '{prompt, instructions, reference: [{file, page}]}', 400: 'a bad value or an unknown field (named in `field`)', 404: 'no such client' },
  }),
};

/** One client: read, edit (rename, profile, prompt), delete, and preview the prompt its calls get. */
export async function clientProfileRoutes(app: FastifyInstance, o: ClientProfileRoutesOptions): Promise<void> {
  const badRequest = (reply: FastifyReply, issues: z.core.$ZodIssue[]) => {
    const first = issues[0]!;
    const field = String(first.path[0] ?? (first.code === 'unrecognized_keys' ? first.keys[0] : undefined) ?? 'body');
    return sendError(reply, 400, `${field}: ${first.message}`, { field, code: first.code === 'unrecognized_keys' ? 'unknown_field' : 'invalid_field' });
  };
  const existing = async (raw: unknown, reply: FastifyReply): Promise<string | undefined> => {
    const { id } = params.parse(raw);
    if (await clientExists(o.clientsDir, id)) return id;
    await sendError(reply, 404, isValidClientId(id) ? `no client "${id}" in CLIENTS_DIR` : 'client ids contain only letters, digits, "-" and "_"');
    return undefined;
  };
  const withCounts = (d: { id: string }) => {
    const c = o.knowledge.clientCounts().get(d.id);
    return { ...d, documents: c?.documents ?? 0, chunks: c?.chunks ?? 0 };
  };

  app.get('/api/clients/:id', DOCS.get, async (req, reply) => {
    const id = await existing(req.params, reply);
    if (!id) return reply;
    return withCounts(await readClientDetails(o.clientsDir, id));
  });

  app.patch('/api/clients/:id', DOCS.patch, async (req, reply) => {
    const id = await existing(req.params, reply);
    if (!id) return reply;
    const body = patchSchema.safeParse(req.body ?? {});
    if (!body.success) return badRequest(reply, body.error.issues);
    const details = await updateClientDetails(o.clientsDir, id, body.data);
    // The profile is a document too: searchable, and found by lookup_context, as edited.
    if (body.data.name !== undefined || body.data.profile !== undefined) await o.knowledge.syncClient(id);
    req.log.info({ event: 'client.updated', clientId: id, fields: Object.keys(body.data) }, 'client edited');
    return withCounts(details);
  });

  app.delete('/api/clients/:id', DOCS.remove, async (req, reply) => {
    const id = await existing(req.params, reply);
    if (!id) return reply;
    const report = await o.knowledge.deleteClient(id, () => removeClientFolder(o.clientsDir, id));
    req.log.info({ event: 'client.deleted', clientId: id, documents: report.removed.length }, 'client deleted');
    return { id, documents: report.removed.length };
  });

  app.post('/api/clients/:id/prompt', DOCS.preview, async (req, reply) => {
    const id = await existing(req.params, reply);
    if (!id) return reply;
    const body = previewSchema.safeParse(req.body ?? {});
    if (!body.success) return badRequest(reply, body.error.issues);
    const { instructions: given, inbound, ...edits } = body.data;
    const saved = await loadClientProfile(o.clientsDir, id);
    const current = await readClientDetails(o.clientsDir, id);
    const name = edits.name ?? current.name;
    const systemPrompt = edits.systemPrompt ?? current.systemPrompt;
    const client = { ...saved, name, profile: joinProfile(name, edits.profile ?? current.profile).trim(), systemPromptTemplate: systemPrompt.trim() || undefined };
    const instructions = given?.trim() || SAMPLE_INSTRUCTIONS;
    // As a call does: the passages retrieved for the instructions (none for the placeholder).
    let reference: ReferenceExcerpt[] = [];
    if (given?.trim()) reference = await o.knowledge.search(id, instructions, { purpose: 'prompt', k: o.topK }).then((r) => r.results, () => []);
    const prompt = buildSystemPrompt({ instructions, client, reference, lookupAvailable: true, inbound, ...o.prompt });
    return { prompt, instructions, reference: reference.map((r) => ({ file: r.file, page: r.page })) };
  });
}
