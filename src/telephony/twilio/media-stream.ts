import { z } from 'zod';
import { AudioChunk, isBase64 } from '../../media/audio-chunk.js';

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
