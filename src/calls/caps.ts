import type { Settings } from '../config/settings.js';
import type { CallsRepo } from '../store/calls-repo.js';
import type { Timeline } from '../records/timeline.js';
import { computeCost } from '../records/cost.js';
import type { PriceTable } from '../records/pricing.js';

export interface CapRefusal {
  rule: 'max-concurrent-calls' | 'max-calls-per-day' | 'max-cost-per-day';
  message: string;
  retryAfterSec: number;
}

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

  check(liveCalls: number, now: Date): CapRefusal | undefined {
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
      const spent = this.spentToday(now);
      if (spent >= s.MAX_COST_PER_DAY_USD) {
        return { rule: 'max-cost-per-day', retryAfterSec: untilMidnight, message: `today's calls (UTC) have cost $${spent.toFixed(2)}, reaching the daily maximum (MAX_COST_PER_DAY_USD=${s.MAX_COST_PER_DAY_USD})` };
      }
    }
    return undefined;
  }

  /** USD spent on calls created today (UTC), priced exactly as each call's cost breakdown is. */
  spentToday(now: Date): number {
    // Deleted calls were paid for all the same.
    let total = this.calls.deletedSince?.(utcDayStart(now).toISOString()).costUsd ?? 0;
    for (const call of this.calls.listCreatedSince(utcDayStart(now).toISOString())) {
      total += computeCost(call, this.timeline.listOfType(call.id, 'usage'), this.prices, this.s.TWILIO_PRICE_PER_MINUTE, now.getTime()).total;
    }
    return total;
  }
}
