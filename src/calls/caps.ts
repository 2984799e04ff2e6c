import type { Settings } from '../config/settings.js';
import type { CallsRepo } from '../store/calls-repo.js';
import type { Timeline } from '../records/timeline.js';
import type { StoredEvent } from '../store/events-repo.js';
import { computeCost } from '../records/cost.js';
import type { PriceTable } from '../records/pricing.js';

export interface CapRefusal {
  rule: 'max-concurrent-calls' | 'max-calls-per-day' | 'max-cost-per-day';
  message: string;
  retryAfterSec: number;
}

/** Each of today's calls' usage events, by call id. */
export type UsageByCall = ReadonlyMap<string, StoredEvent[]>;

/** Start of the current day, UTC: the caps' "day" (one boundary for every callee, whatever their zone). */
export function utcDayStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

/**
 * Volume and spend caps, checked before a call is placed. A value of 0 turns a cap off. Only calls that
 * were placed count (refusals are not calls); today's spend is every call created today, live ones at
 * their running cost.
 */
export class CallCaps {
  constructor(
    private readonly s: Pick<Settings, 'MAX_CALLS_PER_DAY' | 'MAX_CONCURRENT_CALLS' | 'MAX_COST_PER_DAY_USD' | 'TWILIO_PRICE_PER_MINUTE'>,
    private readonly calls: Pick<CallsRepo, 'countCreatedSince' | 'listCreatedSince'> & Partial<Pick<CallsRepo, 'deletedSince'>>,
    private readonly timeline: Pick<Timeline, 'listOfType'>,
    private readonly prices: PriceTable,
  ) {}

  /**
   * What the spend cap needs that the store reads asynchronously: today's calls' usage events. Read before
   * `check`, which stays synchronous so that the caller's check and insert keep no await between them
   * (two requests cannot both slip under a cap on one node). Usage appended in the moment between the
   * two is priced at the next check. Empty when the spend cap is off.
   */
  async usageToday(now: Date): Promise<UsageByCall> {
    const usage = new Map<string, StoredEvent[]>();
    if (this.s.MAX_COST_PER_DAY_USD <= 0) return usage;
    for (const call of this.calls.listCreatedSince(utcDayStart(now).toISOString())) usage.set(call.id, await this.timeline.listOfType(call.id, 'usage'));
    return usage;
  }

  /** `usage`: from `usageToday`, read just before (a call created since has none yet). */
  check(liveCalls: number, now: Date, usage: UsageByCall): CapRefusal | undefined {
    const s = this.s;
    const untilMidnight = Math.max(1, Math.ceil((utcDayStart(now).getTime() + 86_400_000 - now.getTime()) / 1000));
    if (s.MAX_CONCURRENT_CALLS > 0 && liveCalls >= s.MAX_CONCURRENT_CALLS) {
      return { rule: 'max-concurrent-calls', retryAfterSec: 30, message: `${liveCalls} calls are live, the most allowed at once (MAX_CONCURRENT_CALLS=${s.MAX_CONCURRENT_CALLS}); try again when one ends` };
    }
    if (s.MAX_CALLS_PER_DAY > 0) {
      const today = this.calls.countCreatedSince(utcDayStart(now).toISOString());
      if (today >= s.MAX_CALLS_PER_DAY) return { rule: 'max-calls-per-day', retryAfterSec: untilMidnight, message: `${today} calls were placed today (UTC), the daily maximum (MAX_CALLS_PER_DAY=${s.MAX_CALLS_PER_DAY})` };
    }
    if (s.MAX_COST_PER_DAY_USD > 0) {
      const spent = this.spentFrom(now, usage);
      if (spent >= s.MAX_COST_PER_DAY_USD) {
        return { rule: 'max-cost-per-day', retryAfterSec: untilMidnight, message: `today's calls (UTC) have cost $${spent.toFixed(2)}, reaching the daily maximum (MAX_COST_PER_DAY_USD=${s.MAX_COST_PER_DAY_USD})` };
      }
    }
    return undefined;
  }

  /** USD spent on calls created today (UTC), priced exactly as each call's cost breakdown is. */
  async spentToday(now: Date): Promise<number> {
    const usage = new Map<string, StoredEvent[]>();
    for (const call of this.calls.listCreatedSince(utcDayStart(now).toISOString())) usage.set(call.id, await this.timeline.listOfType(call.id, 'usage'));
    return this.spentFrom(now, usage);
  }

  private spentFrom(now: Date, usage: UsageByCall): number {
    // Deleted calls were paid for all the same.
    let total = this.calls.deletedSince?.(utcDayStart(now).toISOString()).costUsd ?? 0;
    for (const call of this.calls.listCreatedSince(utcDayStart(now).toISOString())) {
      total += computeCost(call, usage.get(call.id) ?? [], this.prices, this.s.TWILIO_PRICE_PER_MINUTE, now.getTime()).total;
    }
    return total;
  }
}
