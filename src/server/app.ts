import { callPricer } from '../calls/call-cost.js';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import websocket from '@fastify/websocket';
import { trustProxyOption, type Settings } from '../config/settings.js';
import { CallRequestError, CallService } from '../calls/call-service.js';
import { openDatabase, type Db } from '../store/database.js';
import { openStore } from '../store/open-store.js';
import { SessionsRepo } from '../store/sessions-repo.js';
import { CallsRepo } from '../store/calls-repo.js';
import { EventsRepo } from '../store/events-repo.js';
import { Timeline } from '../records/timeline.js';
import { loadPriceTable } from '../records/pricing.js';
import { TwilioCarrier } from '../telephony/twilio/carrier.js';
import { twilioRoutes, type TwilioRoutesOptions } from '../telephony/twilio/routes.js';
import { nodePath } from '../cluster/node-urls.js';
import type { Carrier } from '../telephony/carrier.js';
import { engineFactories, withEnginePrices } from '../voice/registry.js';
import { ToolRegistry } from '../tools/registry.js';
import { checkDestination } from '../calls/policy.js';
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
import { apiAuth, StreamTokens } from './auth.js';
import { BrowserSessions } from './sessions.js';
import { sessionRoutes, signInRoute } from './session-routes.js';
import { callsRoutes } from './calls-routes.js';
import { IdempotentRequests } from './idempotency.js';
import { IdempotencyRepo } from '../store/idempotency-repo.js';
import { documented, OpenApiCollector } from './openapi.js';
import { runbooksRoutes } from './runbooks-routes.js';
import { RunbookLibrary } from '../runbooks/runbook-library.js';
import { webUi } from './web-ui.js';
import { uiNotBuiltPage } from './home.js';
import { join } from 'node:path';
import { loggerOptions, QuietRequestLogs } from './logging.js';
import type { Logger } from 'pino';
import { registerHardening } from './hardening.js';
import { ApiError, frameworkError, sendError, unexpectedBodyFields } from './errors.js';
import { refusalsRoutes } from './refusals-routes.js';
import { RefusalsRepo } from '../store/refusals-repo.js';
import { setupRoutes } from './setup-routes.js';
import { secureDataDir } from '../store/data-dir.js';
import { KnowledgeBase } from '../knowledge/index.js';
import { createEmbedder } from '../knowledge/embeddings/embedder.js';
import { watchClients } from '../knowledge/watcher.js';
import { startClientsRescan } from '../knowledge/rescan.js';
import { recordFolders } from '../records/record-files.js';
import { clientsRoutes } from './clients-routes.js';
import { serverStatus } from './status.js';
import { outcomeDeps } from '../outcome/setup.js';
import { mcpRoutes } from '../mcp/http-route.js';
import { CallScheduler, type Clock } from '../calls/scheduler.js';
import { ScheduledCallsRepo } from '../store/scheduled-calls-repo.js';
import { scheduledCallsRoutes } from './scheduled-calls-routes.js';
import { setupCampaigns } from '../campaigns/setup.js';
import { campaignRoutes } from './campaign-routes.js';
import { setupCluster, type Cluster } from '../cluster/setup.js';
import type { RedisNodeRegistryOptions } from '../cluster/redis-node-registry.js';
import { nodesRoutes } from './nodes-routes.js';

export interface AppOptions {
  settings: Settings;
  apiToken: string;
  /** Tests pass a quieter logger or a shorter retry schedule. */
  logger?: boolean | object;
  /** The server's own logger (main.ts: LOG_FORMAT, asynchronous destination); wins over `logger`. */
  loggerInstance?: Logger;
  recordingRetry?: { attempts: number; firstDelayMs: number };
  streamTimeoutMs?: number;
  pricePollMs?: number[];
  /** When to ask the carrier's list for a lost node's call's recording (tests shorten it). */
  recordingListPollMs?: number[];
  /** The clock for calling hours and daily caps (tests inject one). */
  now?: () => Date;
  /** The built web UI (default web/dist); tests point it elsewhere to see the not-built page. */
  webDir?: string;
  /** Pauses between the outcome webhook's tries (tests shorten them). */
  webhookRetryDelaysMs?: number[];
  /** The scheduled calls' clock and timers (tests inject one). */
  schedulerClock?: Clock;
  /** The node registry's heartbeat and TTL with REDIS_URL (tests shorten them). */
  nodeRegistry?: RedisNodeRegistryOptions;
}

