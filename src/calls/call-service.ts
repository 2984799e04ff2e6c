import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import type { Settings } from '../config/settings.js';
import { missingForCalls } from '../config/settings.js';
import type { Carrier, CarrierEvent, MediaStreamHandler, MediaTransport } from '../telephony/carrier.js';
import type { StreamOpenRequest } from '../telephony/twilio/media-connection.js';
import type { EngineFactory } from '../voice/engine.js';
import { CallSession } from '../bridge/call-session.js';
import type { ToolRegistry } from '../tools/registry.js';
import type { CallRow, CallsRepo } from '../store/calls-repo.js';
import type { Db } from '../store/database.js';
import type { Timeline } from '../records/timeline.js';
import { renderTranscriptText } from '../records/transcript.js';
import { downloadRecording } from '../records/recordings.js';
import { ClientError, loadClientProfile, type ClientProfile } from '../clients/profile.js';
import { buildSystemPrompt, type ReferenceExcerpt } from './prompt.js';
import type { KnowledgeBase } from '../knowledge/index.js';
import { checkDestination } from './policy.js';
import { canTransition, type CallStatus, type EndReason } from './state.js';
import { DialPolicy, isRefusal } from './dial-policy.js';
import { CallCaps } from './caps.js';
import { LiveCostLedger } from './cost-ledger.js';
import { RefusalsRepo, type Refusal } from '../store/refusals-repo.js';
import { loadPriceTable, type PriceTable } from '../records/pricing.js';
import type { UsageReport } from '../voice/engine.js';
import { LateRecords, type LateRecord } from './late-records.js';
import type { TimelineEventType } from '../shared/event-types.js';

export const createCallSchema = z.object({
  to: z.string({ error: 'is required' }).min(1, 'is required').max(32),
  instructions: z.string({ error: 'is required' }).trim().min(1, 'is required').max(8000, 'is longer than 8000 characters'),
  clientId: z.string().max(64).optional(),
  provider: z.enum(['openai', 'gemini']).optional(),
  /** Place the call even outside CALLING_HOURS; recorded in the call's timeline. */
  overrideCallingHours: z.boolean().optional(),
});
export type CreateCallInput = z.infer<typeof createCallSchema>;

/** A refusal the API shows as 4xx, naming the field at fault. */
export class CallRequestError extends Error {
  constructor(
    readonly status: number,
    readonly field: string | undefined,
    message: string,
    readonly missing?: string[],
    /** Policy refusals: the rule that refused, and when trying again can help. */
    readonly policy?: { rule: string; retryAfterSec?: number },
  ) {
    super(message);
    this.name = 'CallRequestError';
  }
}

export interface CallServiceDeps {
  settings: Settings;
  db: Db;
  calls: CallsRepo;
  timeline: Timeline;
  carrier?: Carrier;
  engines: Partial<Record<'openai' | 'gemini', EngineFactory>>;
  tools: ToolRegistry;
  log: FastifyBaseLogger;
  /** The client's documents: retrieved for the instructions at call start. */
  knowledge?: KnowledgeBase;
  /** Recording download retry tuning (tests shorten it). */
  recordingRetry?: { attempts: number; firstDelayMs: number };
  /** If no media stream arrives this long after answer, the call ends as a media error. */
  streamTimeoutMs?: number;
  /** When to ask the carrier for the call's price after it ends (it is often not known at once). */
  pricePollMs?: number[];
  /** Longest wait for a call's late records (recording, price) before its live stream ends anyway. */
  settleTimeoutMs?: number;
  /** Prices for the live cost ledger (the API's cost breakdown uses the same table). */
  prices?: PriceTable;
  /** The clock for calling hours and daily caps (tests inject one). */
  now?: () => Date;
  /** How often a live call's running cost is checked between usage events. */
  costCheckMs?: number;
  /** Longest wait for the goodbye when a limit ends a call, before the line is cut anyway. */
  wrapUpGraceMs?: number;
}

interface LiveCall {
  id: string;
  session: CallSession;
  maxTimer?: NodeJS.Timeout;
  streamTimer?: NodeJS.Timeout;
  costTimer?: NodeJS.Timeout;
  attached: boolean;
}

const WRAP_UP_INSTRUCTIONS: Record<string, string> = {
  default: 'This call has to end now. In one short sentence, politely say you need to go and say goodbye. Do not start anything new.',
  'cost-limit': 'This call has reached its time and budget limit and has to end now. In one short sentence, politely say you need to go, that someone will follow up if needed, and say goodbye.',
};

