import type { EngineCapabilities } from '../voice/engine.js';
import { AudioChunk } from '../media/audio-chunk.js';
import { mulawDecode, mulawEncode } from '../media/mulaw.js';
import { Downsampler24kTo8k, Upsampler8kTo16k } from '../media/resample.js';

/** Converts audio between the carrier's format (G.711 mu-law, 8 kHz) and the engine's, per call. */
export interface AudioPath {
  /** `listen` receives the caller audio as PCM16 8 kHz when the path decodes it anyway (for barge-in). */
  toEngine(carrierAudio: AudioChunk, listen?: (pcm8k: Int16Array) => void): AudioChunk;
  toCarrier(engineAudio: AudioChunk): AudioChunk;
}

/**
 * Mu-law both ways: the base64 goes through untouched. The local listeners (barge-in VAD) hear every
 * frame, decoded into per-call scratch buffers: 50 fresh buffers a second per call would be garbage.
 */
class PassThroughPath implements AudioPath {
  private raw = Buffer.alloc(1024);
  private pcm = new Int16Array(1024);

  toEngine(a: AudioChunk, listen?: (pcm8k: Int16Array) => void): AudioChunk {
    if (!listen) return a;
    const need = a.length;
    if (this.raw.length < need) {
      this.raw = Buffer.alloc(need * 2);
      this.pcm = new Int16Array(need * 2);
    }
    const n = this.raw.write(a.base64, 0, 'base64');
    listen(mulawDecode(this.raw.subarray(0, n), this.pcm.subarray(0, n)));
    return a;
  }

  toCarrier(a: AudioChunk): AudioChunk {
    return a;
  }
}

/**
 * Picks the conversion from the engine's declared formats. Each path keeps filter state across chunks,
 * so one path belongs to one call.
 */
export function audioPathFor(caps: EngineCapabilities): AudioPath {
  const inF = caps.inputFormat;
  const outF = caps.outputFormat;
  if (inF.encoding === 'pcmu' && outF.encoding === 'pcmu') return new PassThroughPath();
  if (inF.encoding === 'pcm16' && inF.sampleRate === 16000 && outF.encoding === 'pcm16' && outF.sampleRate === 24000) return new TranscodingPath();
  throw new Error(`no audio conversion from mu-law 8 kHz to ${JSON.stringify(inF)} / from ${JSON.stringify(outF)}`);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Mu-law 8 kHz <-> PCM16 16 kHz in / 24 kHz out. Every intermediate lives in per-call scratch buffers
 * that are reused frame after frame, and what leaves is a base64 string: with 50 frames a second per
 * call, fresh buffers per frame pile up as garbage that outlives the young generation under load and
 * turns into old-space collections (latency spikes).
 */
class TranscodingPath implements AudioPath {
  private readonly up = new Upsampler8kTo16k();
  private readonly down = new Downsampler24kTo8k();
  private inRaw = Buffer.alloc(4096);
  private pcm8k = new Int16Array(1024);
  private pcm16k = new Int16Array(2048);
  private outRaw = Buffer.alloc(8192);
  private mulaw = Buffer.alloc(2048);

  toEngine(a: AudioChunk, listen?: (pcm8k: Int16Array) => void): AudioChunk {
    const n = this.decodeInto('inRaw', a);
    if (this.pcm8k.length < n) this.pcm8k = new Int16Array(n);
    if (this.pcm16k.length < 2 * n) this.pcm16k = new Int16Array(2 * n);
    const pcm = mulawDecode(this.inRaw.subarray(0, n), this.pcm8k.subarray(0, n));
    listen?.(pcm);
    const up = this.up.process(pcm, this.pcm16k.subarray(0, 2 * n));
    return AudioChunk.fromBase64(pcm16Base64(up));
  }

  toCarrier(a: AudioChunk): AudioChunk {
    const n = this.decodeInto('outRaw', a) & ~1;
    const samples = n >> 1;
    // outRaw comes from Buffer.alloc (never a pool slice), so it starts at an even offset an Int16Array can view.
    const pcm24k = LITTLE_ENDIAN ? new Int16Array(this.outRaw.buffer, this.outRaw.byteOffset, samples) : readLE(this.outRaw, samples);
    const count = ((this.down.pending + samples) / 3) | 0;
    if (this.pcm8k.length < count) this.pcm8k = new Int16Array(count);
    if (this.mulaw.length < count) this.mulaw = Buffer.alloc(count);
    const pcm8k = this.down.process(pcm24k, this.pcm8k.subarray(0, count));
    mulawEncode(pcm8k, this.mulaw);
    return AudioChunk.fromBase64(this.mulaw.toString('base64', 0, pcm8k.length));
  }

  /** Decodes a chunk's base64 into a reusable buffer; returns the byte count. */
  private decodeInto(which: 'inRaw' | 'outRaw', a: AudioChunk): number {
    const need = a.length;
    if (this[which].length < need) this[which] = Buffer.alloc(need * 2);
    return this[which].write(a.base64, 0, 'base64');
  }
}

function pcm16Base64(pcm: Int16Array): string {
  if (LITTLE_ENDIAN) return Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).toString('base64');
  const b = Buffer.alloc(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) b.writeInt16LE(pcm[i], 2 * i);
  return b.toString('base64');
}

function readLE(bytes: Buffer, samples: number): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) out[i] = bytes.readInt16LE(2 * i);
  return out;
}
