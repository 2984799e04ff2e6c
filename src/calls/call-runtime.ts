import type { FastifyBaseLogger } from 'fastify';
import type { Settings } from '../config/settings.js';
import type { Carrier } from '../telephony/carrier.js';
import type { EngineFactory, UsageReport } from '../voice/engine.js';
import type { EngineName } from '../voice/registry.js';
import { MEDIA_HOSTS, type CallMedia, type MediaHost } from '../bridge/host/media-host.js';
import type { ToolRegistry } from '../tools/registry.js';
import type { CallsRepo } from '../store/calls-repo.js';
import type { Db } from '../store/database.js';
import type { SqlStore } from '../store/sql/sql-store.js';
import type { Timeline } from '../records/timeline.js';
import type { KnowledgeBase } from '../knowledge/index.js';
import type { PriceTable } from '../records/pricing.js';
import type { TimelineEventType } from '../shared/event-types.js';
import type { OwnerQuestions } from '../owner/questions.js';
import { canTransition, type CallStatus } from './state.js';
import { LiveCostLedger } from './cost-ledger.js';
import type { TransferTarget } from './transfer/transfer-targets.js';
import { CallOutcomes, type OutcomeDeps } from '../outcome/call-outcomes.js';
import { recordFolders } from '../records/record-files.js';

export interface CallServiceDeps {
  settings: Settings;
  db: Db;
  /** The query layer over the store (the repositories converted to it so far, docs/store.md). */
  sql: SqlStore;
  calls: CallsRepo;
  timeline: Timeline;
  carrier?: Carrier;
  engines: Partial<Record<EngineName, EngineFactory>>;
  tools: ToolRegistry;
  log: FastifyBaseLogger;
  /** Questions to the owner mid-call (ask_owner); absent, the tool has no one to ask. */
  owner?: OwnerQuestions;
  /** The client's documents: retrieved for the instructions at call start. */
  knowledge?: KnowledgeBase;
  /** Recording download retry tuning (tests shorten it). */
  recordingRetry?: { attempts: number; firstDelayMs: number };
  /** When to ask the carrier's list for a lost node's call's recording (carrier-recording.ts; tests shorten it). */
  recordingListPollMs?: number[];
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
  /** The outcome of every call (docs/outcome.md); absent: no outcome is kept (unit tests). */
  outcome?: OutcomeDeps;
  /** Where the sessions run; default: MEDIA_HOST's host, built from `engines` and `tools`. */
  media?: MediaHost;
}

export interface LiveCall {
  id: string;
  /** The call's session, in the media host. */
  session: CallMedia;
  maxTimer?: NodeJS.Timeout;
  streamTimer?: NodeJS.Timeout;
  costTimer?: NodeJS.Timeout;
  /** A limit has asked for the goodbye: later usage past the cap must not ask (and record) again. */
  wrappingUp?: boolean;
  attached: boolean;
  /** Where this call may be handed over (OWNER_PHONE, then the call's `transferTo`). */
  transferTargets?: TransferTarget[];
  /** Called once, when the call's first media stream is attached (e.g. an inbound call's recording starts). */
  onAttached?: () => void;
}

/**
 * What every part of the call service shares: the live sessions, the ends in progress, background work,
 * and the one way to record an event or move a call's status.
 */
export class CallRuntime {
  readonly live = new Map<string, LiveCall>();
  /** One end per call: every later cause (a callback, a second reason) joins the first. */
  readonly ending = new Map<string, Promise<void>>();
  readonly background = new Set<Promise<unknown>>();
  readonly ledger: LiveCostLedger;
  readonly now: () => Date;
  /** Set on shutdown: background loops stop, and a missing late record is no longer worth a warning. */
  closing = false;
  /** Called after each usage event is in the ledger (the cost limit checks it). */
  onUsage: (callId: string) => void = () => undefined;
  /** Told once a call has ended and its session is shut down (e.g. a transfer's second leg stops ringing). */
  readonly endListeners = new Set<(callId: string) => void>();
  /** Computes and pushes each call's outcome after it ends. */
  readonly outcomes: CallOutcomes | undefined;
  /** Where live calls' sessions, engines and audio run (src/bridge/host/). */
  readonly media: MediaHost;

  constructor(readonly d: CallServiceDeps, prices: PriceTable) {
    this.now = d.now ?? (() => new Date());
    this.media = d.media ?? MEDIA_HOSTS[d.settings.MEDIA_HOST]({ engines: d.engines, tools: d.tools });
    this.ledger = new LiveCostLedger(prices, d.settings.TWILIO_PRICE_PER_MINUTE, { recordCalls: d.settings.RECORD_CALLS });
    this.outcomes = d.outcome
      ? new CallOutcomes(d.outcome, {
          call: (id) => d.calls.get(id),
          events: (id) => d.timeline.list(id),
          record: (id, type, data) => this.record(id, type, data),
          recordUsage: (id, data) => {
            d.calls.addUsage(id, data);
            try {
              d.timeline.append(id, 'usage', data);
            } catch (err) {
              d.log.error({ event: 'timeline.writeFailed', callId: id, type: 'usage', err: (err as Error).message }, 'could not record call event');
            }
          },
          log: d.log,
          now: () => this.now(),
          transcriptsDir: recordFolders(d.settings).transcripts,
        })
      : undefined;
  }

  transition(callId: string, to: CallStatus): boolean {
    const call = this.d.calls.kept(callId);
    if (!call || this.ending.has(callId) || !canTransition(call.status, to)) return false;
    this.d.calls.update(callId, { status: to });
    this.record(callId, 'status', { status: to });
    return true;
  }

  record(callId: string, type: TimelineEventType, data: Record<string, unknown>): void {
    if (type === 'transcript') this.d.log.debug({ event: 'call.transcript', callId, speaker: data.speaker, text: data.text }, 'transcript turn');
    if (type === 'usage') {
      this.ledger.addUsage(callId, data as unknown as UsageReport);
      this.d.calls.addUsage(callId, data);
      queueMicrotask(() => this.onUsage(callId));
    }
    try {
      this.d.timeline.append(callId, type, data);
    } catch (err) {
      // The store failing (disk full, SQLite busy past its timeout) must not take the live call down.
      this.d.log.error({ event: 'timeline.writeFailed', callId, type, err: (err as Error).message }, 'could not record call event');
    }
  }

  track(p: Promise<unknown>): void {
    const t = p.catch((err) => this.d.log.error({ event: 'call.backgroundError', err: (err as Error).message }, 'background task failed')).finally(() => this.background.delete(t));
    this.background.add(t);
  }
}
