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

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 check, so a pass-through chunk is known to be well formed without decoding it. */
export function isBase64(s: string): boolean {
  return s.length > 0 && s.length % 4 === 0 && BASE64.test(s);
}
