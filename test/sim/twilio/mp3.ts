/**
 * Recording encoders. The MP3 is a real MPEG-2.5 Layer III stream (lamejs) so the product's download,
 * storage and any decoder it uses see the same kind of file Twilio serves.
 */
import { Mp3Encoder } from '@breezystack/lamejs';
import { MULAW_SILENCE, mulawDecode } from '../../../src/media/mulaw.js';

const SAMPLES_PER_CALL = 1152;

function concat(frames: Uint8Array[]): Uint8Array {
  const total = frames.reduce((n, f) => n + f.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const f of frames) {
    out.set(f, o);
    o += f.length;
  }
  return out;
}

function toBuffer(a: Uint8Array | Int8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Both directions of a call as one mu-law block each (half the size of PCM, and one object instead of a
 * frame per 20 ms); the shorter one is padded with silence.
 */
export function recordingMulaw(left: Uint8Array[], right: Uint8Array[]): { left: Uint8Array; right: Uint8Array } {
  const l = concat(left);
  const r = concat(right);
  const n = Math.max(l.length, r.length);
  const pad = (a: Uint8Array) => {
    if (a.length === n) return a;
    const out = new Uint8Array(n).fill(MULAW_SILENCE);
    out.set(a);
    return out;
  };
  return { left: pad(l), right: pad(r) };
}

/** An MP3 of a stored recording's mu-law channels (what a `.mp3` download serves). */
export function encodeRecordingMp3(left: Uint8Array, right: Uint8Array, channels: 1 | 2): Buffer {
  return encodeMp3(mulawDecode(left), mulawDecode(right), channels);
}

/** 8 kHz MP3; two channels (left = callee, right = agent) or one mixed channel. */
export function encodeMp3(left: Int16Array, right: Int16Array, channels: 1 | 2): Buffer {
  const enc = new Mp3Encoder(channels, 8000, channels === 2 ? 32 : 16);
  const parts: Buffer[] = [];
  const mono = channels === 1 ? mix(left, right) : null;
  for (let i = 0; i < left.length; i += SAMPLES_PER_CALL) {
    const out =
      mono !== null
        ? enc.encodeBuffer(mono.subarray(i, i + SAMPLES_PER_CALL))
        : enc.encodeBuffer(left.subarray(i, i + SAMPLES_PER_CALL), right.subarray(i, i + SAMPLES_PER_CALL));
    if (out.length > 0) parts.push(toBuffer(out));
  }
  parts.push(toBuffer(enc.flush()));
  return Buffer.concat(parts);
}

function mix(a: Int16Array, b: Int16Array): Int16Array {
  const out = new Int16Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Math.max(-32768, Math.min(32767, a[i] + b[i]));
  return out;
}

/** 16-bit PCM WAV, for `.wav` downloads (Twilio serves both formats). */
export function encodeWav(left: Int16Array, right: Int16Array, channels: 1 | 2): Buffer {
  const n = left.length;
  const data = Buffer.alloc(n * 2 * channels);
  const mono = channels === 1 ? mix(left, right) : null;
  for (let i = 0; i < n; i++) {
    if (mono) data.writeInt16LE(mono[i], i * 2);
    else {
      data.writeInt16LE(left[i], i * 4);
      data.writeInt16LE(right[i], i * 4 + 2);
    }
  }
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVE', 8);
  h.write('fmt ', 12);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(8000 * 2 * channels, 28);
  h.writeUInt16LE(2 * channels, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}
