/**
 * PCM16 plumbing and the agent's voice. Gemini takes 16-bit little-endian PCM in (any rate, declared in the
 * mimeType) and always answers with 24 kHz PCM16.
 */

export const OUTPUT_RATE = 24000;
export const OUTPUT_MIME = 'audio/pcm;rate=24000';
export const DEFAULT_INPUT_RATE = 16000;

/** -20 dBFS RMS: a normal speech level, loud enough for a product-side VAD or echo detector to notice. */
const TARGET_RMS = 32768 * 0.1;
/** RMS of the harmonic stack times the syllable envelope below, worked out analytically (≈ 0.8254 × 0.679). */
const SHAPE_RMS = 0.5604;

/**
 * A voiced-speech stand-in: harmonics of `pitchHz` under a 4 Hz syllable envelope. It is a pure function of
 * the sample index, so chunks are reproducible and join without clicks, whatever the chunk size.
 */
export function synthVoice(startSample: number, count: number, pitchHz: number): Int16Array {
  const pcm = new Int16Array(count);
  const gain = TARGET_RMS / SHAPE_RMS;
  for (let i = 0; i < count; i++) {
    const t = (startSample + i) / OUTPUT_RATE;
    const phase = 2 * Math.PI * pitchHz * t;
    const tone = Math.sin(phase) + 0.5 * Math.sin(2 * phase) + 0.3 * Math.sin(3 * phase) + 0.15 * Math.sin(5 * phase);
    const syllable = 0.25 + 0.75 * Math.sin(Math.PI * 4 * t) ** 2;
    pcm[i] = Math.round(tone * syllable * gain);
  }
  return pcm;
}

/** A per-turn pitch so consecutive turns are told apart in a recording. */
export function pitchFor(turnNumber: number): number {
  return 120 + (turnNumber % 5) * 17;
}

export function pcm16ToBase64(pcm: Int16Array): string {
  const buf = Buffer.alloc(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) buf.writeInt16LE(pcm[i], i * 2);
  return buf.toString('base64');
}

export function decodePcm16(bytes: Uint8Array): Int16Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int16Array(bytes.byteLength >> 1);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict: Buffer.from(…, 'base64') silently skips garbage, the real protobuf parser rejects it. */
export function decodeBase64(b64: string): Uint8Array | null {
  if (!BASE64_RE.test(b64)) return null;
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

export interface PcmFormat {
  rate: number;
}

/**
 * `audio/pcm` with an optional `rate` parameter (16 kHz when absent). The service resamples any rate, so a
 * bridge may send 8 kHz straight from the phone line; anything that is not raw PCM is refused.
 */
export function parsePcmMime(mimeType: string | undefined): PcmFormat | null {
  if (mimeType === undefined) return { rate: DEFAULT_INPUT_RATE };
  const [type, ...params] = mimeType.split(';').map((p) => p.trim());
  if (type.toLowerCase() !== 'audio/pcm') return null;
  let rate = DEFAULT_INPUT_RATE;
  for (const p of params) {
    const m = /^rate=(\d+)$/i.exec(p);
    if (m) rate = Number(m[1]);
  }
  return rate >= 4000 && rate <= 48000 ? { rate } : null;
}
