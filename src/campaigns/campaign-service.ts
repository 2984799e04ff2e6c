import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { CampaignsRepo } from '../store/campaigns-repo.js';
import type { RunbookLibrary } from '../runbooks/runbook-library.js';
import { ApiError } from '../server/errors.js';
import type { Campaign, CampaignNumber, CampaignStatus, CreateCampaignInput, Progress } from './campaign-schema.js';
import { checkNumbers, numbersFromCsv, numbersFromJson } from './campaign-input.js';
import type { CampaignRunner } from './campaign-runner.js';
import { csvLine } from './csv.js';

export interface CampaignView extends Omit<Campaign, 'spec'> {
  runbook: string | null;
  instructions: string | null;
  clientId: string | null;
  callingHours: string | null;
  timezone: string | null;
  concurrency: number;
  retries: Campaign['spec']['retries'];
  voicemail: Campaign['spec']['voicemail'] | null;
  progress: Progress;
}

export type NumberView = Omit<CampaignNumber, 'campaignId'>;

/** A change to a campaign, for its live stream: the campaign with its progress, and the number that changed. */
export interface CampaignChange {
  campaign: CampaignView;
  number?: NumberView;
}

/** A campaign's whole state, where a watcher starts: the campaign with its progress, and every number. */
export interface CampaignSnapshot {
  campaign: CampaignView;
  numbers: NumberView[];
}

export interface CampaignWatcher {
  snapshot(s: CampaignSnapshot): void;
  change(c: CampaignChange): void;
  /** The snapshot could not be read (the store failed): nothing more comes. */
  failed(err: Error): void;
}

/** Campaigns as the API sees them: created (every number checked first), listed, paused, resumed, cancelled, exported. */
export class CampaignService {
  private readonly bus = new EventEmitter();
  /** The changes being told to watchers, one after another (`changed`). */
  private telling: Promise<void> = Promise.resolve();
  runner?: CampaignRunner;

  constructor(
    private readonly d: {
      repo: CampaignsRepo;
      runbooks: RunbookLibrary;
      now: () => Date;
      /** The checks made when a campaign is created that do not depend on the number (the carrier is configured, the client exists). */
      checkReady(input: { clientId?: string; provider?: string }): Promise<void>;
      /** Tells the other nodes of a change made here, for their watchers (absent: one node). */
      announce?(change: { campaignId: string; index?: number }): void;
    },
  ) {
    // One listener per open stream; many browsers may watch one campaign.
    this.bus.setMaxListeners(0);
  }

  async create(input: CreateCampaignInput): Promise<CampaignView> {
    const { numbers, csv, name, ...spec } = input;
    if (spec.runbook) {
      const found = await this.d.runbooks.get(spec.runbook);
      if (!('runbook' in found)) throw new ApiError('missing' in found ? 404 : 422, `runbook: ${found.problems[0]!.message}`, { code: 'missing' in found ? 'not_found' : 'unprocessable', field: 'runbook' });
    }
    await this.d.checkReady({ clientId: spec.clientId, provider: spec.provider });
    const rows = await checkNumbers(this.d.runbooks, spec, csv !== undefined ? numbersFromCsv(csv) : numbersFromJson(numbers!));
    const now = this.d.now().toISOString();
    const c: Campaign = { id: randomUUID(), name, status: 'active', createdAt: now, updatedAt: now, spec, total: rows.length };
    await this.d.repo.insert(c, rows);
    this.runner?.wake();
    return this.view(c);
  }

  async list(limit: number): Promise<CampaignView[]> {
    return Promise.all((await this.d.repo.list(limit)).map((c) => this.view(c)));
  }

  async get(id: string): Promise<CampaignView> {
    return this.view(await this.load(id));
  }

  async numbers(id: string): Promise<NumberView[]> {
    await this.load(id);
    return (await this.d.repo.numbers(id)).map(numberView);
  }

  pause(id: string): Promise<CampaignView> {
    return this.move(id, ['active'], 'paused', 'only an active campaign can be paused');
  }

  async resume(id: string): Promise<CampaignView> {
    const v = await this.move(id, ['paused'], 'active', 'only a paused campaign can be resumed');
    this.runner?.wake();
    return v;
  }

  /** Stops the campaign: numbers not dialled yet are cancelled; calls in progress finish and keep their outcome. */
  async cancel(id: string): Promise<CampaignView> {
    await this.move(id, ['active', 'paused'], 'cancelled', 'the campaign is already over');
    await this.d.repo.cancelPending(id, this.d.now());
    this.changed(id);
    return this.get(id);
  }

