import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import websocket from '@fastify/websocket';
import type { Settings } from '../config/settings.js';
import { CallRequestError, CallService } from '../calls/call-service.js';
import { openDatabase, type Db } from '../store/database.js';
import { CallsRepo } from '../store/calls-repo.js';
import { EventsRepo } from '../store/events-repo.js';
import { Timeline } from '../records/timeline.js';
import { loadPriceTable } from '../records/pricing.js';
import { TwilioCarrier } from '../telephony/twilio/carrier.js';
import { twilioRoutes } from '../telephony/twilio/routes.js';
import type { Carrier } from '../telephony/carrier.js';
import { engineFactories } from '../voice/registry.js';
import { ToolRegistry } from '../tools/registry.js';
import { endCallTool } from '../tools/end-call.js';
import { sendDtmfTool } from '../tools/send-dtmf.js';
import { waitOnHoldTool } from '../tools/wait-on-hold.js';
import { lookupContextTool } from '../tools/lookup-context.js';
import { transferCallTool } from '../tools/transfer-call.js';
import { askOwnerTool } from '../tools/ask-owner.js';
import { OwnerQuestions } from '../owner/questions.js';
import { ownerWebhookFromSettings, smsChannel, uiChannel } from '../owner/channels.js';
import type { OwnerChannel } from '../owner/owner-channel.js';
import { ownerRoutes } from './owner-routes.js';
import { bearerAuth, StreamTokens } from './auth.js';
import { callsRoutes } from './calls-routes.js';
import { documented, OpenApiCollector } from './openapi.js';
import { runbooksRoutes } from './runbooks-routes.js';
import { RunbookLibrary } from '../runbooks/runbook-library.js';
import { webUi } from './web-ui.js';
import { uiNotBuiltPage } from './home.js';
import { join } from 'node:path';
import { loggerOptions } from './logging.js';
import { registerHardening } from './hardening.js';
import { refusalsRoutes } from './refusals-routes.js';
import { setupRoutes } from './setup-routes.js';
import { secureDataDir } from '../store/data-dir.js';
import { KnowledgeBase } from '../knowledge/index.js';
import { createEmbedder } from '../knowledge/embeddings/embedder.js';
import { watchClients } from '../knowledge/watcher.js';
import { clientsRoutes } from './clients-routes.js';
import { serverStatus } from './status.js';
import { outcomeDeps } from '../outcome/setup.js';
import { mcpRoutes } from '../mcp/http-route.js';

export interface AppOptions {
  settings: Settings;
  apiToken: string;
  /** Tests pass a quieter logger or a shorter retry schedule. */
  logger?: boolean | object;
  recordingRetry?: { attempts: number; firstDelayMs: number };
  streamTimeoutMs?: number;
  pricePollMs?: number[];
  /** The clock for calling hours and daily caps (tests inject one). */
  now?: () => Date;
  /** The built web UI (default web/dist); tests point it elsewhere to see the not-built page. */
  webDir?: string;
  /** Pauses between the outcome webhook's tries (tests shorten them). */
  webhookRetryDelaysMs?: number[];
}

export interface App {
  server: FastifyInstance;
  /** The routes as registered and the OpenAPI document built from their RouteDocs. */
  openapi: OpenApiCollector;
  service: CallService;
  db: Db;
  knowledge: KnowledgeBase;
  close(): Promise<void>;
}

export const VERSION = '0.1.0';