/** Creates calls, drives each through its state machine, and owns the live sessions. */
export class CallService {
  private readonly live = new Map<string, LiveCall>();
  /** One end per call: every later cause (a callback, a second reason) joins the first. */
  private readonly ending = new Map<string, Promise<void>>();
  /** After a call ends, its records still arrive (carrier price, recording); the live stream waits for them. */
  private readonly lateRecords: LateRecords;
  private readonly seenStmt;
  private readonly background = new Set<Promise<unknown>>();
  private readonly policy: DialPolicy;
  private readonly caps: CallCaps;
  private readonly ledger: LiveCostLedger;
  private readonly refusals: RefusalsRepo;
  private readonly now: () => Date;
  /** Calls past the cap check that are not yet in `live`. */
  private starting = 0;

  constructor(private readonly d: CallServiceDeps) {
    this.now = d.now ?? (() => new Date());
    const prices = d.prices ?? loadPriceTable(d.settings.PRICES_FILE);
    this.policy = new DialPolicy(d.settings);
    this.caps = new CallCaps(d.settings, d.calls, d.timeline, prices);
    this.ledger = new LiveCostLedger(prices, d.settings.TWILIO_PRICE_PER_MINUTE, { recordCalls: d.settings.RECORD_CALLS });
    this.refusals = new RefusalsRepo(d.db);
    this.lateRecords = new LateRecords(d.settleTimeoutMs ?? 10 * 60_000, (callId, missing) => this.completeRecords(callId, missing));
    this.seenStmt = d.db.prepare('INSERT OR IGNORE INTO webhook_receipts (key, at) VALUES (?, ?)');
    // Twilio retries within hours; receipts older than a week only take space.
    d.db.prepare('DELETE FROM webhook_receipts WHERE at < ?').run(new Date(Date.now() - 7 * 86400_000).toISOString());
  }

  get liveCount(): number {
    return this.live.size;
  }

