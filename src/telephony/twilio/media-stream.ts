import { z } from 'zod';
import { AudioChunk, isBase64, isBase64Bytes } from '../../media/audio-chunk.js';

/**
 * Twilio Media Streams wire codec (bidirectional `<Connect><Stream>`): pure parse/build functions.
 * Inbound frames are validated by hand rather than with a schema library because `media` arrives 50 times
 * a second per call and this is the hot path; every other event is rare and checked just as strictly.
 */

export type InboundStreamEvent =
  | { event: 'connected' }
  | {
      event: 'start';
      streamSid: string;
      callSid: string;
      accountSid: string;
      customParameters: Record<string, string>;
      mediaFormat: { encoding: string; sampleRate: number; channels: number };
    }
  | { event: 'media'; streamSid: string; track: string; timestampMs: number; payload: AudioChunk }
  | { event: 'mark'; streamSid: string; name: string }
  | { event: 'dtmf'; streamSid: string; digit: string }
  | { event: 'stop'; streamSid: string };

export class StreamFrameError extends Error {
  constructor(message: string, readonly eventType?: string) {
    super(message);
    this.name = 'StreamFrameError';
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (o: Record<string, unknown>, k: string, ev: string): string => {
  const v = o[k];
  if (typeof v !== 'string' || v.length === 0) throw new StreamFrameError(`${ev}: "${k}" must be a non-empty string`, ev);
  return v;
};

// Unknown or garbled (not a finite number) reads as 0, as an absent value does, never NaN.
const finiteOr0 = (v: unknown): number => {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
};

/** Max size of a text frame we accept; a 20 ms media frame is ~300 bytes of JSON. */
export const MAX_STREAM_FRAME_BYTES = 64 * 1024;

export function parseInbound(raw: string | Buffer): InboundStreamEvent {
  if (raw.length > MAX_STREAM_FRAME_BYTES) throw new StreamFrameError(`frame of ${raw.length} bytes exceeds ${MAX_STREAM_FRAME_BYTES}`);
  let msg: unknown;
  try {
    msg = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    throw new StreamFrameError('frame is not valid JSON');
  }
  if (!isObj(msg)) throw new StreamFrameError('frame is not a JSON object');
  const ev = msg.event;
  if (typeof ev !== 'string') throw new StreamFrameError('frame has no "event"');
  switch (ev) {
    case 'media': {
      const media = msg.media;
      if (!isObj(media)) throw new StreamFrameError('media: "media" must be an object', ev);
      const payload = str(media, 'payload', ev);
      if (!isBase64(payload)) throw new StreamFrameError('media: payload is not base64 audio', ev);
      const ts = Number(media.timestamp ?? 0);
      return {
        event: 'media',
        streamSid: str(msg, 'streamSid', ev),
        track: typeof media.track === 'string' ? media.track : 'inbound',
        timestampMs: Number.isFinite(ts) ? ts : 0,
        payload: AudioChunk.fromBase64(payload),
      };
    }
    case 'mark': {
      const mark = msg.mark;
      if (!isObj(mark)) throw new StreamFrameError('mark: "mark" must be an object', ev);
      return { event: 'mark', streamSid: str(msg, 'streamSid', ev), name: str(mark, 'name', ev) };
    }
    case 'start': {
      const start = msg.start;
      if (!isObj(start)) throw new StreamFrameError('start: "start" must be an object', ev);
      const params = isObj(start.customParameters) ? start.customParameters : {};
      const customParameters: Record<string, string> = {};
      for (const [k, v] of Object.entries(params)) if (typeof v === 'string') customParameters[k] = v;
      const fmt = isObj(start.mediaFormat) ? start.mediaFormat : {};
      return {
        event: 'start',
        streamSid: typeof msg.streamSid === 'string' && msg.streamSid ? msg.streamSid : str(start, 'streamSid', ev),
        callSid: str(start, 'callSid', ev),
        accountSid: str(start, 'accountSid', ev),
        customParameters,
        mediaFormat: {
          encoding: String(fmt.encoding ?? ''),
          sampleRate: finiteOr0(fmt.sampleRate),
          channels: finiteOr0(fmt.channels),
        },
      };
    }
    case 'dtmf': {
      const dtmf = msg.dtmf;
      if (!isObj(dtmf)) throw new StreamFrameError('dtmf: "dtmf" must be an object', ev);
      const digit = str(dtmf, 'digit', ev);
      if (!/^[0-9*#A-D]$/.test(digit)) throw new StreamFrameError('dtmf: invalid digit', ev);
      return { event: 'dtmf', streamSid: str(msg, 'streamSid', ev), digit };
    }
    case 'stop':
      return { event: 'stop', streamSid: str(msg, 'streamSid', ev) };
    case 'connected':
      return { event: 'connected' };
    default:
      throw new StreamFrameError(`unknown event "${ev.slice(0, 32)}"`, ev.slice(0, 32));
  }
}

/**
 * The one audio format the bridge reads and writes: G.711 mu-law, 8 kHz, mono, as Twilio documents for
 * every bidirectional stream. The `start` message announces the stream's format; a stream in any other
 * (a Twilio-compatible carrier set to L16 or 16 kHz, a proxy re-encoding) would reach the voice engine as
 * noise, so it is refused, not bridged.
 */
export const SUPPORTED_MEDIA_FORMAT = z.object({
  encoding: z.literal('audio/x-mulaw'),
  sampleRate: z.literal(8000),
  channels: z.literal(1),
});
export type MediaFormat = z.infer<typeof SUPPORTED_MEDIA_FORMAT>;

/** How a stream's announced format reads in an error: `audio/l16, 16000 Hz, 2 channels` (0 = not given). */
export function describeMediaFormat(f: { encoding: string; sampleRate: number; channels: number }): string {
  const enc = f.encoding ? f.encoding.replace(/[^\x20-\x7e]/g, '?').slice(0, 40) : 'no encoding';
  return `${enc}, ${f.sampleRate ? `${f.sampleRate} Hz` : 'no sample rate'}, ${f.channels ? `${f.channels} channel${f.channels === 1 ? '' : 's'}` : 'no channel count'}`;
}

/**
 * Why a stream's announced format cannot be bridged, naming what arrived and what is needed; undefined
 * when it is mu-law 8 kHz mono.
 */
export function unsupportedMediaFormat(f: { encoding: string; sampleRate: number; channels: number }): string | undefined {
  const r = SUPPORTED_MEDIA_FORMAT.safeParse(f);
  if (r.success) return undefined;
  const wrong = r.error.issues.map((i) => String(i.path[0])).join(', ');
  return `media stream format ${describeMediaFormat(f)} is not supported (${wrong}): Callwright bridges audio/x-mulaw, 8000 Hz, 1 channel only`;
}

// Builders produce the only three messages Twilio accepts from us; anything else is error 31924.
// streamSid and mark names are our own ids ([A-Za-z0-9_.:-]), so string concatenation is safe and cheaper
// than JSON.stringify on the hot path; the payload is base64, which needs no escaping either.
export function buildMedia(streamSid: string, audio: AudioChunk): string {
  return `{"event":"media","streamSid":"${streamSid}","media":{"payload":"${audio.base64}"}}`;
}

export function buildMark(streamSid: string, name: string): string {
  return `{"event":"mark","streamSid":"${streamSid}","mark":{"name":"${name}"}}`;
}

export function buildClear(streamSid: string): string {
  return `{"event":"clear","streamSid":"${streamSid}"}`;
}

const SAFE_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
/** Guards the builders' assumption; called once when a stream starts, not per frame. */
export function assertSafeId(id: string): string {
  if (!SAFE_ID.test(id)) throw new StreamFrameError(`unsafe id "${id.slice(0, 40)}"`);
  return id;
}

/**
 * The fast path for the two frames that arrive 50 times a second per call or more: `media` and `mark`,
 * exactly as Twilio sends them (compact JSON, its key order, no escapes), matched byte by byte against
 * that template without building a string or an object for the whole frame. Only a frame that matches
 * the template completely is taken: it is then valid JSON whose parse is known, and its payload is valid
 * base64 and its stream id the one expected. Anything else (another key order, whitespace, escapes, a
 * foreign stream, garbage) returns false and goes through parseInbound, which validates it in full.
 */
export interface FastFrame {
  kind: 'media' | 'mark';
  /** The payload (base64) of a media frame, or the name of a mark. */
  text: string;
  /** A media frame of the outbound track (our own audio, echoed: not the callee's). */
  outbound: boolean;
}

const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const MEDIA_HEAD = bytes('{"event":"media","sequenceNumber":"');
const MEDIA_TRACK = bytes('","media":{"track":"');
const MEDIA_CHUNK = bytes('","chunk":"');
const MEDIA_TS = bytes('","timestamp":"');
const MEDIA_PAYLOAD = bytes('","payload":"');
const MEDIA_SID = bytes('"},"streamSid":"');
const MARK_HEAD = bytes('{"event":"mark","sequenceNumber":"');
const MARK_SID = bytes('","streamSid":"');
const MARK_NAME = bytes('","mark":{"name":"');
const QUOTE = 34;
const OUTBOUND = bytes('outbound');

/** Position after `lit` if it is at `i`, else -1. */
function lit(b: Uint8Array, i: number, l: Uint8Array): number {
  if (i < 0 || i + l.length > b.length) return -1;
  for (let k = 0; k < l.length; k++) if (b[i + k] !== l[k]) return -1;
  return i + l.length;
}

/** Position of the closing quote after 1-32 characters of one class (0: digits, 1: lowercase, 2: safe id), else -1. */
function run(b: Uint8Array, i: number, cls: 0 | 1 | 2, max = 32): number {
  if (i < 0) return -1;
  let j = i;
  for (; j < b.length && j - i <= max; j++) {
    const c = b[j]!;
    if (c === QUOTE) break;
    const ok = cls === 0 ? c >= 48 && c <= 57 : cls === 1 ? c >= 97 && c <= 122 : SAFE_ID_BYTE[c] === 1;
    if (!ok) return -1;
  }
  return j > i && j - i <= max && b[j] === QUOTE ? j : -1;
}

const SAFE_ID_BYTE = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-') SAFE_ID_BYTE[c.charCodeAt(0)] = 1;

/** The stream id `sid` (a safe id, see assertSafeId) at `i`, closed by a quote: the position of that quote, else -1. */
function sidAt(b: Uint8Array, i: number, sid: string): number {
  if (i < 0 || i + sid.length >= b.length) return -1;
  for (let k = 0; k < sid.length; k++) if (b[i + k] !== sid.charCodeAt(k)) return -1;
  return b[i + sid.length] === QUOTE ? i + sid.length : -1;
}

/** Fills `out` from a `media` or `mark` frame of stream `sid` that matches Twilio's template; false for anything else. */
export function parseFastFrame(raw: Buffer, sid: string, out: FastFrame): boolean {
  const n = raw.length;
  if (n < 40 || n > MAX_STREAM_FRAME_BYTES || raw[n - 1] !== 125 /* } */) return false;
  let i = lit(raw, 0, MEDIA_HEAD);
  if (i > 0) {
    i = lit(raw, run(raw, i, 0), MEDIA_TRACK);
    const trackStart = i;
    const trackEnd = run(raw, i, 1);
    i = lit(raw, run(raw, lit(raw, run(raw, lit(raw, trackEnd, MEDIA_CHUNK), 0), MEDIA_TS), 0), MEDIA_PAYLOAD);
    if (i < 0) return false;
    const payloadStart = i;
    const payloadEnd = raw.indexOf(QUOTE, i);
    if (payloadEnd < 0 || !isBase64Bytes(raw, payloadStart, payloadEnd)) return false;
    const end = sidAt(raw, lit(raw, payloadEnd, MEDIA_SID), sid);
    if (end < 0 || end + 2 !== n || raw[end + 1] !== 125) return false;
    out.kind = 'media';
    out.outbound = trackEnd - trackStart === OUTBOUND.length && lit(raw, trackStart, OUTBOUND) === trackEnd;
    out.text = raw.toString('latin1', payloadStart, payloadEnd);
    return true;
  }
  i = lit(raw, 0, MARK_HEAD);
  if (i < 0) return false;
  i = lit(raw, sidAt(raw, lit(raw, run(raw, i, 0), MARK_SID), sid), MARK_NAME);
  const nameEnd = run(raw, i, 2, 128);
  // `"}}` closes the name, the mark and the frame.
  if (nameEnd < 0 || nameEnd + 3 !== n || raw[nameEnd + 1] !== 125) return false;
  out.kind = 'mark';
  out.outbound = false;
  out.text = raw.toString('latin1', i, nameEnd);
  return true;
}