export interface App {
  server: FastifyInstance;
  /** The routes as registered and the OpenAPI document built from their RouteDocs. */
  openapi: OpenApiCollector;
  service: CallService;
  db: Db;
  knowledge: KnowledgeBase;
  /** This node's cross-node pieces: event bus, node registry, shared rate limits (REDIS_URL). */
  cluster: Cluster;
  timeline: Timeline;
  close(): Promise<void>;
}

export const VERSION = '0.1.0';

/** The largest JSON body any route takes (uploads are multipart and have their own limit). */
const BODY_LIMIT = 256 * 1024;

/** Builds the whole server: store, carrier, engines, tools, routes. Nothing listens until `listen`. */
export async function buildApp(o: AppOptions): Promise<App> {
  const s = o.settings;
  const server = Fastify({
    ...(o.loggerInstance ? { loggerInstance: o.loggerInstance as FastifyBaseLogger } : { logger: o.logger ?? loggerOptions(s.LOG_LEVEL, s.LOG_SENSITIVE) }),
    // Request lines at debug level: at info the log is one line per event that matters (logging.ts).
    logController: new QuietRequestLogs(),
    bodyLimit: BODY_LIMIT,
    trustProxy: trustProxyOption(s.TRUST_PROXY) ?? false,
    // Errors the router raises before any route runs. Its own message for a bad path echoes the whole URL
    // (query and token included): answer with the field instead.
    frameworkErrors: (err, _req, res) => {
      const e = frameworkError(err, { bodyLimit: BODY_LIMIT }) ?? new ApiError(400, 'the request could not be read');
      return sendError(res as FastifyReply, e.status, e.message, e.extra);
    },
  });
  // Every route, as registered, for the OpenAPI document (GET /api/openapi.json).
  const openapi = new OpenApiCollector();
  server.addHook('onRoute', openapi.onRoute);
  secureDataDir(s.DATA_DIR);
  const db = openDatabase(join(s.DATA_DIR, 'callwright.db'));
  const sql = await openStore(s, db, server.log);
  // The service is created below; the registry asks it for the live count only when it beats or lists.
  let liveCalls = () => 0;
  const cluster = await setupCluster({ settings: s, log: server.log, liveCalls: () => liveCalls(), registry: o.nodeRegistry });
  if (s.DATABASE_URL && !s.NODE_ID) {
    server.log.warn(
      { event: 'node.unnamed', nodeId: cluster.nodeId },
      'NODE_ID is not set: this node is named by its host and process id, its calls\' carrier URLs do not name it (a proxy cannot route them to it), and after a restart its calls and campaign claims are settled only once their leases run out; set a stable NODE_ID on every node (docs/deployment.md)',
    );
  }
  const prices = withEnginePrices(loadPriceTable(s.PRICES_FILE), s);
  // Calls, their events and their outcomes follow DATABASE_URL together: call_events and call_outcomes refer
  // to calls, and deleting a call deletes them in the same transaction (docs/store.md).
  const calls = new CallsRepo(sql, {
    nodeId: cluster.nodeId,
    leaseMs: s.CALL_LEASE_SECONDS * 1000,
    pricer: callPricer(prices, s.TWILIO_PRICE_PER_MINUTE),
    log: (msg, fields) => server.log.error({ event: 'calls.store', ...fields }, msg),
  });
  // On PostgreSQL every write path is asynchronous: a call's events and outcome wait for its row.
  const callStored = (id: string) => calls.stored(id);
  const timeline = new Timeline(new EventsRepo(sql, (msg, fields) => server.log.warn({ event: 'timeline.store', ...fields }, msg), { callStored }), cluster.bus);
  const outcome = outcomeDeps(s, sql, { webhookRetryDelaysMs: o.webhookRetryDelaysMs, repo: { callStored, log: (msg, fields) => server.log.error({ event: 'outcome.store', ...fields }, msg) } });
  const parserLimits = { memoryMb: s.PARSER_MEMORY_MB, maxFileBytes: s.PARSER_MAX_FILE_BYTES, maxPages: s.PARSER_MAX_PAGES, maxUncompressedBytes: s.PARSER_MAX_UNCOMPRESSED_BYTES, timeoutMs: s.PARSER_TIMEOUT_MS };
  const knowledge = new KnowledgeBase({ db, clientsDir: s.CLIENTS_DIR, embedder: createEmbedder(s), log: server.log, parserLimits, onLocalChange: (clientId) => cluster.knowledge.announce({ clientId }) });
  const carrier: Carrier | undefined =
    s.TWILIO_ACCOUNT_SID && s.TWILIO_AUTH_TOKEN ? new TwilioCarrier({ accountSid: s.TWILIO_ACCOUNT_SID, authToken: s.TWILIO_AUTH_TOKEN, apiUrl: s.TWILIO_API_URL }) : undefined;
  // ask_owner: the live call page always; SMS and a webhook when configured (docs/ask-owner.md).
  const ownerChannels: OwnerChannel[] = [uiChannel];
  if (s.OWNER_PHONE && carrier?.sendMessage && s.TWILIO_FROM_NUMBER) ownerChannels.push(smsChannel({ carrier, ownerPhone: s.OWNER_PHONE, from: s.TWILIO_FROM_NUMBER }));
  const ownerWebhook = ownerWebhookFromSettings(s);
  if (ownerWebhook) ownerChannels.push(ownerWebhook);
  const owner = new OwnerQuestions(ownerChannels, (channel) => server.log.warn({ event: 'owner.deliveryFailed', channel }, 'a question to the owner could not be delivered on one channel (the reason is on the call timeline)'));
  const tools = new ToolRegistry([endCallTool, sendDtmfTool, waitOnHoldTool, transferCallTool, askOwnerTool, lookupContextTool(knowledge, { topK: s.KNOWLEDGE_TOP_K })]);
  // Once per process, here rather than inside the first call's start on the loop that carries live audio
  // (issue 18's profile: 15-25 ms each there): the tools' JSON Schemas and libphonenumber's metadata.
  tools.specs({ hasClient: true });
  tools.specs({ hasClient: false });
  checkDestination('+14155550123');
  const service = new CallService({
    owner,
    settings: s,
    db,
    sql,
    calls,
    timeline,
    carrier,
    engines: engineFactories(s),
    tools,
    knowledge,
    log: server.log,
    recordingRetry: o.recordingRetry,
    streamTimeoutMs: o.streamTimeoutMs,
    pricePollMs: o.pricePollMs,
    recordingListPollMs: o.recordingListPollMs,
    prices,
    now: o.now,
    outcome,
  });
  liveCalls = () => service.liveCount;

  const scheduler = new CallScheduler({
    repo: new ScheduledCallsRepo(sql),
    dial: (input) => service.create(input),
    checkAhead: (input, at) => service.checkAhead(input, at),
    maxAheadMs: s.SCHEDULE_MAX_DAYS * 86_400_000,
    graceMs: s.SCHEDULE_GRACE_MINUTES * 60_000,
    log: server.log,
    clock: o.schedulerClock,
  });

  const campaigns = setupCampaigns({ sql, settings: s, service, calls, hasCarrier: Boolean(carrier), changes: cluster.campaigns, now: o.now, log: server.log });

  // Every error in one shape ({error: {code, message, field?}}, see server/errors.ts), the framework's own included.
  server.setErrorHandler((err, req, reply) => {
    if (err instanceof CallRequestError) {
      if (err.policy?.retryAfterSec) reply.header('Retry-After', String(err.policy.retryAfterSec));
      return sendError(reply, err.status, err.message, { code: callErrorCode(err), field: err.field, missing: err.missing, rule: err.policy?.rule });
    }
    if (err instanceof ApiError) return sendError(reply, err.status, err.message, err.extra);
    const fw = frameworkError(err as FastifyError, { bodyLimit: BODY_LIMIT });
    if (fw) return sendError(reply, fw.status, fw.message, fw.extra);
    const e = err as { statusCode?: number; message: string; field?: unknown; code?: unknown };
    if (e.statusCode && e.statusCode < 500) {
      // A framework error not mapped above: its own words name fastify's internals.
      const message = typeof e.code === 'string' && e.code.startsWith('FST_') ? 'the request could not be read' : e.message;
      return sendError(reply, e.statusCode, message, { field: typeof e.field === 'string' ? e.field : undefined });
    }
    req.log.error({ err }, 'request failed');
    return sendError(reply, 500, 'something went wrong on the server; the details are in its log');
  });

  // Routes documented without a body (hang up, event token, redelivery...) take none: fields sent to one are refused.
  server.addHook('preValidation', async (req) => {
    const doc = req.routeOptions.config?.doc;
    if (!doc || doc.body || doc.bodyContentType) return;
    const unexpected = unexpectedBodyFields(req.body);
    if (unexpected) throw unexpected;
  });

  await registerHardening(server, { settings: s, apiToken: o.apiToken, inlinePages: { '/': uiNotBuiltPage(VERSION) }, rateLimitStore: cluster.rateLimitStore });
  // Above the codec's 64 KiB frame limit, so an oversized frame is dropped and counted like any other
  // malformed frame instead of closing the stream (and ending the call); beyond this, ws closes it (1009).
  await server.register(websocket, { options: { maxPayload: 1024 * 1024 } });
  const carrierRoutes: TwilioRoutesOptions = {
    authToken: s.TWILIO_AUTH_TOKEN,
    publicUrl: s.PUBLIC_URL,
    nodePath: nodePath(s),
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
  };
  // The number's webhooks (and every carrier URL on one node) at the root; in multi-node mode a call's own
  // URLs also under /n/<node id>, which the proxy routes to this node (docs/deployment.md).
  await server.register(twilioRoutes, carrierRoutes);
  if (carrierRoutes.nodePath) await server.register(twilioRoutes, { ...carrierRoutes, prefix: '/n/:nodeId' });

  const sessions = new BrowserSessions(new SessionsRepo(sql), o.apiToken, BrowserSessions.ttlFromDays(s.SESSION_DAYS));
  await sessions.prune();
  await server.register(signInRoute, { token: o.apiToken, sessions, publicUrl: s.PUBLIC_URL });
  await server.register(async (api) => {
    const streamTokens = new StreamTokens(o.apiToken);
    api.addHook('onRequest', apiAuth({ token: o.apiToken, streamTokens, sessions, publicUrl: s.PUBLIC_URL }));
    await api.register(sessionRoutes, { sessions });
    await api.register(clientsRoutes, { knowledge, clientsDir: s.CLIENTS_DIR, uploadMaxBytes: s.UPLOAD_MAX_BYTES, topK: s.KNOWLEDGE_TOP_K, prompt: { recordingAnnounced: s.RECORD_CALLS && s.ANNOUNCE_RECORDING, discloseAi: s.DISCLOSE_AI, askOwnerAvailable: true } });
    const runbooks = new RunbookLibrary(s.RUNBOOKS_DIR);
    const refusals = new RefusalsRepo(sql);
    await api.register(callsRoutes, { service, calls, timeline, prices, carrierPricePerMinute: s.TWILIO_PRICE_PER_MINUTE, streamTokens, runbooks, outcomes: outcome.repo, folders: recordFolders(s), records: { settings: s, refusedSince: (iso) => refusals.countSince(iso), now: o.now }, scheduler, idempotency: new IdempotentRequests(new IdempotencyRepo(sql), o.now) });
    await api.register(scheduledCallsRoutes, { scheduler });
    await api.register(campaignRoutes, { campaigns: campaigns.service });
    await api.register(runbooksRoutes, { library: runbooks });
    await api.register(refusalsRoutes, { service });
    await api.register(ownerRoutes, { owner, calls });
    await api.register(setupRoutes, { settings: s, carrier });
    await api.register(nodesRoutes, { registry: cluster.registry });
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

  // Before the recovery below, which ends calls left live (their final cost is priced as they end).
  const priced = await calls.priceUnpriced();
  if (priced) server.log.info({ event: 'calls.priced', calls: priced }, 'calls stored before running costs were priced from their usage events');
  await service.recoverAfterRestart();
  // Multi-node: other nodes' calls whose lease ran out while no node was sweeping (then on the lease timer).
  await service.endLostNodeCalls();
  // Once listening (the carrier's callbacks for a call it dials must find the server), and after the
  // recovery above: a scheduled call due now dials as a new call.
  server.addHook('onListen', async () => scheduler.start());
  server.addHook('onListen', async () => campaigns.runner.start());
  server.addHook('onListen', async () => {
    const addr = server.addresses()[0] as { address: string; family: string; port: number } | undefined;
    if (!s.PUBLIC_URL && addr) cluster.self.baseUrl = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
    cluster.registry.start();
  });

  // The index catches up with CLIENTS_DIR in the background: listening does not wait for parsing.
  let closing = false;
  const syncFailed = (clientId?: string) => (err: unknown) => closing || server.log.error({ err, clientId }, 'knowledge: sync failed');
  const syncClient = (id: string) => void knowledge.syncClient(id).catch(syncFailed(id));
  const syncAll = () => void knowledge.syncAll().catch(syncFailed());
  // Changes made through other nodes on a shared CLIENTS_DIR: their word (Redis), and the rescan (docs/deployment.md).
  const syncFromElsewhere = (id: string) => void knowledge.syncClient(id, { announce: false }).catch(syncFailed(id));
  cluster.knowledge.onRemote(({ clientId }) => syncFromElsewhere(clientId));
  const rescanS = s.KNOWLEDGE_RESCAN_S ?? (s.DATABASE_URL ? 30 : 0);
  const rescan = rescanS ? await startClientsRescan({ clientsDir: s.CLIENTS_DIR, intervalMs: rescanS * 1000, onClientChanged: syncFromElsewhere, log: server.log }) : undefined;
  void knowledge.syncAll({ announce: false }).catch(syncFailed());
  const watcher = s.KNOWLEDGE_WATCH ? watchClients({ clientsDir: s.CLIENTS_DIR, onClientChanged: syncClient, onUnknownChange: syncAll, log: server.log }) : undefined;

  return {
    server,
    openapi,
    service,
    db,
    knowledge,
    cluster,
    timeline,
    async close() {
      closing = true;
      watcher?.close();
      rescan?.close();
      await scheduler.stop();
      await campaigns.runner.stop();
      await service.shutdown();
      await server.close();
      // Events deferred by a locked database: no call is live any more, so waiting on the lock is fine.
      // Before the bus closes: other nodes hear an event once it is stored, `closed` after the last.
      const unwritten = await timeline.flush(5000);
      if (unwritten) server.log.error({ event: 'timeline.unwritten', events: unwritten }, 'timeline events could not be stored before shutdown');
      // On PostgreSQL the calls' and outcomes' last writes (ended, their cost, the outcome) are still on their
      // way: the pool must not close under them, or ended calls stay live in the table until their lease runs out.
      await settledWithin([calls.settled(), outcome.repo.settled()], 5000).then((ok) => {
        if (!ok) server.log.error({ event: 'store.unwritten' }, 'calls or outcomes could not all be stored before shutdown');
      });
      await cluster.close();
      await knowledge.close();
      db.close();
      await sql.close();
    },
  };
}

/** Whether the writes settle within `ms` (the shutdown goes on either way). */
async function settledWithin(writes: Array<Promise<unknown>>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((done) => (timer = setTimeout(() => done(false), ms)));
  const ok = await Promise.race([Promise.all(writes).then(() => true as const), late]);
  clearTimeout(timer);
  return ok;
}

/** The error code of a refused call request: what kind of refusal, for programs (the rule says which). */
function callErrorCode(err: CallRequestError): string | undefined {
  if (err.code) return err.code;
  if (err.policy) return err.status === 429 ? 'cap_reached' : 'refused_by_policy';
  return undefined;
}
