import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { CallRow } from '../store/calls-repo.js';
import type { StoredEvent } from '../store/events-repo.js';
import type { OutcomeRequest, OutcomesRepo } from '../store/outcomes-repo.js';
import type { TimelineEventType } from '../shared/event-types.js';
import type { CallOutcome, WebhookDelivery } from '../shared/api-types.js';
import { renderTranscriptText, transcriptEntries } from '../records/transcript.js';
import { recordFilePath, writeRecordFile } from '../records/record-files.js';
import { computeOutcome, usageMeters, type TextExtractor } from './extract.js';
import { deliver, type WebhookTarget } from './webhook.js';
import { webhookPayload, withOutcomeText } from './payload.js';

/** What the server configures: where outcomes are kept, who extracts them, where they are pushed. */
export interface OutcomeDeps {
  repo: OutcomesRepo;
  /** Absent: every outcome is recorded as not computed, with `notComputedReason`. */
  extractor?: TextExtractor;
  notComputedReason?: string;
  /** Absent: no webhook (CALL_WEBHOOK_URL not set). */
  webhook?: WebhookTarget;
  /** Longest wait for the model (default 2 minutes). */
  extractTimeoutMs?: number;
}

/** What the outcome needs of the call service: the call's record, and the one way to record an event. */
export interface OutcomeHost {
  call(callId: string): Promise<CallRow | undefined>;
  events(callId: string): Promise<StoredEvent[]>;
  record(callId: string, type: TimelineEventType, data: Record<string, unknown>): void;
  /** A usage event after the call: on the record and in its cost, not in the live ledger (the call is over). */
  recordUsage(callId: string, data: Record<string, unknown>): void;
  log: FastifyBaseLogger;
  now(): Date;
  /** The folder the call's transcript file name is resolved in (TRANSCRIPTS_DIR). */
  transcriptsDir: string;
}

/**
 * After the call, the one place that computes its outcome (summary, goal met, facts with transcript
 * citations) and stores it, and the one place that pushes it (the signed webhook). A failure of either is
 * recorded on the call's timeline and in its outcome; the transcript and the rest of the record are
 * untouched, and another call is never affected.
 */
/**
 * Another node's ended call whose outcome is still pending is taken as left behind by that node only this
 * long after it ended: past the 15 minutes a node waits for late records (the recording, the price) before
 * working an outcome out, with time for the model to answer.
 */
const OTHER_NODES_OUTCOMES_AFTER_MS = 20 * 60_000;

export class CallOutcomes {
  private readonly stopping = new AbortController();

  constructor(private readonly d: OutcomeDeps, private readonly host: OutcomeHost) {}

  /** At creation: what the call is for. A store failure costs the outcome's goal and schema, not the call. */
  register(callId: string, r: OutcomeRequest): void {
    try {
      this.d.repo.register(callId, r);
    } catch (err) {
      this.host.log.error({ event: 'outcome.registerFailed', callId, err: (err as Error).message }, 'could not store the call outcome request');
    }
  }

  /**
   * The ended call's outcome, computed and stored (never rejects); then the webhook, if one is set.
   * `transcriptText`: the transcript as the call's end rendered it into DATA_DIR/transcripts (absent after a
   * restart): the file is rewritten from it with the outcome on top, rather than rendering the call again.
   */
  async compute(callId: string, o: { transcriptText?: string } = {}): Promise<CallOutcome | undefined> {
    const call = await this.host.call(callId);
    if (!call) return undefined;
    const req = await this.d.repo.request(callId);
    if (!req) return undefined; // created before outcomes existed, or its request could not be stored
    const goal = req.goal ?? call.instructions;
    const transcript = this.d.extractor ? transcriptEntries(call, await this.host.events(callId)) : [];
    if (!this.d.extractor) {
      const reason = this.d.notComputedReason ?? 'no text model is configured';
      this.d.repo.setResult(callId, 'not-computed', { summary: null, goalMet: null, fields: [], reason });
      this.host.record(callId, 'outcome', { status: 'not-computed', reason });
    } else if (transcript.length === 0) {
      // Nothing was said (no answer, busy, a failed dial, a machine hung up on at once): the record itself
      // says the goal was not met; no model is asked, and no fact is given.
      const summary = `Nothing was said on the call (it ended: ${call.endReason ?? 'unknown'}).`;
      const names = Object.keys((req.schema?.properties ?? {}) as object);
      this.d.repo.setResult(callId, 'computed', { summary, goalMet: 'not-achieved', fields: names.map((name) => ({ name, value: null, citation: null })), computedAt: this.host.now().toISOString() });
      this.host.record(callId, 'outcome', { status: 'computed', goalMet: 'not-achieved', found: [], note: 'nothing was said' });
    } else {
      // Not cut short by shutdown: an answer on its way is worth the wait (at most this long).
      const signal = AbortSignal.timeout(this.d.extractTimeoutMs ?? 120_000);
      try {
        const { usage, ...r } = await computeOutcome({ goal, schema: req.schema, transcript, extractor: this.d.extractor, signal });
        if (usage) this.host.recordUsage(callId, { provider: r.provider, model: r.model, meters: usageMeters(usage), source: 'outcome' });
        this.d.repo.setResult(callId, 'computed', { ...r, computedAt: this.host.now().toISOString() });
        const rejected = r.fields.filter((f) => f.rejected).map((f) => f.name);
        this.host.record(callId, 'outcome', { status: 'computed', goalMet: r.goalMet, found: r.fields.filter((f) => f.value !== null).map((f) => f.name), ...(rejected.length ? { rejected } : {}), provider: r.provider, model: r.model });
      } catch (err) {
        const reason = `${this.d.extractor.provider} ${this.d.extractor.model}: ${(err as Error).message}`.slice(0, 500);
        this.d.repo.setResult(callId, 'failed', { summary: null, goalMet: null, fields: [], reason, provider: this.d.extractor.provider, model: this.d.extractor.model });
        this.host.record(callId, 'outcome', { status: 'failed', reason });
        this.host.log.warn({ event: 'outcome.failed', callId, err: (err as Error).message }, 'outcome extraction failed');
      }
    }
    if (this.d.webhook) this.d.repo.setWebhook(callId, { status: 'pending', attempts: 0 });
    const outcome = await this.d.repo.get(callId, call.instructions);
    await this.rewriteTranscriptFile(callId, outcome, o.transcriptText);
    return outcome;
  }

