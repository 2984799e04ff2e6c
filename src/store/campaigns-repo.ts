import type { Selectable } from 'kysely';
import type { Campaign, CampaignNumber, CampaignStatus, NumberOutcome, Progress } from '../campaigns/campaign-schema.js';
import type { SqlStore, TxResult } from './sql/sql-store.js';
import type { Tables } from './sql/tables.js';

type NumberRow = Selectable<Tables['campaign_numbers']>;
type CampaignRow = Selectable<Tables['campaigns']>;

const num = (r: NumberRow): CampaignNumber => ({
  campaignId: r.campaign_id,
  index: r.idx,
  to: r.to_number,
  variables: JSON.parse(r.variables),
  timezone: r.timezone,
  state: r.state as CampaignNumber['state'],
  outcome: r.outcome as NumberOutcome | null,
  attempts: r.attempts,
  nextAt: r.next_at,
  callId: r.call_id,
  callIds: JSON.parse(r.call_ids),
  endReason: r.end_reason,
  detail: r.detail,
  updatedAt: r.updated_at,
});
const camp = (r: CampaignRow): Campaign => ({ id: r.id, name: r.name, status: r.status as CampaignStatus, spec: JSON.parse(r.spec), total: r.total, createdAt: r.created_at, updatedAt: r.updated_at });

/** The lock is held elsewhere (a backup, another process): the caller tries again on its next turn. */
export function isBusy(err: unknown): boolean {
  return /^SQLITE_(BUSY|LOCKED)/.test(String((err as { code?: unknown })?.code));
}

const IN_FLIGHT = ['dialing', 'calling'];

/**
 * The campaigns and their numbers, on either database (sql/sql-store.ts). Every write that decides who
 * dials what is a `decide` or an `atomically` transaction, never a write SQLite's queue could hold back:
 * a claim must be known to hold before a number is dialled, so a locked SQLite database fails it now
 * (SQLITE_BUSY, tried again on the next turn) instead of queueing it. A claim is a lease: its owner (a node
 * id) and an expiry, renewed while the owner lives; every later write on the number names the owner, so a
 * node whose lease ran out and was taken over cannot write over the new owner's work.
 */
export class CampaignsRepo {
  constructor(private readonly store: SqlStore) {}

  private get db() {
    return this.store.db;
  }

  async insert(c: Campaign, numbers: Array<Pick<CampaignNumber, 'to' | 'variables' | 'timezone'>>): Promise<void> {
    const db = this.db;
    await this.store.atomically(function* () {
      yield db.insertInto('campaigns').values({ id: c.id, name: c.name, status: c.status, spec: JSON.stringify(c.spec), total: c.total, created_at: c.createdAt, updated_at: c.updatedAt });
      // In slices: one statement per 100 numbers keeps each under both databases' parameter limits.
      for (let i = 0; i < numbers.length; i += 100) {
        const slice = numbers.slice(i, i + 100).map((n, j) => ({ campaign_id: c.id, idx: i + j + 1, to_number: n.to, variables: JSON.stringify(n.variables), timezone: n.timezone, state: 'pending', next_at: c.createdAt, updated_at: c.createdAt }));
        yield db.insertInto('campaign_numbers').values(slice);
      }
    });
  }

  async get(id: string): Promise<Campaign | undefined> {
    const r = await this.db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
    return r && camp(r);
  }

  async list(limit: number): Promise<Campaign[]> {
    return (await this.db.selectFrom('campaigns').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(limit).execute()).map(camp);
  }

  /** Campaigns the runner looks after: active ones, and any with a call still in flight (a cancelled one's last calls). */
  async working(): Promise<Campaign[]> {
    const rows = await this.db
      .selectFrom('campaigns')
      .selectAll()
      .where((eb) => eb.or([eb('status', '=', 'active'), eb('id', 'in', eb.selectFrom('campaign_numbers').select('campaign_id').distinct().where('state', 'in', IN_FLIGHT))]))
      .execute();
    return rows.map(camp);
  }

  async numbers(campaignId: string): Promise<CampaignNumber[]> {
    return (await this.db.selectFrom('campaign_numbers').selectAll().where('campaign_id', '=', campaignId).orderBy('idx').execute()).map(num);
  }

