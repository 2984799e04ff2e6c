import Database from 'better-sqlite3';
import type { Db } from './database.js';
import type { Campaign, CampaignNumber, CampaignStatus, NumberOutcome, Progress } from '../campaigns/campaign-schema.js';

const N_SELECT = `SELECT campaign_id AS campaignId, idx AS "index", to_number AS "to", variables, timezone, state, outcome, attempts, next_at AS nextAt, call_id AS callId, call_ids AS callIds, end_reason AS endReason, detail, updated_at AS updatedAt FROM campaign_numbers`;
const C_SELECT = `SELECT id, name, status, spec, total, created_at AS createdAt, updated_at AS updatedAt FROM campaigns`;
type RawNumber = Omit<CampaignNumber, 'variables' | 'callIds'> & { variables: string; callIds: string };
type RawCampaign = Omit<Campaign, 'spec'> & { spec: string };
const num = (r: RawNumber): CampaignNumber => ({ ...r, variables: JSON.parse(r.variables), callIds: JSON.parse(r.callIds) });
const camp = (r: RawCampaign | undefined): Campaign | undefined => r && { ...r, spec: JSON.parse(r.spec) };

/** The lock is held elsewhere (a backup, another process): the caller tries again on its next turn. */
export function isBusy(err: unknown): boolean {
  return /^SQLITE_(BUSY|LOCKED)/.test(String((err as { code?: unknown })?.code));
}

/**
 * The campaigns and their numbers. Every write that decides who dials what is made on the raw
 * connection, around the writer's queue (see database.ts and scheduled-calls-repo.ts): a claim must be
 * known to hold before a number is dialled, so a locked database fails it now (SQLITE_BUSY, tried again
 * on the next turn) instead of queueing it. A claim is a lease: its owner (a node id) and an expiry,
 * renewed while the owner lives; every later write on the number names the owner, so a node whose lease
 * ran out and was taken over cannot write over the new owner's work.
 */
export class CampaignsRepo {
  private readonly raw: (sql: string) => Database.Statement<unknown[]>;
  private readonly txn: <T>(fn: () => T) => () => T;

  constructor(private readonly db: Db) {
    this.raw = (sql) => Database.prototype.prepare.call(db, sql) as Database.Statement<unknown[]>;
    // BEGIN IMMEDIATE: the write lock is taken before the reads, so two claimers cannot read the same free slots.
    this.txn = (fn) => (Database.prototype.transaction.call(db, fn) as unknown as { immediate: () => ReturnType<typeof fn> }).immediate;
  }

