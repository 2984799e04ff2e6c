/**
 * Agent voice synthesis and the base64/mu-law plumbing. Audio is always 8 kHz mu-law here (1 byte = 1/8 ms),
 * which is what the product negotiates with `audio/pcmu`.
 */
import { mulawDecode, mulawEncode } from '../../../src/media/mulaw.js';

export const BYTES_PER_MS = 8;

/**
 * A voiced-speech stand-in: a harmonic-rich tone with a ~4 Hz syllable envelope. It is a pure function of the
 * sample index, so deltas are reproducible and contiguous across chunk boundaries, and it is loud enough to
 * trip a VAD, which matters for echo/barge-in tests on the product side.
 */
export function synthVoice(startSample: number, count: number, pitchHz: number): Uint8Array {
  const pcm = new Int16Array(count);
  for (let i = 0; i < count; i++) {
    const t = (startSample + i) / 8000;
    const phase = 2 * Math.PI * pitchHz * t;
    const tone = Math.sin(phase) + 0.5 * Math.sin(2 * phase) + 0.3 * Math.sin(3 * phase) + 0.15 * Math.sin(5 * phase);
    const syllable = 0.25 + 0.75 * Math.sin(Math.PI * 4 * t) ** 2;
    pcm[i] = Math.round(tone * syllable * 5200);
  }
  return mulawEncode(pcm);
}

/** A per-response pitch so consecutive replies are distinguishable in a recording. */
export function pitchFor(responseIndex: number): number {
  return 110 + (responseIndex % 5) * 17;
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 check: Buffer.from(…, 'base64') silently skips garbage, the real API does not. */
export function decodeBase64Audio(b64: string): Uint8Array | null {
  if (!BASE64_RE.test(b64)) return null;
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function decodeMulaw(bytes: Uint8Array): Int16Array {
  return mulawDecode(bytes);
}
