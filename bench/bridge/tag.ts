/**
 * The timestamp tag each bench audio frame carries through the bridge, and the clock it is read against.
 *
 * Why it survives: the product negotiates `audio/pcmu` both ways with OpenAI Realtime
 * (src/voice/openai-realtime/engine.ts) and its pass-through audio path forwards the base64 untouched,
 * so any mu-law bytes arrive as sent. But the bridge also *listens* to the caller audio (a Silero or
 * energy VAD decides barge-in), so a tag of arbitrary bytes would be loud clicks that could open the
 * greeting early or cut the agent off. The tag is therefore written only in the quietest mu-law codes
 * (segment 0: 0x70..0x7F and 0xF0..0xFF, |sample| <= 120 of 32767, about -48 dBFS peak), 5 bits per
 * byte, in a frame of exact silence (0xFF): the VAD hears silence, the bytes are unchanged.
 *
 * The receiver scans every payload for the 3-byte magic (carrying a partial tag over to the next
 * message), so a bridge that merges or re-cuts audio messages still delivers readable tags. A bridge
 * that transcodes would destroy them: the bench then reports no tagged frames instead of a figure.
 *
 * The clock: `process.hrtime()` reads CLOCK_MONOTONIC, which is one clock for every process on the
 * machine, so a time written by the load process is comparable with one read by the model process.
 */

/** Monotonic microseconds, comparable across processes on this machine. */
export function monoUs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e6 + ns / 1e3;
}

export const TAG_MAGIC = Buffer.from([0x73, 0xf9, 0x7c]);
const MAGIC = TAG_MAGIC;
/** 35 bits of microseconds (9.5 h) + 20 bits of call + 25 bits of frame number + 5 bits of check. */
const T_SYMBOLS = 7;
const CALL_SYMBOLS = 4;
const SEQ_SYMBOLS = 5;
export const TAG_BYTES = MAGIC.length + T_SYMBOLS + CALL_SYMBOLS + SEQ_SYMBOLS + 1;
const T_MOD = 2 ** 35;
/** No bench frame is this old: a tag that says so is a misread (see readTag). */
export const MAX_AGE_US = 10 * 60 * 1e6;

/** A 5-bit value as one of the 32 quietest mu-law codes. */
export const tagSymbol = (v: number) => 0x70 | (v & 15) | (v & 16 ? 0x80 : 0);
const enc = tagSymbol;
const isSymbol = (b: number) => (b & 0x70) === 0x70;
const dec = (b: number) => (b & 15) | (b & 0x80 ? 16 : 0);

export interface Tag {
  /** The call's bench index. */
  call: number;
  /** The frame's number on its call and direction, from 1. */
  seq: number;
  /** Send time (monoUs) reconstructed from the tag, given the time it was read. */
  sentUs: number;
}

function writeField(frame: Buffer, at: number, value: number, symbols: number): number {
  let v = value;
  for (let i = symbols - 1; i >= 0; i--) {
    frame[at + i] = enc(v % 32);
    v = Math.floor(v / 32);
  }
  return at + symbols;
}

function readField(buf: Buffer, at: number, symbols: number): number {
  let v = 0;
  for (let i = 0; i < symbols; i++) v = v * 32 + dec(buf[at + i]);
  return v;
}

/** Writes the tag at `at` (the rest of the frame is left as it is: silence). */
export function writeTag(frame: Buffer, call: number, seq: number, at = 0, nowUs = monoUs()): void {
  MAGIC.copy(frame, at);
  let p = at + MAGIC.length;
  p = writeField(frame, p, Math.floor(nowUs) % T_MOD, T_SYMBOLS);
  p = writeField(frame, p, call, CALL_SYMBOLS);
  p = writeField(frame, p, seq, SEQ_SYMBOLS);
  let check = 0;
  for (let i = at + MAGIC.length; i < p; i++) check ^= dec(frame[i]);
  frame[p] = enc(check);
}

function readTag(buf: Buffer, at: number, nowUs: number): Tag | undefined {
  let check = 0;
  const end = at + TAG_BYTES - 1;
  for (let i = at + MAGIC.length; i < end; i++) {
    if (!isSymbol(buf[i])) return undefined;
    check ^= dec(buf[i]);
  }
  if (!isSymbol(buf[end]) || dec(buf[end]) !== check) return undefined;
  let p = at + MAGIC.length;
  const t = readField(buf, p, T_SYMBOLS);
  p += T_SYMBOLS;
  const call = readField(buf, p, CALL_SYMBOLS);
  p += CALL_SYMBOLS;
  const seq = readField(buf, p, SEQ_SYMBOLS);
  // The tag holds the send time modulo 2^35 us; the send was in the recent past.
  const ageUs = (((Math.floor(nowUs) % T_MOD) - t) % T_MOD + T_MOD) % T_MOD;
  // The 5-bit check lets one random match in 32 through (e.g. agent audio that happens to hold the magic);
  // such a misread decodes to any age up to 9.5 h. No frame of a bench run is older than MAX_AGE_US.
  if (ageUs > MAX_AGE_US) return undefined;
  return { call, seq, sentUs: nowUs - ageUs };
}

/** Finds tags in one direction of one stream, across message boundaries. */
export class TagScanner {
  private carry: Buffer | null = null;

  scan(payload: Buffer, onTag: (tag: Tag) => void, nowUs = monoUs()): void {
    const buf = this.carry ? Buffer.concat([this.carry, payload]) : payload;
    this.carry = null;
    let i = buf.indexOf(MAGIC);
    while (i >= 0) {
      if (i + TAG_BYTES > buf.length) {
        this.carry = Buffer.from(buf.subarray(i));
        return;
      }
      const tag = readTag(buf, i, nowUs);
      if (tag) onTag(tag);
      i = buf.indexOf(MAGIC, i + 1);
    }
    // A magic cut at the end of this message: keep its start for the next one.
    for (let k = Math.min(MAGIC.length - 1, buf.length); k > 0; k--) {
      if (buf.subarray(buf.length - k).equals(MAGIC.subarray(0, k))) {
        this.carry = Buffer.from(buf.subarray(buf.length - k));
        return;
      }
    }
  }
}
