import { besselI0 } from '../../media/fir.js';
import { Downsampler24kTo8k } from '../../media/resample.js';

/**
 * Audio plumbing between the carrier's 8 kHz and what the STT and TTS servers speak: WAV in and out,
 * and a streaming resampler from any TTS rate (Piper 16 or 22.05 kHz, Kokoro and OpenAI 24 kHz) to 8 kHz.
 */

/** A mono PCM16 WAV file (what /v1/audio/transcriptions is sent). */
export function encodeWav(pcm: Int16Array, sampleRate: number): Buffer {
  const data = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

export interface WavFormat {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Byte offset where the samples begin. */
  dataOffset: number;
}

/**
 * Reads a WAV header from the start of a stream. Returns undefined while more bytes are needed; throws
 * on a file that is not 16-bit PCM. Streaming servers write 0 or 0xFFFFFFFF as the data size, so the
 * size is not trusted: the samples are whatever follows the `data` chunk's header.
 */
export function parseWavHeader(b: Buffer): WavFormat | undefined {
  if (b.length < 12) return undefined;
  if (b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') throw new Error('TTS audio is not a WAV file (no RIFF/WAVE header)');
  let off = 12;
  let fmt: Omit<WavFormat, 'dataOffset'> | undefined;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    if (id === 'data') {
      if (!fmt) throw new Error('TTS WAV has no fmt chunk before its data');
      return { ...fmt, dataOffset: off + 8 };
    }
    if (off + 8 + size > b.length) return undefined;
    if (id === 'fmt ') {
      const format = b.readUInt16LE(off + 8);
      fmt = { channels: b.readUInt16LE(off + 10), sampleRate: b.readUInt32LE(off + 12), bitsPerSample: b.readUInt16LE(off + 22) };
      // 0xFFFE is WAVE_FORMAT_EXTENSIBLE, which some servers use for plain PCM.
      if ((format !== 1 && format !== 0xfffe) || fmt.bitsPerSample !== 16) throw new Error(`TTS WAV must be 16-bit PCM (format ${format}, ${fmt.bitsPerSample} bits)`);
    }
    off += 8 + size + (size & 1);
  }
  return undefined;
}

export interface Resampler {
  /** Returns the 8 kHz samples this input completes (some input may wait for the next call). */
  process(input: Int16Array): Int16Array;
}

/** A streaming resampler from `rate` to 8 kHz: the project's /3 filter for 24 kHz, else windowed sinc. */
export function resamplerTo8k(rate: number): Resampler {
  if (rate === 8000) return { process: (x) => x.slice() };
  if (rate === 24000) {
    const d = new Downsampler24kTo8k();
    return { process: (x) => d.process(x, new Int16Array(((d.pending + x.length) / 3) | 0)) };
  }
  return new SincResampler(rate, 8000);
}

const PHASES = 512;
/** Filter half-length in output samples. */
const HALF_WIDTH = 14;
/** Just under 8 kHz's Nyquist: -0.1 dB at 3.4 kHz, -3.5 dB at 4 kHz, 70 dB down from 4.6 kHz. */
const CUTOFF_HZ = 3900;

/** Filter tables by input rate: a Piper voice makes a resampler per clause, the table is made once. */
const TABLES = new Map<number, { half: number; table: Float64Array }>();

/**
 * Arbitrary-ratio downsampling by a Kaiser-windowed sinc low-pass (beta 7) tabulated at PHASES sub-sample
 * positions. Cut off just under 8 kHz's Nyquist and about 80 taps long at 22.05 kHz, so the telephone
 * band up to 3.4 kHz is kept within 0.2 dB while what lies above 4.6 kHz, which would fold back onto
 * the band, is 60 dB down or more (test/unit/cascade-stages.test.ts measures both). The first design (16
 * taps, cut at 3.6 kHz) lost 4 dB at 3.4 kHz and let a 4.6 kHz tone fold back only 22 dB down.
 */
export class SincResampler implements Resampler {
  private readonly step: number;
  private readonly half: number;
  private readonly table: Float64Array;
  private buf = new Float64Array(0);
  /** Position of the next output, in input samples from buf[0]. */
  private t: number;

  constructor(inRate: number, outRate: number) {
    this.step = inRate / outRate;
    let t = TABLES.get(inRate * 1e6 + outRate);
    if (!t) {
      t = design(inRate, this.step);
      TABLES.set(inRate * 1e6 + outRate, t);
    }
    this.half = t.half;
    this.table = t.table;
    // Start with `half` samples of silence as history so the first output is centred on the first input.
    this.buf = new Float64Array(this.half);
    this.t = this.half;
  }

  process(input: Int16Array): Int16Array {
    const buf = new Float64Array(this.buf.length + input.length);
    buf.set(this.buf);
    buf.set(input, this.buf.length);
    const out: number[] = [];
    const span = this.half * PHASES;
    while (this.t + this.half < buf.length) {
      const base = Math.floor(this.t);
      let acc = 0;
      for (let k = base - this.half + 1; k <= base + this.half; k++) {
        const idx = Math.round((k - this.t) * PHASES) + span;
        if (idx >= 0 && idx < this.table.length) acc += buf[k] * this.table[idx];
      }
      out.push(Math.max(-32768, Math.min(32767, Math.round(acc))));
      this.t += this.step;
    }
    // Keep what later outputs still need.
    const drop = Math.max(0, Math.floor(this.t) - this.half);
    this.buf = buf.slice(drop);
    this.t -= drop;
    return Int16Array.from(out);
  }
}

function design(inRate: number, step: number): { half: number; table: Float64Array } {
  const fc = CUTOFF_HZ / inRate;
  const half = Math.ceil(HALF_WIDTH * step) + 1;
  const beta = 7;
  const span = half * PHASES;
  const table = new Float64Array(2 * span + 1);
  const norm = besselI0(beta);
  for (let i = -span; i <= span; i++) {
    const x = i / PHASES;
    const r = x / half;
    const w = Math.abs(r) >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - r * r)) / norm;
    const sinc = x === 0 ? 1 : Math.sin(2 * Math.PI * fc * x) / (2 * Math.PI * fc * x);
    table[i + span] = 2 * fc * sinc * w;
  }
  return { half, table };
}
