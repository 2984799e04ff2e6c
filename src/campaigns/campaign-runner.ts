import { CallRequestError, type CreateCallInput } from '../calls/call-request.js';
import type { CallRow } from '../store/calls-repo.js';
import type { CampaignsRepo } from '../store/campaigns-repo.js';
import { isBusy } from '../store/campaigns-repo.js';
import type { RunbookLibrary } from '../runbooks/runbook-library.js';
import { ApiError } from '../server/errors.js';
import type { Campaign, CampaignNumber } from './campaign-schema.js';
import { attemptKey, callRequestFor } from './campaign-input.js';
import { afterCall, outsideCampaignHours } from './dial-decision.js';

export interface RunnerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RunnerDeps {
  repo: CampaignsRepo;
  runbooks: RunbookLibrary;
  /** Places a call through every check a call gets (dial policy, caps): POST /api/calls's own path. */
  dial(input: CreateCallInput): Promise<CallRow>;
  getCall(id: string): Promise<CallRow | undefined>;
  /** The call placed for a dial attempt, by the attempt key in its metadata (the dial's idempotency key). */
  callForAttempt(attemptKey: string): Promise<string | undefined>;
  /**
   * How many more calls the server may have live now (MAX_CONCURRENT_CALLS less the live ones; Infinity
   * without a cap). Claims stay under it, so a campaign waits for a free line instead of collecting a
   * cap refusal (and a refusal record) for every number it would otherwise try.
   */
  freeLines(): number;
  nodeId: string;
  leaseMs: number;
  tickMs: number;
  now: () => Date;
  log: RunnerLog;
  /** A campaign's numbers or status changed (the live progress stream). */
  changed(campaignId: string, index?: number): void;
}

/** How long a number waits after a refusal that passes (the global CALLING_HOURS, a cap) when the refusal names no time. */
const DEFER_MS = 15 * 60_000;

/**
 * Dials the campaigns' numbers. Each turn it renews this node's claims, takes over claims whose owner is
 * gone, settles numbers whose call ended (outcome, or a retry with backoff), and claims due numbers up to
 * each campaign's concurrency (campaigns-repo.ts: one transaction, with a lease) and dials them.
 *
 * A number is never dialled twice for one attempt: the claim comes first, and the call request carries
 * the attempt's key in its metadata. The call row is stored before the carrier dials (call-creation.ts),
 * so after a crash a claimed number with a call row was (maybe) dialled and waits on that call, and one
 * without a call row was not dialled and is given back to be dialled.
 */