  /** TRANSCRIPTS_DIR/<id>.txt was written as the call ended: it gets the outcome too. */
  private async rewriteTranscriptFile(callId: string, outcome: CallOutcome | undefined, rendered: string | undefined): Promise<void> {
    const call = await this.host.call(callId);
    if (!call?.transcriptPath || !outcome) return;
    try {
      const text = rendered ?? renderTranscriptText(call, await this.host.events(callId), call.clientName ?? undefined);
      await writeRecordFile(recordFilePath(this.host.transcriptsDir, call.transcriptPath), withOutcomeText(text, outcome));
    } catch (err) {
      this.host.record(callId, 'error', { source: 'records', fatal: false, code: 'transcript_write_failed', message: (err as Error).message });
    }
  }

  /** Pushes the stored outcome to CALL_WEBHOOK_URL with retries; every try is on the call's timeline. */
  async deliver(callId: string): Promise<WebhookDelivery | undefined> {
    const target = this.d.webhook;
    const call = await this.host.call(callId);
    const outcome = call && (await this.d.repo.get(callId, call.instructions));
    if (!target || !call || !outcome) return undefined;
    const deliveryId = randomUUID();
    const body = JSON.stringify(webhookPayload(call, outcome, deliveryId));
    this.d.repo.setWebhook(callId, { status: 'pending', attempts: 0 });
    const r = await deliver(target, body, deliveryId, {
      now: () => this.host.now(),
      signal: this.stopping.signal,
      onAttempt: (attempt, res, willRetry) => {
        this.host.record(callId, 'webhook', { deliveryId, attempt, ...(res.ok ? { status: 'delivered', httpStatus: res.status } : { status: willRetry ? 'retrying' : 'failed', error: res.error }) });
        this.d.repo.setWebhook(callId, res.ok ? { status: 'delivered', attempts: attempt, deliveredAt: this.host.now().toISOString() } : { status: willRetry ? 'pending' : 'failed', attempts: attempt, lastError: res.error });
      },
    });
    if (!r.delivered) {
      this.d.repo.setWebhook(callId, { status: 'failed', attempts: r.attempts, ...(r.lastError ? { lastError: r.lastError } : {}) });
      this.host.log.warn({ event: 'webhook.failed', callId, attempts: r.attempts, error: r.lastError }, 'the outcome webhook was not delivered; the outcome stays in the call record');
    }
    return (await this.d.repo.get(callId, call.instructions))?.webhook;
  }

  /** After a restart: the outcome of each ended call the server stopped before working out. */
  async resumePending(track: (p: Promise<unknown>) => void, nodeId?: string): Promise<number> {
    const pending = await this.d.repo.pendingForEnded({ nodeId, now: this.host.now(), othersAfterMs: OTHER_NODES_OUTCOMES_AFTER_MS });
    let resumed = 0;
    for (const { callId, updatedAt } of pending) {
      if (!(await this.d.repo.claimPending(callId, updatedAt, this.host.now()))) continue;
      resumed++;
      track(this.compute(callId).then(() => (this.d.webhook ? this.deliver(callId) : undefined)));
    }
    return resumed;
  }

  /** The outcome is worked out (computed, not computed or failed): there is something to deliver. */
  async isFinal(callId: string): Promise<boolean> {
    const call = await this.host.call(callId);
    const status = call && (await this.d.repo.get(callId, call.instructions))?.status;
    return Boolean(status && status !== 'pending');
  }

  get webhookConfigured(): boolean {
    return Boolean(this.d.webhook);
  }

  /** Shutdown: webhook retry pauses end (those deliveries stay failed, the outcome kept in the record). */
  stop(): void {
    this.stopping.abort();
  }
}