  // ---- creating a call -------------------------------------------------------------------------
  async create(input: CreateCallInput): Promise<CallRow> {
    const s = this.d.settings;
    const dest = checkDestination(input.to);
    if (!dest.ok) {
      if (dest.rule === 'format' || dest.rule === 'invalid') throw new CallRequestError(400, 'to', `to: ${dest.message}`);
      throw this.refuse(input, dest.rule, 400, 'to', `to: ${dest.message}`);
    }
    const verdict = await this.policy.check(dest.e164, dest.country, { overrideCallingHours: input.overrideCallingHours, now: this.now() });
    if (isRefusal(verdict)) throw this.refuse({ ...input, to: dest.e164 }, verdict.rule, verdict.status, 'to', verdict.message);
    const provider = input.provider ?? s.AI_PROVIDER;
    const missing = missingForCalls(s, provider);
    const factory = this.d.engines[provider];
    if (missing.length || !this.d.carrier || !factory) {
      throw new CallRequestError(503, undefined, `Callwright is not configured to place calls yet. Set: ${missing.join('; ')}. See .env.example.`, missing);
    }
    let client: ClientProfile | undefined;
    if (input.clientId) {
      try {
        client = await loadClientProfile(s.CLIENTS_DIR, input.clientId);
      } catch (err) {
        if (err instanceof ClientError) throw new CallRequestError(400, 'clientId', `clientId: ${err.message}`);
        throw err;
      }
    }

    // Calls between this check and their live registration count as live (`starting`), so concurrent
    // requests cannot both slip under MAX_CONCURRENT_CALLS while one waits for its document retrieval.
    const capped = this.caps.check(this.live.size + this.starting, this.now());
    if (capped) throw this.refuse({ ...input, to: dest.e164 }, capped.rule, 429, undefined, capped.message, capped.retryAfterSec);

    const now = this.now().toISOString();
    const row: CallRow = {
      id: randomUUID(),
      createdAt: now,
      updatedAt: now,
      to: dest.e164,
      from: s.TWILIO_FROM_NUMBER ?? null,
      clientId: client?.id ?? null,
      clientName: client?.name ?? null,
      instructions: input.instructions,
      provider,
      status: 'queued',
      endReason: null,
      answeredBy: null,
      carrier: this.d.carrier.name,
      carrierCallId: null,
      streamSecret: randomBytes(24).toString('base64url'),
      answeredAt: null,
      endedAt: null,
      carrierDurationSec: null,
      carrierPrice: null,
      carrierPriceUnit: null,
      recordingSid: null,
      recordingPath: null,
      transcriptPath: null,
      error: null,
    };
    this.d.calls.insert(row);
    this.record(row.id, 'status', { status: 'queued', to: row.to, provider, clientId: row.clientId });
    for (const note of verdict.notes) this.record(row.id, note.type, note.data);

    let reference: ReferenceExcerpt[] = [];
    this.starting++;
    try {
      if (client) reference = await this.retrieveReference(row.id, client.id, input.instructions);
    } finally {
      // Nothing awaits from here to `this.live.set` below.
      this.starting--;
    }
    const instructions = buildSystemPrompt({
      instructions: input.instructions,
      client,
      recordingAnnounced: s.RECORD_CALLS && s.ANNOUNCE_RECORDING,
      discloseAi: s.DISCLOSE_AI,
      reference,
      lookupAvailable: Boolean(client && this.d.knowledge),
    });
    const live: LiveCall = { id: row.id, attached: false } as LiveCall;
    const engine = factory({ callId: row.id, onEvent: (e) => live.session.onEngineEvent(e) });
    live.session = new CallSession({
      callId: row.id,
      clientId: client?.id,
      engine,
      tools: this.d.tools,
      greetingFallbackMs: s.GREETING_FALLBACK_MS,
      hooks: {
        record: (type, data) => this.record(row.id, type, data),
        requestEnd: (reason, detail) => void this.end(row.id, reason, { detail }),
        conversationStarted: () => this.transition(row.id, 'talking'),
      },
    });
    this.live.set(row.id, live);
    if (s.MAX_COST_PER_CALL_USD > 0) {
      live.costTimer = setInterval(() => this.checkCost(row.id), this.d.costCheckMs ?? 5_000);
      live.costTimer.unref();
    }

    // The engine connects while the phone rings, so the greeting is not delayed by the handshake.
    this.track(
      engine
        .start({ instructions, tools: this.d.tools.specs({ hasClient: Boolean(client && this.d.knowledge) }), autoRespond: false })
        .then(() => {
          this.record(row.id, 'engine.ready', { engine: engine.name });
          live.session.engineStarted();
        })
        .catch((err: Error) => {
          this.record(row.id, 'error', { source: engine.name, fatal: true, code: 'connect_failed', message: err.message });
          return this.end(row.id, 'provider-error', { detail: err.message });
        }),
    );

    this.transition(row.id, 'dialing');
    try {
      const { carrierCallId } = await this.d.carrier.dial({
        callId: row.id,
        to: row.to,
        from: row.from!,
        publicUrl: s.PUBLIC_URL!,
        record: s.RECORD_CALLS,
        timeLimitSec: s.MAX_CALL_SECONDS + 60,
        amdSpeechEndThresholdMs: s.AMD_SPEECH_END_THRESHOLD_MS,
      });
      // The call may already have ended (engine failed during the dial); hang up what we just placed.
      this.d.calls.update(row.id, { carrierCallId });
      this.record(row.id, 'carrier.dialed', { carrier: this.d.carrier.name, carrierCallId });
      if (!this.live.has(row.id)) void this.d.carrier.hangup(carrierCallId).catch(() => undefined);
    } catch (err) {
      this.d.calls.update(row.id, { error: (err as Error).message });
      this.record(row.id, 'error', { source: this.d.carrier.name, fatal: true, code: 'dial_failed', message: (err as Error).message });
      await this.end(row.id, 'dial-error', { hangup: false });
    }
    // `to` is masked by the logger unless LOG_SENSITIVE is on (see server/logging.ts).
    this.d.log.info({ event: 'call.created', callId: row.id, to: row.to, provider }, 'call placed');
    return this.d.calls.get(row.id)!;
  }

  /** The client's excerpts for the task; a retrieval failure costs the reference section, not the call. */
  private async retrieveReference(callId: string, clientId: string, instructions: string): Promise<ReferenceExcerpt[]> {
    if (!this.d.knowledge) return [];
    try {
      const { mode, results } = await this.d.knowledge.search(clientId, instructions, { k: this.d.settings.KNOWLEDGE_TOP_K });
      this.record(callId, 'knowledge.retrieved', { clientId, mode, results: results.map((r) => ({ file: r.file, page: r.page, chunkId: r.chunkId, score: r.score })) });
      return results;
    } catch (err) {
      this.d.log.warn({ err, callId, clientId }, 'knowledge: retrieval for the instructions failed; the call goes on without a reference section');
      this.record(callId, 'knowledge.retrieved', { clientId, error: (err as Error).message, results: [] });
      return [];
    }
  }

