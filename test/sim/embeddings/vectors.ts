/**
 * Deterministic toy embeddings that carry some meaning: signed feature hashing of lower-cased word
 * stems (weight 1) and character trigrams (weight 0.35, so "allergic" is near "allergy"), L2-normalised.
 * Same text and dimension -> same vector, on every machine.
 */

const STOP = new Set('a an and are as at be by do does for from has have how i in is it me my of on or so that the this to was we what when where which who will with you your'.split(' '));

export function toyEmbedding(text: string, dimensions: number): Float32Array {
  const v = new Float32Array(dimensions);
  const words = text.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  for (const w of words) {
    if (STOP.has(w)) continue;
    add(v, `w:${stem(w)}`, 1);
    const padded = `^${w}$`;
    for (let i = 0; i + 3 <= padded.length; i++) add(v, `t:${padded.slice(i, i + 3)}`, 0.35);
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm === 0) v[0] = 1; // an empty text still gets a unit vector, as real models return one
  else for (let i = 0; i < v.length; i++) v[i]! /= norm;
  return v;
}

function add(v: Float32Array, feature: string, weight: number): void {
  const h = fnv1a(feature);
  v[h % v.length]! += h & 0x80000000 ? -weight : weight;
}

function stem(w: string): string {
  for (const suffix of ['ations', 'ation', 'ings', 'ing', 'ies', 'ied', 'es', 'ed', 'ly', 's']) {
    if (w.length > suffix.length + 2 && w.endsWith(suffix)) return w.slice(0, -suffix.length);
  }
  return w;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
}
