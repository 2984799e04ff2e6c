import { readFileSync, statSync } from 'node:fs';

/**
 * The do-not-call list: a text file, one E.164 number per line; `#` starts a comment; spaces, dashes,
 * dots and parentheses inside a number are ignored. It is re-read when its size or modification time
 * changes (one stat per call attempt), so edits apply to the next call without a restart.
 */
export class DncList {
  private numbers = new Set<string>();
  private stamp = '';
  /** Lines that are not numbers, reported so a typo does not silently let a number through. */
  invalidLines: number[] = [];

  constructor(readonly file: string) {}

  /** True if the number is listed. Throws if the file cannot be read: a missing list must not mean "call anyone". */
  has(e164: string): boolean {
    this.refresh();
    return this.numbers.has(e164);
  }

  get size(): number {
    this.refresh();
    return this.numbers.size;
  }

  private refresh(): void {
    let st;
    try {
      st = statSync(this.file);
    } catch (err) {
      throw new Error(`DNC_FILE ${this.file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); no calls are placed until it can`);
    }
    const stamp = `${st.size}:${st.mtimeMs}:${st.ino}`;
    if (stamp === this.stamp) return;
    const parsed = parseDncText(readFileSync(this.file, 'utf8'));
    this.numbers = parsed.numbers;
    this.invalidLines = parsed.invalidLines;
    this.stamp = stamp;
  }
}

export function parseDncText(text: string): { numbers: Set<string>; invalidLines: number[] } {
  const numbers = new Set<string>();
  const invalidLines: number[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const body = line.replace(/#.*/, '').trim();
    if (!body) return;
    const n = body.replace(/[\s\-.()]/g, '');
    if (/^\+[1-9]\d{1,14}$/.test(n)) numbers.add(n);
    else invalidLines.push(i + 1);
  });
  return { numbers, invalidLines };
}