  async number(campaignId: string, index: number): Promise<CampaignNumber | undefined> {
    const r = await this.db.selectFrom('campaign_numbers').selectAll().where('campaign_id', '=', campaignId).where('idx', '=', index).executeTakeFirst();
    return r && num(r);
  }

  async progress(campaignId: string): Promise<Progress> {
    const rows = await this.db
      .selectFrom('campaign_numbers')
      .select(['state', 'outcome', (eb) => eb.fn.countAll().as('n')])
      .where('campaign_id', '=', campaignId)
      .groupBy(['state', 'outcome'])
      .execute();
    const p: Progress = { total: 0, pending: 0, inFlight: 0, done: 0 };
    for (const r of rows) {
      const n = Number(r.n);
      const outcome = r.outcome as NumberOutcome | null;
      p.total += n;
      if (r.state === 'pending') p.pending += n;
      else if (r.state === 'done') {
        p.done += n;
        if (outcome) p[outcome] = (p[outcome] ?? 0) + n;
      } else p.inFlight += n;
    }
    return p;
  }

  /** Moves a campaign between statuses if, and only if, it is in one of `from` now. */
  async setStatus(id: string, from: CampaignStatus[], to: CampaignStatus, now: Date): Promise<boolean> {
    return (await this.store.decide(this.db.updateTable('campaigns').set({ status: to, updated_at: now.toISOString() }).where('id', '=', id).where('status', 'in', from))) === 1;
  }

  /**
   * Claims up to the campaign's free slots among its due numbers, for `owner` until `leaseUntil`, in one
   * transaction: the slots counted and the rows claimed cannot change in between (on PostgreSQL the
   * campaign's row is locked first, so claimers of one campaign on any node take turns). Each claim counts
   * as an attempt (given back by `release` when nothing was dialled). `most`: the server's own free slots.
   */
  async claimDue(campaignId: string, owner: string, now: Date, leaseUntil: Date, concurrency: number, most = Infinity): Promise<CampaignNumber[]> {
    const { db, store } = this;
    const at = now.toISOString();
    const idxs = await store.atomically(function* () {
      const active = db.selectFrom('campaigns').select('id').where('id', '=', campaignId).where('status', '=', 'active');
      const found: TxResult = yield store.dialect === 'postgres' ? active.forUpdate() : active;
      if (!found.rows.length) return [] as number[];
      const counted: TxResult = yield db.selectFrom('campaign_numbers').select((eb) => eb.fn.countAll().as('n')).where('campaign_id', '=', campaignId).where('state', 'in', IN_FLIGHT);
      const free = Math.min(most, concurrency - Number((counted.rows[0] as { n: number | string }).n));
      if (free <= 0) return [] as number[];
      const due: TxResult = yield db.selectFrom('campaign_numbers').select('idx').where('campaign_id', '=', campaignId).where('state', '=', 'pending').where('next_at', '<=', at).orderBy('next_at').orderBy('idx').limit(free);
      const chosen = (due.rows as Array<{ idx: number }>).map((r) => r.idx);
      for (const idx of chosen) {
        yield db
          .updateTable('campaign_numbers')
          .set((eb) => ({ state: 'dialing', attempts: eb('attempts', '+', 1), lease_owner: owner, lease_until: leaseUntil.toISOString(), updated_at: at }))
          .where('campaign_id', '=', campaignId)
          .where('idx', '=', idx)
          .where('state', '=', 'pending');
      }
      return chosen;
    });
    const claimed = await Promise.all(idxs.map((idx) => this.number(campaignId, idx)));
    return claimed.map((n) => n!);
  }

  /** The dial placed a call: the number waits on it (still leased by `owner`). */
  async markCalling(campaignId: string, index: number, owner: string, callId: string, now: Date): Promise<boolean> {
    const { db, store } = this;
    return store.atomically(function* () {
      const q = db.selectFrom('campaign_numbers').select('call_ids').where('campaign_id', '=', campaignId).where('idx', '=', index).where('lease_owner', '=', owner).where('state', '=', 'dialing');
      const held: TxResult = yield store.dialect === 'postgres' ? q.forUpdate() : q;
      if (!held.rows.length) return false;
      const callIds = [...(JSON.parse((held.rows[0] as { call_ids: string }).call_ids) as string[]), callId];
      const r: TxResult = yield db
        .updateTable('campaign_numbers')
        .set({ state: 'calling', call_id: callId, call_ids: JSON.stringify(callIds), updated_at: now.toISOString() })
        .where('campaign_id', '=', campaignId)
        .where('idx', '=', index)
        .where('lease_owner', '=', owner)
        .where('state', '=', 'dialing');
      return r.changes === 1;
    });
  }

