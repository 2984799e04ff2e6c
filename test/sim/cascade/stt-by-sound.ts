/**
 * Transcription by sound, as test/sim/openai-realtime/voice-prints.ts does for the Realtime simulator: a
 * real speech-to-text server transcribes what the file holds, so the simulator recognises which of the
 * scenario's lines the Twilio simulator's scripted callee spoke (its voice is deterministic per text,
 * test/sim/twilio/callee-audio.ts). Here the audio arrives as 16 kHz WAV, not as the carrier's bytes: the
 * engine doubles the rate with a half-band interpolator, and one of its two output phases is the 8 kHz
 * input itself (a plain copy, src/media/resample.ts), so the line's mu-law frames come back exactly;
 * which phase, and where the 20 ms frames start, is searched rather than assumed.
 */
import { mulawEncode } from '../../../src/media/mulaw.js';
import { speech } from '../twilio/callee-audio.js';

const FRAME = 160;
/** Frames of a line an utterance must hold to be transcribed as that line (a few, so a stray match cannot). */
const MIN_FRAMES = 3;

const keyOf = (b: Uint8Array, at: number) => Buffer.from(b.buffer, b.byteOffset + at, FRAME).toString('latin1');

export class SoundTranscriber {
  private readonly lineOf = new Map<string, number>();

  constructor(private readonly lines: readonly string[]) {
    lines.forEach((text, i) => {
      const audio = speech(text);
      for (let o = 0; o + FRAME <= audio.length; o += FRAME) {
        const k = keyOf(audio, o);
        if (!this.lineOf.has(k)) this.lineOf.set(k, i);
      }
    });
  }

  /** The line most of this 16 kHz utterance comes from, or undefined (music, noise, an unscripted line). */
  transcribe(pcm16k: Int16Array): string | undefined {
    for (const phase of [1, 0]) {
      const n = Math.floor((pcm16k.length - phase) / 2);
      const pcm8k = new Int16Array(n);
      for (let i = 0; i < n; i++) pcm8k[i] = pcm16k[2 * i + phase];
      const mu = mulawEncode(pcm8k);
      for (let start = 0; start < FRAME; start++) {
        const hits = new Map<number, number>();
        for (let o = start; o + FRAME <= mu.length; o += FRAME) {
          const line = this.lineOf.get(keyOf(mu, o));
          if (line !== undefined) hits.set(line, (hits.get(line) ?? 0) + 1);
        }
        let best: number | undefined;
        for (const [line, count] of hits) if (count >= MIN_FRAMES && (best === undefined || count > hits.get(best)!)) best = line;
        if (best !== undefined) return this.lines[best];
      }
    }
    return undefined;
  }
}
