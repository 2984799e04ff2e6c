import type { StoredEvent } from '../store/events-repo.js';
import type { CallRow } from '../store/calls-repo.js';
import { billedMinutes, carrierExtras, unitPrice, type PriceTable } from './pricing.js';

export type { CostLine, CostBreakdown } from '../shared/api-types.js';
import type { CostLine, CostBreakdown } from '../shared/api-types.js';

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

/**
 * Cost of a call from its record and timeline: carrier minutes (the carrier's reported price when it has
 * come, else minutes at the configured rate), the carrier's per-call extras (answering-machine detection,
 * recording: the reported call price does not include them), plus every usage event priced from the table.
 */
export function computeCost(call: CallRow, events: StoredEvent[], table: PriceTable, carrierPricePerMinute: number, nowMs = Date.now()): CostBreakdown {
  const lines: CostLine[] = [];
  const endMs = call.endedAt ? Date.parse(call.endedAt) : nowMs;
  const seconds = call.carrierDurationSec ?? (call.answeredAt ? Math.max(0, (endMs - Date.parse(call.answeredAt)) / 1000) : 0);
  if (call.carrierPrice !== null) {
    lines.push({ item: `${call.carrier} call`, quantity: billedMinutes(call.carrierDurationSec ?? 0), unit: 'minute', unitPrice: null, amount: Math.abs(call.carrierPrice), source: 'carrier' });
  } else if (call.answeredAt) {
    const minutes = billedMinutes(seconds);
    lines.push({ item: `${call.carrier} call (estimate)`, quantity: minutes, unit: 'minute', unitPrice: carrierPricePerMinute, amount: round6(minutes * carrierPricePerMinute), source: 'estimate' });
  }

  const unpriced: string[] = [];
  // A recording is known once the carrier has reported it (after the call); the live ledger counts it from
  // the start when recording is on.
  for (const x of carrierExtras(call.carrier, { answered: Boolean(call.answeredAt), recorded: Boolean(call.recordingSid ?? call.recordingPath), seconds })) {
    const price = unitPrice(table, x.carrier, x.extra, x.meter);
    if (price === undefined) unpriced.push(`${x.carrier}:${x.extra}:${x.meter}`);
    lines.push({ item: `${x.carrier} ${x.extra.replace(/-/g, ' ')}`, quantity: x.quantity, unit: x.meter === 'calls' ? 'call' : 'minute', unitPrice: price ?? null, amount: round6(x.quantity * (price ?? 0)), source: 'estimate' });
  }

  const totals = new Map<string, { provider: string; model: string; meter: string; quantity: number }>();
  for (const ev of events) {
    if (ev.type !== 'usage') continue;
    const { provider, model, meters } = ev.data as { provider: string; model: string; meters: Record<string, number> };
    for (const [meter, q] of Object.entries(meters ?? {})) {
      if (!q) continue;
      const key = `${provider}:${model}:${meter}`;
      const t = totals.get(key) ?? { provider, model, meter, quantity: 0 };
      t.quantity += q;
      totals.set(key, t);
    }
  }
  for (const t of totals.values()) {
    const price = unitPrice(table, t.provider, t.model, t.meter);
    if (price === undefined) unpriced.push(`${t.provider}:${t.model}:${t.meter}`);
    lines.push({
      item: `${t.provider} ${t.model} ${t.meter.replace(/_/g, ' ')}`,
      quantity: t.quantity,
      unit: t.meter === 'audio_seconds' ? 'second' : 'token',
      unitPrice: price ?? null,
      amount: round6(t.quantity * (price ?? 0)),
      source: 'usage',
    });
  }
  const total = round6(lines.reduce((a, l) => a + l.amount, 0));
  return { currency: table.currency, total, priceTable: table.version, lines, unpriced };
}
