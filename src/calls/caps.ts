import { sql } from 'kysely';
import type { Settings } from '../config/settings.js';
import type { CallRow, CallsRepo } from '../store/calls-repo.js';
import type { SqlStore } from '../store/sql/sql-store.js';

export interface CapRefusal {
  rule: 'max-concurrent-calls' | 'max-calls-per-day' | 'max-cost-per-day';
  message: string;
  retryAfterSec: number;
}

/** Start of the current day, UTC: the caps' "day" (one boundary for every callee, whatever their zone). */
export function utcDayStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

/** The one key every node's caps check locks on PostgreSQL (pg_advisory_xact_lock), so checks take turns. */
export const CAPS_LOCK_KEY = 7416016;

/** What the caps are measured against. */
export interface CapsCounts {
  live: number;
  today: number;
  spentUsd: number;
}

type CapsSettings = Pick<Settings, 'MAX_CALLS_PER_DAY' | 'MAX_CONCURRENT_CALLS' | 'MAX_COST_PER_DAY_USD'>;

/** Per calls repository (one per node): admissions take turns within the node. */
const turns = new WeakMap<object, Promise<unknown>>();

/**
 * Volume and spend caps, checked before a call is placed, and the call's insert in the same step
 * (`admit`). A value of 0 turns a cap off. Only calls that were placed count (refusals are not calls);
 * today's spend is every call created today (deleted ones too) at its running cost (the `cost_usd` column,
 * this node's live calls priced to the moment).
 */
export class CallCaps {
  constructor(
    private readonly s: CapsSettings,
    private readonly calls: CallsRepo,
  ) {}

  private get store(): SqlStore {
    return this.calls.store;
  }

  /**
   * Checks the caps and, when none is reached, inserts the call: atomically within the node on SQLite (the
   * embedded, one-node mode) and across nodes on PostgreSQL. `localLive` is this node's live calls plus those
   * past the check and not yet live (SQLite counts them from memory, as ever); `admitted` runs as soon as
   * the row is in, before any other admission's check. On PostgreSQL the body first takes an advisory
   * lock on one fixed key, so two nodes' checks take turns, and live calls are counted in the table: those
   * not ended whose node's lease has not run out (a crashed node's calls stop counting after CALL_LEASE_MS).
   */
  admit(row: CallRow, localLive: () => number, now: Date, admitted: () => void = () => undefined): Promise<CapRefusal | undefined> {
    const prev = turns.get(this.calls) ?? Promise.resolve();
    const mine = prev.then(() => (this.store.dialect === 'postgres' ? this.admitAcrossNodes(row, now) : this.admitHere(row, localLive, now))).then((r) => {
      if (!r) admitted();
      return r;
    });
    turns.set(this.calls, mine.catch(() => undefined));
    return mine;
  }

  private async admitHere(row: CallRow, localLive: () => number, now: Date): Promise<CapRefusal | undefined> {
    const day = utcDayStart(now).toISOString();
    const live = localLive();
    const today = this.s.MAX_CALLS_PER_DAY > 0 ? await this.calls.countCreatedSince(day) : 0;
    const spentUsd = this.s.MAX_COST_PER_DAY_USD > 0 ? await this.calls.spentSince(day, now.getTime()) : 0;
    const refusal = this.verdict({ live, today, spentUsd }, now);
    if (!refusal) this.calls.insert(row);
    return refusal;
  }

  private async admitAcrossNodes(row: CallRow, now: Date): Promise<CapRefusal | undefined> {
    const { calls, store } = this;
    const db = store.db;
    const day = utcDayStart(now).toISOString();
    const leased = new Date(now.getTime()).toISOString();
    const inserted = calls.leased(row);
    const verdict = (c: CapsCounts) => this.verdict(c, now);
    // This node's live calls priced to the moment rather than at their last refresh (as on SQLite).
    const fresh = calls.liveCostAdjustment(day, now.getTime());
    const lock = sql`SELECT pg_advisory_xact_lock(${CAPS_LOCK_KEY})`.compile(db);
    const refusal = await store.atomically(function* () {
      yield { compile: () => lock };
      const liveRows = (yield db
        .selectFrom('calls')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('status', '!=', 'ended')
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '>', leased)]))).rows as Array<{ n: unknown }>;
      const todayRows = (yield db
        .selectFrom('calls')
        .select((eb) => [eb.fn.countAll().as('n'), eb.fn.coalesce(eb.fn.sum<number>('cost_usd'), sql<number>`0`).as('usd')])
        .where('created_at', '>=', day)).rows as Array<{ n: unknown; usd: unknown }>;
      const deletedRows = (yield db
        .selectFrom('deleted_calls')
        .select((eb) => [eb.fn.countAll().as('n'), eb.fn.coalesce(eb.fn.sum<number>('cost_usd'), sql<number>`0`).as('usd')])
        .where('created_at', '>=', day)).rows as Array<{ n: unknown; usd: unknown }>;
      const r = verdict({
        live: Number(liveRows[0]!.n),
        today: Number(todayRows[0]!.n) + Number(deletedRows[0]!.n),
        spentUsd: Number(todayRows[0]!.usd) + Number(deletedRows[0]!.usd) + fresh,
      });
      if (r) return r;
      yield calls.insertQuery(inserted);
      return undefined;
    });
    if (!refusal) calls.adopt(inserted);
    return refusal;
  }

  /** The refusal for these counts, if a cap is reached. */
  verdict(c: CapsCounts, now: Date): CapRefusal | undefined {
    const s = this.s;
    const untilMidnight = Math.max(1, Math.ceil((utcDayStart(now).getTime() + 86_400_000 - now.getTime()) / 1000));
    if (s.MAX_CONCURRENT_CALLS > 0 && c.live >= s.MAX_CONCURRENT_CALLS) {
      return { rule: 'max-concurrent-calls', retryAfterSec: 30, message: `${c.live} calls are live, the most allowed at once (MAX_CONCURRENT_CALLS=${s.MAX_CONCURRENT_CALLS}); try again when one ends` };
    }
    if (s.MAX_CALLS_PER_DAY > 0 && c.today >= s.MAX_CALLS_PER_DAY) {
      return { rule: 'max-calls-per-day', retryAfterSec: untilMidnight, message: `${c.today} calls were placed today (UTC), the daily maximum (MAX_CALLS_PER_DAY=${s.MAX_CALLS_PER_DAY})` };
    }
    if (s.MAX_COST_PER_DAY_USD > 0 && c.spentUsd >= s.MAX_COST_PER_DAY_USD) {
      return { rule: 'max-cost-per-day', retryAfterSec: untilMidnight, message: `today's calls (UTC) have cost $${c.spentUsd.toFixed(2)}, reaching the daily maximum (MAX_COST_PER_DAY_USD=${s.MAX_COST_PER_DAY_USD})` };
    }
    return undefined;
  }

  /** USD spent on calls created today (UTC), priced exactly as each call's cost breakdown is. */
  spentToday(now: Date): Promise<number> {
    return this.calls.spentSince(utcDayStart(now).toISOString(), now.getTime());
  }
}
