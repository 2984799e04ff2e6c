import type { FastifyInstance, FastifyReply } from 'fastify';
import { errorBody, sendError, sendZodError } from './errors.js';
import multipart from '@fastify/multipart';
import { z } from 'zod';
import { ClientExistsError, clientExists, createClient, listClients, slugify } from '../clients/directory.js';
import { isValidClientId } from '../clients/profile.js';
import { KnowledgeError, MAX_K, type KnowledgeBase } from '../knowledge/index.js';
import { shareRuleSchema } from '../knowledge/sharing.js';
import { storeUploadPart } from './uploads.js';
import { documented } from './openapi.js';
import { clientFields, clientProfileRoutes, type ClientProfileRoutesOptions } from './client-profile-routes.js';

export interface ClientsRoutesOptions {
  knowledge: KnowledgeBase;
  clientsDir: string;
  uploadMaxBytes: number;
  topK: number;
  prompt: ClientProfileRoutesOptions['prompt'];
}

const MAX_FILES_PER_UPLOAD = 20;

const createClientSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'may contain only letters, digits, "-" and "_" (at most 64)').optional(),
  name: clientFields.name,
  profile: clientFields.profile.optional(),
  systemPrompt: clientFields.systemPrompt.optional(),
}).strict();

const searchQuery = z.object({
  q: z.string().trim().min(1, 'is required').max(2000),
  k: z.coerce.number().int().min(1).max(MAX_K).optional(),
  mode: z.enum(['lexical', 'vector', 'hybrid']).optional(),
  /** `agent`: only what the call's agent could be given (lookup_context's view); `owner` (default): every passage. */
  view: z.enum(['owner', 'agent']).optional().describe("owner (default): every passage, each saying whether the agent could share it; agent: only those (the sharing rules applied, as lookup_context)"),
});

/** PATCH /api/clients/:id/documents/:docId: what may change about a document (its sharing rule). */
const patchDocumentSchema = z.strictObject({ share: shareRuleSchema }, { error: (i) => (i.code === 'unrecognized_keys' ? `unknown field; only "share" can be changed` : undefined) });

const clientParams = z.object({ id: z.string() });
const documentParams = z.object({ id: z.string(), docId: z.string().max(100) });

/** The routes as the OpenAPI document describes them (GET /api/openapi.json), with the schemas above. */
const DOCS = {
  list: documented({ tag: 'clients', summary: 'The clients, with their document and chunk counts', responses: { 200: '{clients: [{id, name, documents, chunks}]}' } }),
  create: documented({ tag: 'clients', summary: 'Create a client (writes profile.txt and system-prompt.txt)', body: createClientSchema, responses: { 201: 'the client', 400: 'a field is wrong (named in `field`)', 409: 'a client with that id exists' } }),
  documents: documented({ tag: 'clients', summary: "A client's documents with their index status and sharing rule", params: clientParams, responses: { 200: '{documents, sharingErrors}', 404: 'no such client' } }),
  upload: documented({
    tag: 'clients',
    summary: 'Upload documents (multipart, fields named `file`): .pdf .docx .md .txt',
    params: clientParams,
    bodyContentType: 'multipart/form-data',
    responses: { 201: '{documents, errors}: indexed', 202: 'stored; indexed once the database is free', 400: 'no file', 404: 'no such client', 413: 'over UPLOAD_MAX_BYTES', 415: 'not a supported type' },
  }),
  remove: documented({ tag: 'clients', summary: 'Delete a document and its index entries', params: documentParams, responses: { 204: 'deleted', 404: 'no such client or document', 409: 'the profile cannot be deleted here' } }),
  patch: documented({ tag: 'clients', summary: "Set a document's sharing rule", params: documentParams, body: patchDocumentSchema, responses: { 200: '{document}', 400: 'a bad value or an unknown field', 404: 'no such client or document' } }),
  search: documented({ tag: 'clients', summary: "Search a client's documents as the agent would", params: clientParams, query: searchQuery, responses: { 200: '{query, mode, results}', 400: 'a bad query', 404: 'no such client' } }),
};