  /** Every number with its outcome, as CSV (one row per number; its variables as columns). */
  async resultsCsv(id: string): Promise<string> {
    const c = await this.load(id);
    const rows = await this.d.repo.numbers(c.id);
    const vars = [...new Set(rows.flatMap((r) => Object.keys(r.variables)))];
    let out = csvLine(['row', 'to', ...vars, 'state', 'outcome', 'attempts', 'end_reason', 'call_id', 'call_ids', 'detail', 'updated_at']);
    for (const r of rows) out += csvLine([r.index, r.to, ...vars.map((v) => r.variables[v] ?? ''), r.state, r.outcome ?? '', r.attempts, r.endReason ?? '', r.callId ?? '', r.callIds.join(' '), r.detail ?? '', r.updatedAt]);
    return out;
  }

  /** A change made on this node (its runner, its API): its watchers are told, and the other nodes' through them. */
  changed(campaignId: string, index?: number): void {
    this.tell(campaignId, index);
    this.d.announce?.({ campaignId, index });
  }

  /** A change another node made: this node's watchers are told. */
  changedElsewhere(campaignId: string, index?: number): void {
    this.tell(campaignId, index);
  }

  /**
   * Tells the campaign's watchers what changed. The state is read from the store, so changes are told
   * one after another, in the order they were made (a read answered out of order must not show a watcher
   * older progress after newer).
   */
  private tell(campaignId: string, index?: number): void {
    if (!this.bus.listenerCount(campaignId)) return;
    this.telling = this.telling
      .then(async () => {
        const c = await this.d.repo.get(campaignId);
        if (!c) return;
        const n = index === undefined ? undefined : await this.d.repo.number(campaignId, index);
        this.bus.emit(campaignId, { campaign: await this.view(c), ...(n ? { number: numberView(n) } : {}) } satisfies CampaignChange);
      })
      .catch(() => undefined /* a watcher misses a change it will see in the next one */);
  }

  /**
   * Watches a campaign: its whole state first, then each change. The snapshot is read in turn with the
   * changes being told, so a change told before it is already in it and every later one comes after it:
   * a watcher that connects (or reconnects) while a number changes neither misses the change nor sees it
   * rolled back.
   */
  watch(campaignId: string, w: CampaignWatcher): () => void {
    let started = false;
    let stopped = false;
    const listener = (c: CampaignChange) => {
      if (!started) return; // read before the snapshot, which holds it
      try {
        w.change(c);
      } catch {
        /* a watcher's failure is its own */
      }
    };
    this.bus.on(campaignId, listener);
    const stop = () => {
      stopped = true;
      this.bus.off(campaignId, listener);
    };
    this.telling = this.telling.then(async () => {
      if (stopped) return; // the watcher left before its turn
      try {
        const c = await this.load(campaignId);
        const numbers = (await this.d.repo.numbers(campaignId)).map(numberView);
        const snapshot = { campaign: await this.view(c), numbers };
        started = true;
        w.snapshot(snapshot);
      } catch (err) {
        stop();
        w.failed(err as Error);
      }
    }).catch(() => undefined /* the watcher's own failure; the changes behind it are still told */);
    return stop;
  }

  private async move(id: string, from: CampaignStatus[], to: CampaignStatus, refusal: string): Promise<CampaignView> {
    const c = await this.load(id);
    if (!(await this.d.repo.setStatus(id, from, to, this.d.now()))) throw new ApiError(409, `${refusal} (it is ${(await this.d.repo.get(id))?.status ?? c.status})`, { code: 'conflict' });
    this.changed(id);
    return this.get(id);
  }

  private async load(id: string): Promise<Campaign> {
    const c = await this.d.repo.get(id);
    if (!c) throw new ApiError(404, 'campaign not found', { code: 'not_found' });
    return c;
  }

  private async view(c: Campaign): Promise<CampaignView> {
    const { spec, ...rest } = c;
    return {
      ...rest,
      runbook: spec.runbook ?? null,
      instructions: spec.instructions ?? null,
      clientId: spec.clientId ?? null,
      callingHours: spec.callingHours ?? null,
      timezone: spec.timezone ?? null,
      concurrency: spec.concurrency,
      retries: spec.retries,
      voicemail: spec.voicemail ?? null,
      progress: await this.d.repo.progress(c.id),
    };
  }
}

function numberView(n: CampaignNumber): NumberView {
  const { campaignId: _, ...rest } = n;
  return rest;
}