  // ---- carrier callbacks -----------------------------------------------------------------------
  /** Twilio retries and reorders callbacks: duplicates are dropped, and nothing moves a call backwards. */
  onCarrierEvent(callId: string, carrierCallId: string, event: CarrierEvent, dedupeKey: string): void {
    const call = this.d.calls.get(callId);
    if (!call || call.carrierCallId !== carrierCallId) {
      this.d.log.warn({ event: 'carrier.unknownCall', type: event.type }, 'callback for an unknown call ignored');
      return;
    }
    if (this.seenStmt.run(`${callId}:${dedupeKey}`, new Date().toISOString()).changes === 0) return;
    switch (event.type) {
      case 'status':
        this.record(callId, 'carrier.status', { status: event.status, ...(event.durationSec !== undefined ? { durationSec: event.durationSec } : {}) });
        return this.onCarrierStatus(call, event.status, event.durationSec);
      case 'amd': {
        if (call.status === 'ended') return;
        this.d.calls.update(callId, { answeredBy: event.answeredBy });
        this.record(callId, 'amd', { answeredBy: event.answeredBy, machine: event.machine });
        this.live.get(callId)?.session.answeredBy(event.machine);
        return;
      }
      case 'recording':
        if (event.status !== 'completed') {
          this.record(callId, 'recording.status', { status: event.status });
          return;
        }
        this.d.calls.update(callId, { recordingSid: event.recordingId });
        this.noteForeignUrl(callId, event.recordingId, event.advertisedOrigin);
        this.track(this.fetchRecording(callId, event.recordingId).finally(() => this.settled(callId, 'recording')));
        return;
    }
  }

  private onCarrierStatus(call: CallRow, status: string, durationSec?: number): void {
    switch (status) {
      case 'ringing':
        this.transition(call.id, 'ringing');
        return;
      case 'answered':
        if (this.transition(call.id, 'answered')) this.d.calls.update(call.id, { answeredAt: new Date().toISOString() });
        // Answered, and answering-machine detection is listening until its verdict.
        this.transition(call.id, 'screening');
        this.armCallTimers(call.id);
        return;
      case 'completed':
      case 'busy':
      case 'no-answer':
      case 'failed':
      case 'canceled': {
        if (durationSec !== undefined) this.d.calls.update(call.id, { carrierDurationSec: durationSec });
        const reason: EndReason = status === 'completed' ? 'callee-hangup' : (status as EndReason);
        // The carrier says the call is over: nothing to hang up, but the records still need finishing.
        this.track(this.end(call.id, reason, { hangup: false }).then(() => this.pollPrice(call.id)));
        return;
      }
    }
  }

  /** Max duration and "no media arrived" timers, from answer (or the stream, if that comes first). */
  private armCallTimers(callId: string): void {
    const live = this.live.get(callId);
    if (!live || live.maxTimer) return;
    live.maxTimer = setTimeout(() => this.wrapUp(callId, 'max-duration', { limitSec: this.d.settings.MAX_CALL_SECONDS }), this.d.settings.MAX_CALL_SECONDS * 1000);
    if (!live.attached) {
      live.streamTimer = setTimeout(() => {
        if (!live.attached) void this.end(callId, 'media-error', { detail: 'no media stream arrived after answer' });
      }, this.d.streamTimeoutMs ?? 15_000);
    }
  }

  streamParamsFor(callId: string, carrierCallId: string): Record<string, string> | undefined {
    const call = this.d.calls.get(callId);
    if (!call || !this.live.has(callId) || this.ending.has(callId) || call.carrierCallId !== carrierCallId) return undefined;
    return { callId, secret: call.streamSecret };
  }

  authorizeStream(req: StreamOpenRequest, transport: MediaTransport): MediaStreamHandler | undefined {
    const live = this.live.get(req.callId);
    const call = live && this.d.calls.get(req.callId);
    if (!live || !call || this.ending.has(req.callId) || call.carrierCallId !== req.carrierCallId) return undefined;
    const a = Buffer.from(req.secret);
    const b = Buffer.from(call.streamSecret);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return undefined;
    live.attached = true;
    clearTimeout(live.streamTimer);
    this.armCallTimers(req.callId);
    return live.session.attach(transport);
  }

