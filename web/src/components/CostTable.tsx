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
              Quantity
            </th>
            <th scope="col" class="num">
              Amount
            </th>
          </tr>
        </thead>
        <tbody>
          {cost.lines.length === 0 && (
            <tr>
              <td colSpan={3} class="muted">
                Nothing billed yet.
              </td>
            </tr>
          )}
          {cost.lines.map((l) => (
            <tr key={l.item}>
              <td>
                {l.item}
                {l.source === 'estimate' && <span class="tag">estimate</span>}
              </td>
              <td class="num">
                {l.quantity.toLocaleString()} {l.unit}
                {l.quantity === 1 ? '' : 's'}
              </td>
              <td class="num">{formatMoney(l.amount, cost.currency)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row" colSpan={2}>
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
