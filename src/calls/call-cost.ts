import type { CallPricer } from '../store/calls-repo.js';
import { computeCost } from '../records/cost.js';
import { unitPrice, type PriceTable } from '../records/pricing.js';

/**
 * The running cost kept on each call's row (calls-repo.ts), priced as records/cost.ts prices the call's
 * breakdown: each usage report's meters at the table's unit prices, plus the carrier's part from the row
 * (its price once reported, else the per-minute estimate since answer, and its extras). The only
 * difference from the breakdown is rounding: the breakdown rounds each meter's total to 6 decimals, the
 * running cost adds each report unrounded.
 */
export function callPricer(prices: PriceTable, carrierPricePerMinute: number): CallPricer {
  return {
    usage(data) {
      const { provider, model, meters } = data as { provider: string; model: string; meters?: Record<string, number> };
      let usd = 0;
      for (const [meter, q] of Object.entries(meters ?? {})) if (q) usd += q * (unitPrice(prices, provider, model, meter) ?? 0);
      return usd;
    },
    total: (row, usageUsd, nowMs) => computeCost(row, [], prices, carrierPricePerMinute, nowMs).total + usageUsd,
  };
}