export class CampaignRunner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  /** Numbers this process is dialling right now (not orphans, whatever their row says). */
  private readonly dialing = new Map<string, Promise<void>>();

  constructor(private readonly d: RunnerDeps) {}

  start(): void {
    this.stopped = false;
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await Promise.allSettled([...this.dialing.values()]);
  }

  /** Looks now (a campaign was created or resumed). */
  wake(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.turn()
      .catch((err) => {
        if (isBusy(err)) this.d.log.warn({ event: 'campaign.storeBusy' }, 'campaigns: the database is locked; trying again');
        else this.d.log.error({ event: 'campaign.turnFailed', err: (err as Error).message }, 'campaigns: a turn failed; trying again');
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        } else if (!this.stopped) this.timer = setTimeout(() => this.wake(), this.d.tickMs).unref();
      });
  }

  private async turn(): Promise<void> {
    const { repo, nodeId, now } = this.d;
    const leaseUntil = () => new Date(now().getTime() + this.d.leaseMs);
    await repo.renewLeases(nodeId, leaseUntil());
    await repo.adoptOrphans(nodeId, now(), leaseUntil());
    for (const n of await repo.held(nodeId)) {
      if (this.dialing.has(key(n))) continue;
      await this.settle(n);
    }
    for (const c of await repo.working()) {
      if (this.stopped) return;
      if (c.status === 'active') {
        // Dials under way may or may not be live yet: counted both ways, a line is left idle a moment, never overused.
        const lines = Math.max(0, this.d.freeLines() - this.dialing.size);
        for (const n of lines ? await repo.claimDue(c.id, nodeId, now(), leaseUntil(), c.spec.concurrency, lines) : []) {
          const p = this.dialOne(c, n).finally(() => this.dialing.delete(key(n)));
          this.dialing.set(key(n), p);
        }
      }
      await this.completeIfDone(c);
    }
  }

  /** A held number that is not being dialled now: on a call (settled when it ends), or orphaned mid-dial. */
  private async settle(n: CampaignNumber): Promise<void> {
    const { repo, nodeId, now } = this.d;
    if (n.state === 'dialing') {
      // Left mid-dial by a crash: the call row tells whether the carrier may have been asked.
      const callId = await this.d.callForAttempt(attemptKey(n.campaignId, n.index, n.attempts));
      if (callId) await repo.markCalling(n.campaignId, n.index, nodeId, callId, now());
      else await repo.release(n.campaignId, n.index, nodeId, { nextAt: now(), now: now(), detail: 'interrupted before it was dialled; dialled again', uncount: true });
      this.d.log.warn({ event: 'campaign.dialRecovered', campaignId: n.campaignId, number: n.index, callId }, 'campaigns: a dial cut short by a restart was settled');
      this.d.changed(n.campaignId, n.index);
      return;
    }
    const call = n.callId ? await this.d.getCall(n.callId) : undefined;
    if (!call) {
      // Deleted (DELETE /api/calls/{id}) before its end was seen: what came of it is not known any more.
      await repo.finish(n.campaignId, n.index, nodeId, { outcome: 'failed', endReason: null, detail: `its call ${n.callId} was deleted before its outcome was recorded`, now: now() });
      this.d.changed(n.campaignId, n.index);
      return;
    }
    if (call.status !== 'ended') return;
    const campaign = (await repo.get(n.campaignId))!;
    const next = afterCall(call, n, campaign.spec, now());
    if ('retryAt' in next && campaign.status !== 'cancelled') {
      await repo.release(n.campaignId, n.index, nodeId, { nextAt: next.retryAt, now: now(), detail: next.detail, endReason: call.endReason, uncount: false });
    } else {
      const outcome = 'done' in next ? next.done : (call.endReason as 'busy' | 'no-answer');
      await repo.finish(n.campaignId, n.index, nodeId, { outcome, endReason: call.endReason, detail: next.detail, now: now() });
    }
    this.d.log.info({ event: 'campaign.numberSettled', campaignId: n.campaignId, number: n.index, callId: call.id, endReason: call.endReason }, 'campaigns: a call ended');
    this.d.changed(n.campaignId, n.index);
  }

  private async dialOne(c: Campaign, n: CampaignNumber): Promise<void> {
    const { repo, nodeId, now, log } = this.d;
    const release = (nextAt: Date, detail: string) => repo.release(c.id, n.index, nodeId, { nextAt, now: now(), detail, uncount: true });
    const finish = (outcome: 'refused' | 'failed', detail: string) => repo.finish(c.id, n.index, nodeId, { outcome, endReason: null, detail, now: now() });
    try {
      const hours = await outsideCampaignHours(n, c.spec, now());
      if (hours && 'never' in hours) return void (await finish('refused', hours.never));
      if (hours) return void (await release(hours.until, hours.detail));
      const input = await callRequestFor(this.d.runbooks, c.spec, { campaignId: c.id, index: n.index, attempt: n.attempts, to: n.to, variables: n.variables });
      const call = await this.d.dial(input);
      await repo.markCalling(c.id, n.index, nodeId, call.id, now());
      log.info({ event: 'campaign.dialled', campaignId: c.id, number: n.index, attempt: n.attempts, callId: call.id }, 'campaigns: number dialled');
    } catch (err) {
      const rule = err instanceof CallRequestError ? err.policy?.rule : undefined;
      const status = err instanceof CallRequestError || err instanceof ApiError ? err.status : 500;
      const message = (err as Error).message;
      // Refusals that pass with time (the global calling hours, a cap) wait; one that will not (do-not-call,
      // the allow list, a runbook that no longer fits) ends the number; a server-side failure waits too.
      if (rule === 'calling-hours') await release(new Date(now().getTime() + DEFER_MS), message);
      else if (status === 429) await release(new Date(now().getTime() + ((err as CallRequestError).policy?.retryAfterSec ?? DEFER_MS / 1000) * 1000), message);
      else if (status >= 500) await release(new Date(now().getTime() + 60_000), `could not be dialled now: ${message}`);
      else await finish('refused', message);
      log.warn({ event: 'campaign.dialRefused', campaignId: c.id, number: n.index, rule, status }, 'campaigns: a number was not dialled');
    } finally {
      this.d.changed(c.id, n.index);
    }
  }

  private async completeIfDone(c: Campaign): Promise<void> {
    if (c.status !== 'active') return;
    const p = await this.d.repo.progress(c.id);
    if (p.pending === 0 && p.inFlight === 0 && (await this.d.repo.setStatus(c.id, ['active'], 'completed', this.d.now()))) {
      this.d.log.info({ event: 'campaign.completed', campaignId: c.id }, 'campaigns: every number is done');
      this.d.changed(c.id);
    }
  }
}

const key = (n: Pick<CampaignNumber, 'campaignId' | 'index'>) => `${n.campaignId}:${n.index}`;
