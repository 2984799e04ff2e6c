/**
 * A piece of audio as it travels between carrier and engine. Both wire protocols carry audio as base64;
 * when nothing needs to look at the samples (mu-law end to end), the base64 text goes from one socket to
 * the other without being decoded and re-encoded. Either view is computed once, on first use.
 */
export class AudioChunk {
  private constructor(
    private b64: string | undefined,
    private raw: Uint8Array | undefined,
  ) {}

  static fromBase64(b64: string): AudioChunk {
    return new AudioChunk(b64, undefined);
  }

  static fromBytes(bytes: Uint8Array): AudioChunk {
    return new AudioChunk(undefined, bytes);
  }

  get base64(): string {
    if (this.b64 === undefined) this.b64 = Buffer.from(this.raw!.buffer, this.raw!.byteOffset, this.raw!.byteLength).toString('base64');
    return this.b64;
  }

  get bytes(): Uint8Array {
    if (this.raw === undefined) this.raw = Buffer.from(this.b64!, 'base64');
    return this.raw;
  }

  /** Length in bytes, computed from the base64 text without decoding it. */
  get length(): number {
    if (this.raw !== undefined) return this.raw.length;
    const s = this.b64!;
    const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
    return (s.length / 4) * 3 - pad;
  }

  subarray(start: number, end: number): AudioChunk {
    return AudioChunk.fromBytes(this.bytes.subarray(start, end));
  }
}

/** 1 for the 64 base64 alphabet characters (by char code), 0 for anything else. */
const ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') ALPHABET[c.charCodeAt(0)] = 1;
const EQ = 61;

/**
 * Strict base64 check, so a pass-through chunk is known to be well formed without decoding it: a length
 * that is a multiple of 4, alphabet characters only, and at most two `=` at the very end. A table loop
 * rather than a regular expression: it runs on every audio frame in each direction, and the regex cost
 * about twice as much.
 */
export function isBase64(s: string): boolean {
  const n = s.length;
  if (n === 0 || n % 4 !== 0) return false;
  let end = n;
  if (s.charCodeAt(n - 1) === EQ) end = s.charCodeAt(n - 2) === EQ ? n - 2 : n - 1;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || ALPHABET[c] === 0) return false;
  }
  return true;
}

/** isBase64 over bytes `[start, end)` of a buffer (a frame not yet turned into a string). */
export function isBase64Bytes(b: Uint8Array, start: number, end: number): boolean {
  const n = end - start;
  if (n <= 0 || n % 4 !== 0) return false;
  let stop = end;
  if (b[end - 1] === EQ) stop = b[end - 2] === EQ ? end - 2 : end - 1;
  for (let i = start; i < stop; i++) {
    const c = b[i]!;
    if (c > 127 || ALPHABET[c] === 0) return false;
  }
  return true;
}
