/** Reciprocal rank fusion: score(d) = Σ 1 / (k + rank of d in each list). k = 60 as in Cormack et al. */
export const RRF_K = 60;

export function reciprocalRankFusion<T>(lists: Array<{ name: string; items: T[]; weight?: number }>, key: (item: T) => string, k = RRF_K): Array<{ item: T; score: number; ranks: Record<string, number> }> {
  const fused = new Map<string, { item: T; score: number; ranks: Record<string, number> }>();
  for (const list of lists) {
    list.items.forEach((item, index) => {
      const id = key(item);
      const entry = fused.get(id) ?? { item, score: 0, ranks: {} };
      entry.score += (list.weight ?? 1) / (k + index + 1);
      entry.ranks[list.name] = index + 1;
      fused.set(id, entry);
    });
  }
  // Ties (same fused score) keep the order of first appearance, which favours the first list.
  return [...fused.values()].sort((a, b) => b.score - a.score);
}
