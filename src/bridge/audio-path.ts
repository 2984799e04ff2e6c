import type { EngineCapabilities } from '../voice/engine.js';
import { AudioChunk } from '../media/audio-chunk.js';
import { GeminiToTwilio, TwilioToGemini, pcm16FromBytesLE, pcm16ToBytesLE } from '../media/resample.js';

/** Converts audio between the carrier's format (G.711 mu-law, 8 kHz) and the engine's, per call. */
export interface AudioPath {
  toEngine(carrierAudio: AudioChunk): AudioChunk;
  toCarrier(engineAudio: AudioChunk): AudioChunk;
}

const passThrough: AudioPath = { toEngine: (a) => a, toCarrier: (a) => a };

/**
 * Picks the conversion from the engine's declared formats. Each converter keeps filter state across
 * chunks, so one path belongs to one call.
 */
export function audioPathFor(caps: EngineCapabilities): AudioPath {
  const inF = caps.inputFormat;
  const outF = caps.outputFormat;
  if (inF.encoding === 'pcmu' && outF.encoding === 'pcmu') return passThrough;
  if (inF.encoding === 'pcm16' && inF.sampleRate === 16000 && outF.encoding === 'pcm16' && outF.sampleRate === 24000) {
    const up = new TwilioToGemini();
    const down = new GeminiToTwilio();
    return {
      toEngine: (a) => AudioChunk.fromBytes(pcm16ToBytesLE(up.push(a.bytes))),
      toCarrier: (a) => AudioChunk.fromBytes(down.push(pcm16FromBytesLE(a.bytes))),
    };
  }
  throw new Error(`no audio conversion from mu-law 8 kHz to ${JSON.stringify(inF)} / from ${JSON.stringify(outF)}`);
}
