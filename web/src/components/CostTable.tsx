import type { CostBreakdown } from '../lib/types';
import { formatMoney } from '../lib/format';

export function CostTable({ cost }: { cost: CostBreakdown }) {
  return (
    <div class="table-wrap">
      <table class="table cost-table">
        <caption class="visually-hidden">Cost breakdown</caption>
        <thead>
          <tr>
            <th scope="col">Item</th>
            <th scope="col" class="num">
              Amount
            </th>
          </tr>
        </thead>
        <tbody>
          {cost.lines.length === 0 && (
            <tr>
              <td colSpan={2} class="muted">
                Nothing billed yet.
              </td>
            </tr>
          )}
          {cost.lines.map((l) => (
            <tr key={l.item}>
              <td>
                <span class="cost-item">{l.item}</span>
                {l.source === 'estimate' && <span class="tag">estimate</span>}
                <span class="cost-qty">
                  {l.quantity.toLocaleString()} {l.unit}
                  {l.quantity === 1 ? '' : 's'}
                  {l.unitPrice !== null && l.unit === 'minute' ? ` × ${formatMoney(l.unitPrice, cost.currency)}` : ''}
                </span>
              </td>
              <td class="num">{formatMoney(l.amount, cost.currency)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">
              Total
            </th>
            <td class="num total">{formatMoney(cost.total, cost.currency)}</td>
          </tr>
        </tfoot>
      </table>
      <p class="hint">
        Price table {cost.priceTable}.{cost.unpriced.length > 0 && ` Not priced (unknown, not zero): ${cost.unpriced.join(', ')}.`}
      </p>
    </div>
  );
}
