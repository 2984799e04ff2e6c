import type { UsageReport } from '../voice/engine.js';
import { billedMinutes, carrierExtras, unitPrice, type PriceTable } from '../records/pricing.js';

/**
 * The running cost of each live call: engine usage priced as it arrives, plus the carrier's per-minute
 * estimate for the time since answer (each started minute, as carriers bill) and its per-call extras
 * (answering-machine detection; recording minutes when calls are recorded). The same arithmetic as
 * records/cost.ts, kept incrementally so a check costs nothing whatever the length of the call.
 */
export class LiveCostLedger {
  private readonly usageUsd = new Map<string, number>();

  constructor(
    private readonly prices: PriceTable,
    private readonly carrierPerMinute: number,
    private readonly o: { carrier?: string; recordCalls?: boolean } = {},
  ) {}

  addUsage(callId: string, u: UsageReport): void {
    let add = 0;
    for (const [meter, q] of Object.entries(u.meters ?? {})) {
      if (q) add += q * (unitPrice(this.prices, u.provider, u.model, meter) ?? 0);
    }
    this.usageUsd.set(callId, (this.usageUsd.get(callId) ?? 0) + add);
  }

  /** USD so far: usage plus carrier minutes since answer (none before answer). */
  cost(callId: string, answeredAt: string | null, nowMs: number): number {
    const usage = this.usageUsd.get(callId) ?? 0;
    if (!answeredAt) return usage;
    const seconds = (nowMs - Date.parse(answeredAt)) / 1000;
    let extras = 0;
    for (const x of carrierExtras(this.o.carrier ?? 'twilio', { answered: true, recorded: this.o.recordCalls ?? false, seconds })) {
      extras += x.quantity * (unitPrice(this.prices, x.carrier, x.extra, x.meter) ?? 0);
    }
    return usage + billedMinutes(seconds) * this.carrierPerMinute + extras;
  }

  forget(callId: string): void {
    this.usageUsd.delete(callId);
  }
}