  // ---- ending ----------------------------------------------------------------------------------
  /** User-requested hang-up. */
  async hangup(callId: string): Promise<CallRow> {
    const call = this.d.calls.get(callId);
    if (!call) throw new CallRequestError(404, undefined, 'call not found');
    if (call.status === 'ended' || this.ending.has(callId)) throw new CallRequestError(409, undefined, `call has already ended (${call.endReason ?? 'ending'})`);
    await this.end(callId, 'user-hangup');
    return this.d.calls.get(callId)!;
  }

  /**
   * Ends a call, once: silence the session at once, hang up at the carrier (unless the carrier already
   * ended it), stop the session, write the records. Every later cause joins the first end, so the reason
   * recorded is whoever ended the call first. Never rejects.
   */
  end(callId: string, reason: EndReason, opts: { detail?: string; hangup?: boolean } = {}): Promise<void> {
    const pending = this.ending.get(callId);
    if (pending) return pending;
    const call = this.d.calls.get(callId);
    if (!call || call.status === 'ended') return Promise.resolve();
    const live = this.live.get(callId);
    live?.session.beginEnd();
    const p = this.runEnd(callId, reason, opts.detail, opts.hangup ?? true).catch((err) => {
      this.d.log.error({ event: 'call.endFailed', callId, err: (err as Error).message }, 'ending the call failed');
    });
    this.ending.set(callId, p);
    void p.finally(() => {
      this.ending.delete(callId);
      this.lateRecords.dropEarly(callId);
    });
    return p;
  }

  private async runEnd(callId: string, reason: EndReason, detail: string | undefined, hangup: boolean): Promise<void> {
    this.record(callId, 'end.requested', { reason, ...(detail ? { detail } : {}) });
    const live = this.live.get(callId);
    if (live) {
      clearTimeout(live.maxTimer);
      clearTimeout(live.streamTimer);
      clearInterval(live.costTimer);
    }
    this.ledger.forget(callId);
    const carrierCallId = this.d.calls.get(callId)?.carrierCallId;
    if (hangup && carrierCallId && this.d.carrier) {
      try {
        await this.d.carrier.hangup(carrierCallId);
      } catch (err) {
        this.record(callId, 'error', { source: this.d.carrier.name, fatal: false, code: 'hangup_failed', message: (err as Error).message });
      }
    }
    if (live) {
      this.live.delete(callId);
      await live.session.shutdown();
    }
    const before = this.d.calls.get(callId)!;
    this.d.calls.update(callId, { status: 'ended', endReason: reason, endedAt: new Date().toISOString(), ...(detail && !before.error ? { error: detail } : {}) });
    this.record(callId, 'status', { status: 'ended', reason });
    await this.writeTranscript(callId);
    this.d.log.info({ event: 'call.ended', callId, reason }, 'call ended');
    this.startSettling(callId);
  }

  private async writeTranscript(callId: string): Promise<void> {
    try {
      const dir = join(this.d.settings.DATA_DIR, 'transcripts');
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const path = join(dir, `${callId}.txt`);
      const call = this.d.calls.get(callId)!;
      await writeFile(path, renderTranscriptText(call, this.d.timeline.list(callId), call.clientName ?? undefined), { mode: 0o600 });
      this.d.calls.update(callId, { transcriptPath: path });
    } catch (err) {
      this.record(callId, 'error', { source: 'records', fatal: false, code: 'transcript_write_failed', message: (err as Error).message });
    }
  }

  // ---- late records ----------------------------------------------------------------------------
  private startSettling(callId: string): void {
    // Read now, not before the end's awaits: a recording may have been stored in the meantime.
    const call = this.d.calls.get(callId)!;
    const expected: LateRecord[] = [];
    if (call.carrierCallId && this.d.carrier) expected.push('price');
    if (this.d.settings.RECORD_CALLS && call.answeredAt && !call.recordingPath) expected.push('recording');
    this.lateRecords.expect(callId, expected);
    // A user or agent hang-up gets no "completed" callback handling of its own: poll the price here.
    if (this.lateRecords.isWaiting(callId) && expected.includes('price') && !this.pricePolls.has(callId)) this.track(this.pollPrice(callId));
  }