  /** Back to waiting until `nextAt` (a retry, or a deferral); `uncount`: nothing was dialled, the attempt is given back. */
  async release(campaignId: string, index: number, owner: string, o: { nextAt: Date; now: Date; detail: string | null; endReason?: string | null; uncount: boolean }): Promise<boolean> {
    const q = this.db
      .updateTable('campaign_numbers')
      .set((eb) => ({
        state: 'pending',
        attempts: eb('attempts', '-', o.uncount ? 1 : 0),
        next_at: o.nextAt.toISOString(),
        detail: o.detail,
        end_reason: eb.fn.coalesce(eb.val(o.endReason ?? null), eb.ref('end_reason')),
        lease_owner: null,
        lease_until: null,
        updated_at: o.now.toISOString(),
      }))
      .where('campaign_id', '=', campaignId)
      .where('idx', '=', index)
      .where('lease_owner', '=', owner)
      .where('state', 'in', IN_FLIGHT);
    return (await this.store.decide(q)) === 1;
  }

  async finish(campaignId: string, index: number, owner: string, o: { outcome: NumberOutcome; endReason: string | null; detail: string | null; now: Date }): Promise<boolean> {
    const q = this.db
      .updateTable('campaign_numbers')
      .set({ state: 'done', outcome: o.outcome, end_reason: o.endReason, detail: o.detail, lease_owner: null, lease_until: null, updated_at: o.now.toISOString() })
      .where('campaign_id', '=', campaignId)
      .where('idx', '=', index)
      .where('lease_owner', '=', owner)
      .where('state', 'in', IN_FLIGHT);
    return (await this.store.decide(q)) === 1;
  }

  /** Numbers this owner holds (dialling or on a call). */
  async held(owner: string): Promise<CampaignNumber[]> {
    const rows = await this.db.selectFrom('campaign_numbers').selectAll().where('lease_owner', '=', owner).where('state', 'in', IN_FLIGHT).orderBy('campaign_id').orderBy('idx').execute();
    return rows.map(num);
  }

  async renewLeases(owner: string, until: Date): Promise<void> {
    await this.store.decide(this.db.updateTable('campaign_numbers').set({ lease_until: until.toISOString() }).where('lease_owner', '=', owner).where('state', 'in', IN_FLIGHT));
  }

  /**
   * Takes over claims whose owner is gone: its lease ran out, or it is this node before a restart (the
   * same node id). They become this owner's, to be settled from what the calls table says.
   */
  async adoptOrphans(owner: string, now: Date, leaseUntil: Date): Promise<number> {
    return this.store.decide(
      this.db
        .updateTable('campaign_numbers')
        .set({ lease_owner: owner, lease_until: leaseUntil.toISOString() })
        .where('state', 'in', IN_FLIGHT)
        .where((eb) => eb.or([eb('lease_owner', '=', owner), eb('lease_owner', 'is', null), eb('lease_until', '<', now.toISOString())])),
    );
  }

  /** Cancels what has not been dialled; numbers on a call finish it. */
  async cancelPending(campaignId: string, now: Date): Promise<number> {
    return this.store.decide(
      this.db
        .updateTable('campaign_numbers')
        .set({ state: 'done', outcome: 'cancelled', detail: 'the campaign was cancelled before this number was dialled', updated_at: now.toISOString() })
        .where('campaign_id', '=', campaignId)
        .where('state', '=', 'pending'),
    );
  }

  /** The earliest time a waiting number of an active campaign is due. */
  async nextDueAt(): Promise<Date | undefined> {
    const r = await this.db
      .selectFrom('campaign_numbers as n')
      .innerJoin('campaigns as c', 'c.id', 'n.campaign_id')
      .select((eb) => eb.fn.min('n.next_at').as('at'))
      .where('c.status', '=', 'active')
      .where('n.state', '=', 'pending')
      .executeTakeFirst();
    return r?.at ? new Date(r.at) : undefined;
  }
}
