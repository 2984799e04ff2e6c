/** The simulated TTS voice and the WAV framing the speech endpoint returns. */

/** A harmonic tone with a syllable envelope (loud enough for a VAD), `ms` long at `rate`. */
export function voicePcm(ms: number, rate: number, pitchHz = 140): Int16Array {
  const n = Math.round((ms * rate) / 1000);
  const pcm = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const p = 2 * Math.PI * pitchHz * t;
    const tone = Math.sin(p) + 0.5 * Math.sin(2 * p) + 0.3 * Math.sin(3 * p);
    pcm[i] = Math.round(tone * (0.3 + 0.7 * Math.sin(Math.PI * 4 * t) ** 2) * 6000);
  }
  return pcm;
}

/** A WAV header for a stream whose length is not known yet (data size 0xFFFFFFFF, as streaming servers send). */
export function streamingWavHeader(rate: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(0xffffffff, 4);
  h.write('WAVEfmt ', 8, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(0xffffffff, 40);
  return h;
}

export interface WavInfo {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  samples: number;
}

/** The samples of a 16-bit mono WAV file read by readWav. */
export function wavSamples(b: Buffer): Int16Array {
  const at = b.indexOf('data', 12, 'ascii');
  const bytes = b.subarray(at + 8, at + 8 + ((b.length - at - 8) & ~1));
  const out = new Int16Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readInt16LE(2 * i);
  return out;
}

/** Reads a complete PCM WAV file (what the transcription endpoint is sent). */
export function readWav(b: Buffer): WavInfo {
  if (b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a WAV file');
  let off = 12;
  let fmt: Omit<WavInfo, 'samples'> | undefined;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    if (id === 'fmt ') fmt = { channels: b.readUInt16LE(off + 10), sampleRate: b.readUInt32LE(off + 12), bitsPerSample: b.readUInt16LE(off + 22) };
    if (id === 'data') {
      if (!fmt) throw new Error('WAV data before fmt');
      return { ...fmt, samples: Math.min(size, b.length - off - 8) / (fmt.bitsPerSample / 8) / fmt.channels };
    }
    off += 8 + size + (size & 1);
  }
  throw new Error('WAV without data');
}