  private settled(callId: string, what: LateRecord): void {
    this.lateRecords.arrived(callId, what, this.live.has(callId) || this.ending.has(callId));
  }

  /** Every late record is in, or waiting for the rest took too long (`missing` says which). */
  private completeRecords(callId: string, missing: LateRecord[]): void {
    this.record(callId, 'records.complete', missing.length ? { missing } : {});
    if (missing.length && !this.closing) this.d.log.warn({ event: 'records.incomplete', callId, missing }, 'stopped waiting for late records that never arrived');
    this.d.timeline.close(callId);
  }

  /** True while the call is live or its late records are still expected: its event stream stays open. */
  isStreaming(callId: string): boolean {
    return this.live.has(callId) || this.ending.has(callId) || this.lateRecords.isWaiting(callId);
  }

  private readonly pricePolls = new Set<string>();

  /** The carrier's price is often null right after the call; ask again with growing pauses. */
  private async pollPrice(callId: string): Promise<void> {
    if (this.pricePolls.has(callId)) return;
    this.pricePolls.add(callId);
    try {
      for (const waitMs of this.d.pricePollMs ?? [0, 5_000, 30_000, 120_000]) {
        if (waitMs) await new Promise((r) => setTimeout(r, waitMs));
        if (this.closing) return;
        if (await this.fetchPrice(callId)) return;
      }
    } finally {
      this.pricePolls.delete(callId);
      this.settled(callId, 'price');
    }
  }

  private async fetchPrice(callId: string): Promise<boolean> {
    const call = this.d.calls.get(callId);
    if (!call?.carrierCallId || !this.d.carrier) return true;
    if (call.carrierPrice !== null) return true;
    const p = await this.d.carrier.callPrice(call.carrierCallId);
    if (!p) return false;
    this.d.calls.update(callId, {
      ...(p.price !== null ? { carrierPrice: p.price, carrierPriceUnit: p.unit } : {}),
      ...(p.durationSec !== null ? { carrierDurationSec: p.durationSec } : {}),
    });
    if (p.price === null) return false;
    this.record(callId, 'carrier.price', { price: p.price, unit: p.unit });
    return true;
  }

  /**
   * SSRF guard, made visible: the recording is only ever fetched from the configured carrier API host.
   * A callback naming another host (even a signed one) is recorded; its URL is not used.
   */
  private noteForeignUrl(callId: string, recordingId: string, theirs: string | undefined): void {
    if (!theirs || !this.d.carrier) return;
    let own: string | null = null;
    try {
      own = new URL(this.d.carrier.recordingSource(recordingId).url).origin;
    } catch {
      // An invalid recording id: the download refuses it and records why.
    }
    if (theirs !== own) {
      this.record(callId, 'security.foreignUrl', { source: 'recording-callback', host: theirs, fetchedFrom: own });
      this.d.log.warn({ event: 'security.foreignUrl', callId, host: theirs }, 'a callback named a host other than the configured carrier API; ignored');
    }
  }

  private async fetchRecording(callId: string, recordingId: string): Promise<void> {
    if (!this.d.carrier) return;
    try {
      const src = this.d.carrier.recordingSource(recordingId);
      const r = await downloadRecording({ ...src, dir: join(this.d.settings.DATA_DIR, 'recordings'), callId, ...this.d.recordingRetry });
      this.d.calls.update(callId, { recordingPath: r.path });
      this.record(callId, 'recording', { bytes: r.bytes, attempts: r.attempts });
    } catch (err) {
      this.record(callId, 'error', { source: 'recording', fatal: false, code: 'recording_download_failed', message: (err as Error).message });
    }
  }

  // ---- limits ---------------------------------------------------------------------------------
  /** A policy refusal: recorded (the call is never created, see docs), logged masked, and returned as 4xx. */
  private refuse(input: CreateCallInput, rule: string, status: number, field: string | undefined, message: string, retryAfterSec?: number): CallRequestError {
    try {
      this.refusals.insert({ at: this.now().toISOString(), to: input.to.trim().slice(0, 32), clientId: input.clientId ?? null, rule, message });
    } catch (err) {
      this.d.log.error({ event: 'refusal.writeFailed', rule, err: (err as Error).message }, 'could not record a refusal');
    }
    this.d.log.info({ event: 'call.refused', rule, to: input.to.trim(), clientId: input.clientId }, 'call refused by policy');
    return new CallRequestError(status, field, message, undefined, { rule, retryAfterSec });
  }

