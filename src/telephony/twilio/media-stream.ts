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
