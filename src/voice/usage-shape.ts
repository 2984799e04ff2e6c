/**
 * Usage reports come from the provider as free-form JSON and feed straight into cost arithmetic. A
 * count that is a string, negative or not finite would turn a call's cost into NaN, and a list that is
 * not an array would throw while it is summed, so the codecs keep only fields of the documented shape.
 */
export type UsageShape = { [key: string]: 'count' | 'string' | UsageShape | [UsageShape] };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A copy of `v` with only the fields `shape` names, each of its type; undefined if `v` is not an object. */
export function pickUsage<T>(v: unknown, shape: UsageShape): T | undefined {
  if (!isObj(v)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, kind] of Object.entries(shape)) {
    const x = v[key];
    if (kind === 'count') {
      if (typeof x === 'number' && Number.isFinite(x) && x >= 0) out[key] = x;
    } else if (kind === 'string') {
      if (typeof x === 'string') out[key] = x;
    } else if (Array.isArray(kind)) {
      if (Array.isArray(x)) out[key] = x.map((item) => pickUsage(item, kind[0])).filter((item) => item !== undefined);
    } else {
      const nested = pickUsage(x, kind);
      if (nested !== undefined) out[key] = nested;
    }
  }
  return out as T;
}
