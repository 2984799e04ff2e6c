/**
 * Cuts the LLM's streamed text into clauses to speak one by one, so the first audio waits only for the
 * first clause, not the whole reply. A sentence ends at . ! ? followed by a space (so "3.5" and "e.g."
 * inside a word are not ends); a long sentence is also cut at , ; : once it has enough words to sound
 * natural on its own; a run with no punctuation is cut at a space past MAX_CHARS.
 */
const MIN_CLAUSE_CHARS = 24;
const MAX_CHARS = 180;
const ABBREVIATIONS = /\b(mr|mrs|ms|dr|st|no|vs|etc|approx|appt|jr|sr)\.$/i;

export class ClauseSplitter {
  private buf = '';

  push(text: string): string[] {
    this.buf += text;
    const out: string[] = [];
    for (;;) {
      const cut = this.findCut();
      if (cut < 0) break;
      const clause = clean(this.buf.slice(0, cut));
      this.buf = this.buf.slice(cut);
      if (clause) out.push(clause);
    }
    return out;
  }

  flush(): string[] {
    const clause = clean(this.buf);
    this.buf = '';
    return clause ? [clause] : [];
  }

  /** Index just past the end of the first complete clause, or -1. */
  private findCut(): number {
    const b = this.buf;
    for (let i = 0; i < b.length - 1; i++) {
      const c = b[i];
      if (!/\s/.test(b[i + 1])) continue;
      if (c === '.' || c === '!' || c === '?' || c === '\n') {
        if (c === '.' && ABBREVIATIONS.test(b.slice(0, i + 1))) continue;
        if (b.slice(0, i + 1).trim()) return i + 1;
      }
      if ((c === ',' || c === ';' || c === ':') && b.slice(0, i).trim().length >= MIN_CLAUSE_CHARS) return i + 1;
    }
    if (b.length > MAX_CHARS) {
      const space = b.lastIndexOf(' ', MAX_CHARS);
      if (space > 0) return space + 1;
    }
    return -1;
  }
}

/** Markdown a model may write anyway is not read out ("asterisk asterisk"). */
export function clean(text: string): string {
  return text.replace(/[*_#`~]+/g, '').replace(/\s+/g, ' ').trim();
}