/** Builds the whole server: store, carrier, engines, tools, routes. Nothing listens until `listen`. */
export async function buildApp(o: AppOptions): Promise<App> {
  const s = o.settings;
  const server = Fastify({
    logger: o.logger ?? loggerOptions(s.LOG_LEVEL, s.LOG_SENSITIVE),
    bodyLimit: 256 * 1024,
    trustProxy: false,
    // Errors the router raises before any route runs. Its own message for a bad path echoes the whole URL
    // (query and token included): answer with the field instead.
    frameworkErrors: (err, _req, res) => {
      const reply = res as FastifyReply;
      if (err.code === 'FST_ERR_BAD_URL') return reply.code(400).send({ error: 'path: malformed %-escape in the URL path (a % must start a %XX escape of valid UTF-8)', field: 'path' });
      return reply.code(err.statusCode && err.statusCode < 500 ? err.statusCode : 400).send({ error: 'bad request' });
    },
  });
  // Every route, as registered, for the OpenAPI document (GET /api/openapi.json).
  const openapi = new OpenApiCollector();
  server.addHook('onRoute', openapi.onRoute);
  secureDataDir(s.DATA_DIR);
  const db = openDatabase(join(s.DATA_DIR, 'callwright.db'));
  const calls = new CallsRepo(db);
  const timeline = new Timeline(new EventsRepo(db, (msg, fields) => server.log.warn({ event: 'timeline.store', ...fields }, msg)));
  const prices = loadPriceTable(s.PRICES_FILE);
  const outcome = outcomeDeps(s, db, { webhookRetryDelaysMs: o.webhookRetryDelaysMs });
  const parserLimits = { memoryMb: s.PARSER_MEMORY_MB, maxFileBytes: s.PARSER_MAX_FILE_BYTES, maxPages: s.PARSER_MAX_PAGES, maxUncompressedBytes: s.PARSER_MAX_UNCOMPRESSED_BYTES, timeoutMs: s.PARSER_TIMEOUT_MS };
  const knowledge = new KnowledgeBase({ db, clientsDir: s.CLIENTS_DIR, embedder: createEmbedder(s), log: server.log, parserLimits });
  const carrier: Carrier | undefined =
    s.TWILIO_ACCOUNT_SID && s.TWILIO_AUTH_TOKEN ? new TwilioCarrier({ accountSid: s.TWILIO_ACCOUNT_SID, authToken: s.TWILIO_AUTH_TOKEN, apiUrl: s.TWILIO_API_URL }) : undefined;
  // ask_owner: the live call page always; SMS and a webhook when configured (docs/ask-owner.md).
  const ownerChannels: OwnerChannel[] = [uiChannel];
  if (s.OWNER_PHONE && carrier?.sendMessage && s.TWILIO_FROM_NUMBER) ownerChannels.push(smsChannel({ carrier, ownerPhone: s.OWNER_PHONE, from: s.TWILIO_FROM_NUMBER }));
  const ownerWebhook = ownerWebhookFromSettings(s);
  if (ownerWebhook) ownerChannels.push(ownerWebhook);
  const owner = new OwnerQuestions(ownerChannels, (channel) => server.log.warn({ event: 'owner.deliveryFailed', channel }, 'a question to the owner could not be delivered on one channel (the reason is on the call timeline)'));
  const service = new CallService({
    owner,
    settings: s,
    db,
    calls,
    timeline,
    carrier,
    engines: engineFactories(s),
    tools: new ToolRegistry([endCallTool, sendDtmfTool, waitOnHoldTool, transferCallTool, askOwnerTool, lookupContextTool(knowledge, { topK: s.KNOWLEDGE_TOP_K })]),
    knowledge,
    log: server.log,
    recordingRetry: o.recordingRetry,
    streamTimeoutMs: o.streamTimeoutMs,
    pricePollMs: o.pricePollMs,
    prices,
    now: o.now,
    outcome,
  });

  server.setErrorHandler((err, req, reply) => {
    if (err instanceof CallRequestError) {
      if (err.policy?.retryAfterSec) reply.header('Retry-After', String(err.policy.retryAfterSec));
      return reply.code(err.status).send({ error: err.message, ...(err.field ? { field: err.field } : {}), ...(err.missing ? { missing: err.missing } : {}), ...(err.policy ? { rule: err.policy.rule } : {}) });
    }
    const e = err as { statusCode?: number; message: string; field?: unknown };
    if (e.statusCode && e.statusCode < 500) return reply.code(e.statusCode).send({ error: e.message, ...(typeof e.field === 'string' ? { field: e.field } : {}) });
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal error' });
  });

  await registerHardening(server, { settings: s, apiToken: o.apiToken, inlinePages: { '/': uiNotBuiltPage(VERSION) } });
  // Above the codec's 64 KiB frame limit, so an oversized frame is dropped and counted like any other
  // malformed frame instead of closing the stream (and ending the call); beyond this, ws closes it (1009).
  await server.register(websocket, { options: { maxPayload: 1024 * 1024 } });
  await server.register(twilioRoutes, {
    authToken: s.TWILIO_AUTH_TOKEN,
    publicUrl: s.PUBLIC_URL,
    handlers: {
      streamParamsFor: (callId, sid) => service.streamParamsFor(callId, sid),
      onCarrierEvent: (callId, sid, ev, key) => service.onCarrierEvent(callId, sid, ev, key),
      authorizeStream: (req, transport) => service.authorizeStream(req, transport),
      transferLeg: service.transferLegs,
      onInboundMessage: async (msg) => {
        // Only the owner's phone answers questions; anyone else texting our number gets no reply.
        if (!s.OWNER_PHONE || msg.from !== s.OWNER_PHONE) {
          server.log.info({ event: 'sms.ignored' }, 'text message from a number that is not OWNER_PHONE ignored');
          return undefined;
        }
        const q = owner.answerReply(msg.body, 'sms');
        return q ? `Thanks, passed on: "${q.question.slice(0, 60)}${q.question.length > 60 ? '…' : ''}"` : 'There is no open question from Callwright right now.';
      },
      incomingCall: (call) => service.incomingCall(call),
    },
  });

  await server.register(async (api) => {
    const streamTokens = new StreamTokens(o.apiToken);
    api.addHook('onRequest', bearerAuth(o.apiToken, streamTokens));
    await api.register(clientsRoutes, { knowledge, clientsDir: s.CLIENTS_DIR, uploadMaxBytes: s.UPLOAD_MAX_BYTES, topK: s.KNOWLEDGE_TOP_K });
    const runbooks = new RunbookLibrary(s.RUNBOOKS_DIR);
    await api.register(callsRoutes, { service, calls, timeline, prices, carrierPricePerMinute: s.TWILIO_PRICE_PER_MINUTE, streamTokens, runbooks, outcomes: outcome.repo });
    await api.register(runbooksRoutes, { library: runbooks });
    await api.register(refusalsRoutes, { service });
    await api.register(ownerRoutes, { owner, calls });
    await api.register(setupRoutes, { settings: s, carrier });
    api.get(
      '/api/status',
      documented({ tag: 'system', summary: 'What is configured (never a secret) and what is missing to place calls', responses: { 200: 'version, carrier, engines, safety, knowledge, missing settings' } }),
      async () => serverStatus(s, carrier, service.liveCount, VERSION),
    );
    // MCP over streamable HTTP, behind the same bearer token; its tools call the routes above.
    await api.register(mcpRoutes, { root: server, apiToken: o.apiToken, version: VERSION });
  });

  await server.register(webUi, { webDir: o.webDir, version: VERSION });
  server.get('/healthz', documented({ tag: 'system', auth: 'none', summary: 'Liveness: the server answers', responses: { 200: '{ok: true}' } }), async () => ({ ok: true }));
  // The contract is public: it holds no data, and tools that generate clients fetch it without a token.
  server.get(
    '/api/openapi.json',
    documented({ tag: 'system', auth: 'none', summary: 'This API as an OpenAPI 3.1 document, built from the schemas that validate each request', responses: { 200: 'the OpenAPI document' } }),
    async () => openapi.document(VERSION),
  );

  await service.recoverAfterRestart();

  // The index catches up with CLIENTS_DIR in the background: listening does not wait for parsing.
  let closing = false;
  const syncFailed = (clientId?: string) => (err: unknown) => closing || server.log.error({ err, clientId }, 'knowledge: sync failed');
  const syncClient = (id: string) => void knowledge.syncClient(id).catch(syncFailed(id));
  const syncAll = () => void knowledge.syncAll().catch(syncFailed());
  syncAll();
  const watcher = s.KNOWLEDGE_WATCH ? watchClients({ clientsDir: s.CLIENTS_DIR, onClientChanged: syncClient, onUnknownChange: syncAll, log: server.log }) : undefined;

  return {
    server,
    openapi,
    service,
    db,
    knowledge,
    async close() {
      closing = true;
      watcher?.close();
      await service.shutdown();
      await server.close();
      await knowledge.close();
      // Events deferred by a locked database: no call is live any more, so waiting on the lock is fine.
      const unwritten = timeline.flush(5000);
      if (unwritten) server.log.error({ event: 'timeline.unwritten', events: unwritten }, 'timeline events could not be stored before shutdown');
      db.close();
    },
  };
}