/** Clients and their documents: create, upload, list, delete, and search as the agent would. */
export async function clientsRoutes(app: FastifyInstance, o: ClientsRoutesOptions): Promise<void> {
  await app.register(clientProfileRoutes, o);
  await app.register(multipart, { throwFileSizeLimit: false, limits: { fileSize: o.uploadMaxBytes, files: MAX_FILES_PER_UPLOAD, fields: 20, parts: MAX_FILES_PER_UPLOAD + 20 } });

  const badRequest = (reply: FastifyReply, error: z.ZodError) => sendZodError(reply, error);
  /** The client id from the path, or a 404 already sent. */
  const existingClient = async (params: unknown, reply: FastifyReply): Promise<string | undefined> => {
    const { id } = clientParams.parse(params);
    if (await clientExists(o.clientsDir, id)) return id;
    await sendError(reply, 404, isValidClientId(id) ? `no client "${id}" in CLIENTS_DIR` : 'client ids contain only letters, digits, "-" and "_"');
    return undefined;
  };
  const knowledgeError = (reply: FastifyReply, err: unknown) => {
    if (err instanceof KnowledgeError) return sendError(reply, err.status, err.message, { ...(err.field ? { field: err.field } : {}) });
    throw err;
  };

  app.get('/api/clients', DOCS.list, async () => {
    const counts = o.knowledge.clientCounts();
    const clients = await listClients(o.clientsDir);
    return { clients: clients.map((c) => ({ ...c, documents: counts.get(c.id)?.documents ?? 0, chunks: counts.get(c.id)?.chunks ?? 0 })) };
  });

  app.post('/api/clients', DOCS.create, async (req, reply) => {
    const body = createClientSchema.safeParse(req.body ?? {});
    if (!body.success) return badRequest(reply, body.error);
    const id = body.data.id ?? slugify(body.data.name);
    if (!id) return sendError(reply, 400, 'id: cannot be made from this name; give an id (letters, digits, "-" and "_")', { field: 'id' });
    try {
      await createClient(o.clientsDir, { ...body.data, id });
    } catch (err) {
      if (err instanceof ClientExistsError) return sendError(reply, 409, err.message, { field: 'id' });
      throw err;
    }
    // The profile is indexed like a document: searchable (and found by lookup_context) from the start.
    await o.knowledge.syncClient(id);
    const counts = o.knowledge.clientCounts().get(id);
    return reply.code(201).send({ id, name: body.data.name, documents: counts?.documents ?? 0, chunks: counts?.chunks ?? 0 });
  });

  app.get('/api/clients/:id/documents', DOCS.documents, async (req, reply) => {
    const id = await existingClient(req.params, reply);
    if (!id) return reply;
    return { documents: o.knowledge.listDocuments(id), sharingErrors: o.knowledge.sharingErrors(id) };
  });

  app.post('/api/clients/:id/documents', DOCS.upload, async (req, reply) => {
    const id = await existingClient(req.params, reply);
    if (!id) return reply;
    if (!req.isMultipart()) return sendError(reply, 415, 'send the files as multipart/form-data, in fields named "file"');
    // Each file is streamed to disk as it arrives (never held whole), checked, and renamed into place.
    const dir = o.knowledge.clientDir(id);
    const stored: string[] = [];
    const rejected: Array<{ file: string; error: string; status: number }> = [];
    let sawFile = false;
    for await (const part of req.parts()) {
      if (part.type !== 'file') continue;
      sawFile = true;
      const outcome = await storeUploadPart(part, dir, o.uploadMaxBytes).catch((err: Error) => {
        req.log.error({ err, clientId: id, file: part.filename }, 'knowledge: upload could not be stored');
        return { ok: false as const, file: part.filename, error: `could not store the file: ${err.message}`, status: 500 };
      });
      if (!outcome.ok) rejected.push(outcome);
      else if (!stored.includes(outcome.name)) stored.push(outcome.name);
    }
    if (!sawFile) return sendError(reply, 400, 'no file in the request (use fields named "file")', { field: 'file' });
    let result: { documents: ReturnType<KnowledgeBase['listDocuments']>; errors: typeof rejected };
    try {
      if (stored.length) await o.knowledge.syncClient(id);
      const docs = o.knowledge.listDocuments(id);
      result = { documents: stored.map((name) => docs.find((d) => d.file === name)).filter((d) => d !== undefined), errors: [] };
    } catch (err) {
      return knowledgeError(reply, err);
    }
    const errors = [...rejected, ...result.errors];
    const out = { documents: result.documents, errors: errors.map((e) => ({ file: e.file, error: e.error })) };
    // Stored but not listed yet: the index's writes wait for a database locked by another process.
    if (stored.length) return reply.code(result.documents.length < stored.length ? 202 : 201).send(out);
    // Nothing stored: the status says why (one reason shared by all files, or a plain 400).
    const statuses = new Set(errors.map((e) => e.status));
    const status = statuses.size === 1 ? [...statuses][0]! : 400;
    return reply.code(status).send({ ...errorBody(status, errors.map((e) => e.error).join('; ')), ...out });
  });

  app.delete('/api/clients/:id/documents/:docId', DOCS.remove, async (req, reply) => {
    const id = await existingClient(req.params, reply);
    if (!id) return reply;
    const { docId } = documentParams.parse(req.params);
    try {
      if (!(await o.knowledge.deleteDocument(id, docId))) return sendError(reply, 404, `client "${id}" has no document "${docId}"`);
    } catch (err) {
      return knowledgeError(reply, err);
    }
    return reply.code(204).send();
  });

  // A document's sharing rule, kept in the client's sharing.txt (see src/knowledge/sharing.ts).
  app.patch('/api/clients/:id/documents/:docId', DOCS.patch, async (req, reply) => {
    const id = await existingClient(req.params, reply);
    if (!id) return reply;
    const { docId } = documentParams.parse(req.params);
    const body = patchDocumentSchema.safeParse(req.body ?? {});
    if (!body.success) return badRequest(reply, body.error);
    let doc;
    try {
      doc = await o.knowledge.setShareRule(id, docId, body.data.share);
    } catch (err) {
      return knowledgeError(reply, err);
    }
    if (!doc) return sendError(reply, 404, `client "${id}" has no document "${docId}"`);
    return { document: doc };
  });

  app.get('/api/clients/:id/search', DOCS.search, async (req, reply) => {
    const id = await existingClient(req.params, reply);
    if (!id) return reply;
    const q = searchQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error);
    try {
      // The owner sees every passage; each says whether the agent could share it (results[].agentCanShare).
      // Another AI agent (MCP) asks for the call agent's view, so `never` passages reach no model.
      const purpose = q.data.view === 'agent' ? 'lookup' : 'review';
      const { mode, results } = await o.knowledge.search(id, q.data.q, { purpose, k: q.data.k ?? o.topK, mode: q.data.mode });
      return { query: q.data.q, mode, results };
    } catch (err) {
      return knowledgeError(reply, err);
    }
  });
}