  insert(c: Campaign, numbers: Array<Pick<CampaignNumber, 'to' | 'variables' | 'timezone'>>): void {
    const ins = this.raw('INSERT INTO campaigns (id, name, status, spec, total, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const insN = this.raw('INSERT INTO campaign_numbers (campaign_id, idx, to_number, variables, timezone, state, next_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.txn(() => {
      ins.run(c.id, c.name, c.status, JSON.stringify(c.spec), c.total, c.createdAt, c.updatedAt);
      numbers.forEach((n, i) => insN.run(c.id, i + 1, n.to, JSON.stringify(n.variables), n.timezone, 'pending', c.createdAt, c.createdAt));
    })();
  }

  get(id: string): Campaign | undefined {
    return camp(this.db.prepare(`${C_SELECT} WHERE id = ?`).get(id) as RawCampaign | undefined);
  }

  list(limit: number): Campaign[] {
    return (this.db.prepare(`${C_SELECT} ORDER BY created_at DESC, id LIMIT ?`).all(limit) as RawCampaign[]).map((r) => camp(r)!);
  }

  /** Campaigns the runner looks after: active ones, and any with a call still in flight (a cancelled one's last calls). */
  working(): Campaign[] {
    return (this.db.prepare(`${C_SELECT} WHERE status = 'active' OR id IN (SELECT DISTINCT campaign_id FROM campaign_numbers WHERE state IN ('dialing', 'calling'))`).all() as RawCampaign[]).map((r) => camp(r)!);
  }

  numbers(campaignId: string): CampaignNumber[] {
    return (this.db.prepare(`${N_SELECT} WHERE campaign_id = ? ORDER BY idx`).all(campaignId) as RawNumber[]).map(num);
  }

  number(campaignId: string, index: number): CampaignNumber | undefined {
    const r = this.db.prepare(`${N_SELECT} WHERE campaign_id = ? AND idx = ?`).get(campaignId, index) as RawNumber | undefined;
    return r && num(r);
  }

  progress(campaignId: string): Progress {
    const rows = this.db.prepare('SELECT state, outcome, COUNT(*) AS n FROM campaign_numbers WHERE campaign_id = ? GROUP BY state, outcome').all(campaignId) as Array<{ state: string; outcome: NumberOutcome | null; n: number }>;
    const p: Progress = { total: 0, pending: 0, inFlight: 0, done: 0 };
    for (const r of rows) {
      p.total += r.n;
      if (r.state === 'pending') p.pending += r.n;
      else if (r.state === 'done') {
        p.done += r.n;
        if (r.outcome) p[r.outcome] = (p[r.outcome] ?? 0) + r.n;
      } else p.inFlight += r.n;
    }
    return p;
  }

  /** Moves a campaign between statuses if, and only if, it is in one of `from` now. */
  setStatus(id: string, from: CampaignStatus[], to: CampaignStatus, now: Date): boolean {
    return this.raw(`UPDATE campaigns SET status = ?, updated_at = ? WHERE id = ? AND status IN (${from.map(() => '?').join(',')})`).run(to, now.toISOString(), id, ...from).changes === 1;
  }

  /**
   * Claims up to the campaign's free slots among its due numbers, for `owner` until `leaseUntil`, in one
   * transaction: the slots counted and the rows claimed cannot change in between. Each claim counts as an
   * attempt (given back by `release` when nothing was dialled). `most`: the server's own free slots.
   */
  claimDue(campaignId: string, owner: string, now: Date, leaseUntil: Date, concurrency: number, most = Infinity): CampaignNumber[] {
    const inFlight = this.raw(`SELECT COUNT(*) FROM campaign_numbers WHERE campaign_id = ? AND state IN ('dialing', 'calling')`).pluck();
    const due = this.raw(`SELECT idx FROM campaign_numbers WHERE campaign_id = ? AND state = 'pending' AND next_at <= ? ORDER BY next_at, idx LIMIT ?`).pluck();
    const claim = this.raw(`UPDATE campaign_numbers SET state = 'dialing', attempts = attempts + 1, lease_owner = ?, lease_until = ?, updated_at = ? WHERE campaign_id = ? AND idx = ? AND state = 'pending'`);
    const isActive = this.raw(`SELECT 1 FROM campaigns WHERE id = ? AND status = 'active'`).pluck();
    const claimed = this.txn(() => {
      if (!isActive.get(campaignId)) return [] as number[];
      const free = Math.min(most, concurrency - (inFlight.get(campaignId) as number));
      if (free <= 0) return [] as number[];
      const idxs = due.all(campaignId, now.toISOString(), free) as number[];
      for (const idx of idxs) claim.run(owner, leaseUntil.toISOString(), now.toISOString(), campaignId, idx);
      return idxs;
    })();
    return claimed.map((idx) => this.number(campaignId, idx)!);
  }

  /** The dial placed a call: the number waits on it (still leased by `owner`). */
  markCalling(campaignId: string, index: number, owner: string, callId: string, now: Date): boolean {
    return (
      this.raw(`UPDATE campaign_numbers SET state = 'calling', call_id = ?, call_ids = json_insert(call_ids, '$[#]', ?), updated_at = ? WHERE campaign_id = ? AND idx = ? AND lease_owner = ? AND state = 'dialing'`).run(
        callId,
        callId,
        now.toISOString(),
        campaignId,
        index,
        owner,
      ).changes === 1
    );
  }

  /** Back to waiting until `nextAt` (a retry, or a deferral); `uncount`: nothing was dialled, the attempt is given back. */
  release(campaignId: string, index: number, owner: string, o: { nextAt: Date; now: Date; detail: string | null; endReason?: string | null; uncount: boolean }): boolean {
    return (
      this.raw(
        `UPDATE campaign_numbers SET state = 'pending', attempts = attempts - ?, next_at = ?, detail = ?, end_reason = COALESCE(?, end_reason), lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE campaign_id = ? AND idx = ? AND lease_owner = ? AND state IN ('dialing', 'calling')`,
      ).run(o.uncount ? 1 : 0, o.nextAt.toISOString(), o.detail, o.endReason ?? null, o.now.toISOString(), campaignId, index, owner).changes === 1
    );
  }

  finish(campaignId: string, index: number, owner: string, o: { outcome: NumberOutcome; endReason: string | null; detail: string | null; now: Date }): boolean {
    return (
      this.raw(`UPDATE campaign_numbers SET state = 'done', outcome = ?, end_reason = ?, detail = ?, lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE campaign_id = ? AND idx = ? AND lease_owner = ? AND state IN ('dialing', 'calling')`).run(
        o.outcome,
        o.endReason,
        o.detail,
        o.now.toISOString(),
        campaignId,
        index,
        owner,
      ).changes === 1
    );
  }

  /** Numbers this owner holds (dialling or on a call). */
  held(owner: string): CampaignNumber[] {
    return (this.raw(`${N_SELECT} WHERE lease_owner = ? AND state IN ('dialing', 'calling') ORDER BY campaign_id, idx`).all(owner) as RawNumber[]).map(num);
  }

  renewLeases(owner: string, until: Date): void {
    this.raw(`UPDATE campaign_numbers SET lease_until = ? WHERE lease_owner = ? AND state IN ('dialing', 'calling')`).run(until.toISOString(), owner);
  }

  /**
   * Takes over claims whose owner is gone: its lease ran out, or it is this node before a restart (the
   * same node id). They become this owner's, to be settled from what the calls table says.
   */
  adoptOrphans(owner: string, now: Date, leaseUntil: Date): number {
    return this.raw(`UPDATE campaign_numbers SET lease_owner = ?, lease_until = ? WHERE state IN ('dialing', 'calling') AND (lease_owner = ? OR lease_owner IS NULL OR lease_until < ?)`).run(owner, leaseUntil.toISOString(), owner, now.toISOString()).changes;
  }

  /** Cancels what has not been dialled; numbers on a call finish it. */
  cancelPending(campaignId: string, now: Date): number {
    return this.raw(`UPDATE campaign_numbers SET state = 'done', outcome = 'cancelled', detail = 'the campaign was cancelled before this number was dialled', updated_at = ? WHERE campaign_id = ? AND state = 'pending'`).run(now.toISOString(), campaignId).changes;
  }

  /** The call placed for a dial attempt, found by the attempt key in its metadata (the dial's idempotency key). */
  callForAttempt(attemptKey: string): string | undefined {
    return this.db.prepare(`SELECT id FROM calls WHERE json_extract(metadata, '$.campaignAttempt') = ? LIMIT 1`).pluck().get(attemptKey) as string | undefined;
  }

  /** The earliest time a waiting number of an active campaign is due. */
  nextDueAt(): Date | undefined {
    const at = this.db.prepare(`SELECT MIN(n.next_at) FROM campaign_numbers n JOIN campaigns c ON c.id = n.campaign_id WHERE c.status = 'active' AND n.state = 'pending'`).pluck().get() as string | null;
    return at ? new Date(at) : undefined;
  }
}
