import assert from 'node:assert/strict';

/** Every number anywhere in a parsed usage report is a finite, non-negative count. */
export function assertCounts(v: unknown, path = 'usage'): void {
  if (typeof v === 'number') assert.ok(Number.isFinite(v) && v >= 0, `${path} is a count, got ${v}`);
  else if (Array.isArray(v)) v.forEach((x, i) => assertCounts(x, `${path}[${i}]`));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) assertCounts(x, `${path}.${k}`);
  else assert.ok(v === undefined || typeof v === 'string', `${path} has an unexpected ${typeof v}`);
}