  /** The calls the dial policy refused, newest first. */
  listRefusals(limit: number, beforeId?: number): Refusal[] {
    return this.refusals.list(limit, beforeId);
  }

  /** The live cost ledger's check: a call past MAX_COST_PER_CALL_USD says goodbye and ends. */
  private checkCost(callId: string): void {
    const cap = this.d.settings.MAX_COST_PER_CALL_USD;
    const live = this.live.get(callId);
    if (!cap || !live || this.ending.has(callId)) return;
    const call = this.d.calls.get(callId);
    // Elapsed time is real time (answeredAt is stamped by the real clock), whatever clock the policy uses.
    const cost = this.ledger.cost(callId, call?.answeredAt ?? null, Date.now());
    if (cost < cap) return;
    clearInterval(live.costTimer);
    this.wrapUp(callId, 'cost-limit', { costUsd: Math.round(cost * 1e6) / 1e6, limitUsd: cap });
  }

  /**
   * A limit ends the call politely: the agent is asked for a brief goodbye, and the line is cut once that
   * goodbye has played (or after a grace period, whatever the agent does).
   */
  private wrapUp(callId: string, reason: EndReason, data: Record<string, unknown>): void {
    const live = this.live.get(callId);
    if (!live || this.ending.has(callId)) return;
    const graceMs = this.d.wrapUpGraceMs ?? 10_000;
    if (live.session.wrapUp(reason, WRAP_UP_INSTRUCTIONS[reason] ?? WRAP_UP_INSTRUCTIONS.default, graceMs)) {
      this.record(callId, 'wrapup.requested', { reason, graceMs, ...data });
    } else {
      void this.end(callId, reason);
    }
  }

  // ---- lifecycle ------------------------------------------------------------------------------
  /** Calls left live by a crash or restart cannot be resumed: mark them and make sure they are hung up. */
  async recoverAfterRestart(): Promise<number> {
    const stale = this.d.calls.listLive();
    for (const call of stale) {
      if (call.carrierCallId && this.d.carrier) await this.d.carrier.hangup(call.carrierCallId).catch(() => undefined);
      this.d.calls.update(call.id, { status: 'ended', endReason: 'interrupted', endedAt: new Date().toISOString(), error: 'Callwright restarted while the call was in progress' });
      this.record(call.id, 'status', { status: 'ended', reason: 'interrupted' });
      await this.writeTranscript(call.id);
      this.record(call.id, 'records.complete', {});
    }
    return stale.length;
  }

  private closing = false;

  /** Ends every live call (server shutdown) and waits for background work such as downloads. */
  async shutdown(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.live.keys()].map((id) => this.end(id, 'interrupted', { detail: 'Callwright shut down' })));
    this.lateRecords.completeAll();
    await Promise.allSettled([...this.background]);
  }

  /** Waits for background work (recording downloads, price polls); for tests and shutdown. */
  async idle(): Promise<void> {
    while (this.background.size || this.ending.size) await Promise.allSettled([...this.background, ...this.ending.values()]);
  }

  private transition(callId: string, to: CallStatus): boolean {
    const call = this.d.calls.get(callId);
    if (!call || this.ending.has(callId) || !canTransition(call.status, to)) return false;
    this.d.calls.update(callId, { status: to });
    this.record(callId, 'status', { status: to });
    return true;
  }

  private record(callId: string, type: TimelineEventType, data: Record<string, unknown>): void {
    if (type === 'transcript') this.d.log.debug({ event: 'call.transcript', callId, speaker: data.speaker, text: data.text }, 'transcript turn');
    if (type === 'usage') {
      this.ledger.addUsage(callId, data as unknown as UsageReport);
      queueMicrotask(() => this.checkCost(callId));
    }
    try {
      this.d.timeline.append(callId, type, data);
    } catch (err) {
      // The store failing (disk full, SQLite busy past its timeout) must not take the live call down.
      this.d.log.error({ event: 'timeline.writeFailed', callId, type, err: (err as Error).message }, 'could not record call event');
    }
  }

  private track(p: Promise<unknown>): void {
    const t = p.catch((err) => this.d.log.error({ event: 'call.backgroundError', err: (err as Error).message }, 'background task failed')).finally(() => this.background.delete(t));
    this.background.add(t);
  }
}
