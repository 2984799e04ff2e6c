/**
 * Splits extracted text into retrieval chunks of about `targetChars`, cutting at paragraph boundaries
 * first, then sentence boundaries, then (for run-on text) word boundaries. Consecutive chunks of one
 * page share up to `overlapChars` of whole sentences, so a fact that straddles a cut is whole in one of
 * them. Chunks never cross pages. Pure function.
 */

export interface ChunkOptions {
  targetChars: number;
  overlapChars: number;
}

export const DEFAULT_CHUNKING: ChunkOptions = { targetChars: 500, overlapChars: 120 };

export interface Chunk {
  /** Ordinal within the document, 0-based, across pages. */
  position: number;
  page: number | null;
  /** Offsets into the document text: pages joined by a blank line ("\n\n"). */
  startChar: number;
  endChar: number;
  text: string;
  /** The heading-like line this chunk falls under, when the chunk does not start with it. */
  heading?: string;
}

interface Unit {
  start: number;
  end: number;
  /** A short standalone line such as a heading: kept with the text after it. */
  heading: boolean;
}

export function chunkPages(pages: Array<{ page: number | null; text: string }>, o: ChunkOptions = DEFAULT_CHUNKING): Chunk[] {
  const chunks: Chunk[] = [];
  let base = 0;
  for (const p of pages) {
    for (const c of chunkText(p.text, o)) {
      chunks.push({ position: chunks.length, page: p.page, startChar: base + c.start, endChar: base + c.end, text: p.text.slice(c.start, c.end), ...(c.heading ? { heading: c.heading } : {}) });
    }
    base += p.text.length + 2;
  }
  return chunks;
}

/** Chunk spans [start, end) of one text. */
export function chunkText(text: string, o: ChunkOptions = DEFAULT_CHUNKING): Array<{ start: number; end: number; heading?: string }> {
  const units = unitsOf(text, o.targetChars);
  const spans: Array<{ start: number; end: number; heading?: string }> = [];
  let heading: string | undefined;
  let scanned = 0;
  let i = 0;
  while (i < units.length) {
    let j = i;
    while (j + 1 < units.length && units[j + 1]!.end - units[i]!.start <= o.targetChars) j++;
    // Do not end a chunk on a heading: it belongs to what follows.
    let next: number;
    if (j > i && j + 1 < units.length && units[j]!.heading) {
      j--;
      while (j > i && units[j]!.heading) j--;
      next = j + 1;
    } else {
      // Overlap: the next chunk starts with the last whole units of this one that fit in overlapChars
      // (never with its first unit, so every chunk makes progress).
      next = j + 1;
      // The overlap must leave room for the next unit, or the next chunk would repeat this one's tail.
      if (next < units.length) {
        while (next - 1 > i && units[j]!.end - units[next - 1]!.start <= o.overlapChars && units[j + 1]!.end - units[next - 1]!.start <= o.targetChars) next--;
      }
    }
    for (; scanned < i; scanned++) if (units[scanned]!.heading) heading = text.slice(units[scanned]!.start, units[scanned]!.end);
    spans.push({ start: units[i]!.start, end: units[j]!.end, ...(heading && !units[i]!.heading ? { heading } : {}) });
    i = next;
  }
  return spans;
}

/** Paragraphs; paragraphs longer than the target split into sentences; long sentences into word runs. */
function unitsOf(text: string, target: number): Unit[] {
  const units: Unit[] = [];
  for (const para of spansSplitBy(text, 0, text.length, /\n[ \t]*\n\s*/g)) {
    const paraText = text.slice(para.start, para.end);
    if (para.end - para.start <= target) {
      units.push({ ...para, heading: isHeading(paraText) });
      continue;
    }
    for (const sentence of spansSplitBy(text, para.start, para.end, /[.!?…]["'”’)\]]*\s+|\n+/g)) {
      if (sentence.end - sentence.start <= target) units.push({ ...sentence, heading: false });
      else units.push(...wordRuns(text, sentence.start, sentence.end, target));
    }
  }
  return units;
}

/** Trimmed, non-empty spans of text[from, to) between the separator's matches (separator kept left). */
function spansSplitBy(text: string, from: number, to: number, sep: RegExp): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  const slice = text.slice(from, to);
  let at = 0;
  const push = (s: number, e: number) => {
    while (s < e && /\s/.test(slice[s]!)) s++;
    while (e > s && /\s/.test(slice[e - 1]!)) e--;
    if (e > s) out.push({ start: from + s, end: from + e });
  };
  for (const m of slice.matchAll(sep)) {
    const cut = m.index + m[0].length;
    push(at, cut);
    at = cut;
  }
  push(at, slice.length);
  return out;
}

function wordRuns(text: string, start: number, end: number, target: number): Unit[] {
  const out: Unit[] = [];
  let s = start;
  while (end - s > target) {
    let cut = text.lastIndexOf(' ', s + target);
    if (cut <= s) cut = s + target;
    out.push({ start: s, end: cut, heading: false });
    s = cut;
    while (s < end && text[s] === ' ') s++;
  }
  if (end > s) out.push({ start: s, end, heading: false });
  return out;
}

function isHeading(para: string): boolean {
  return para.length <= 80 && !para.includes('\n') && !/[.!?:;,]$/.test(para);
}
