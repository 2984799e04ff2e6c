/**
 * Deterministic "speech" for the scripted callee. The simulators' energy VADs and turn taking need
 * voiced, syllable-modulated energy in every frame, clearly distinct from digital silence; the product's
 * neural VAD (Silero) needs something that sounds like a human voice. So each utterance is a harmonic
 * "voice" (loud in every frame) with a stretch of real recorded speech (espeak-ng, see
 * test/fixtures/audio/README.md) mixed in. Seeding by the text makes every run byte-identical.
 */
import { readFileSync } from 'node:fs';
import { mulawDecode, mulawEncode, MULAW_SILENCE } from '../../../src/media/mulaw.js';
import { fnv1a } from '../shared/fnv1a.js';
import { prng } from '../shared/prng.js';

export const SAMPLE_RATE = 8000;
export const FRAME_BYTES = 160; // 20 ms at 8 kHz, one byte per mu-law sample

/** Default utterance length: ~70 ms per character, at least 400 ms, whole 20 ms frames. */
export function speechDurationMs(text: string): number {
  return Math.max(400, text.length * 70);
}

function frames(ms: number): number {
  return Math.max(1, Math.round(ms / 20));
}

let bed: Int16Array | undefined;
/**
 * The recorded speech mixed into every utterance (looped), as PCM16, with the pauses between words and
 * sentences taken out (20 ms frames quieter than RMS 600 dropped): an utterance is speech throughout.
 */
function speechBed(): Int16Array {
  if (bed) return bed;
  const all = mulawDecode(readFileSync(new URL('../../fixtures/audio/speech-bed.ulaw', import.meta.url)));
  const kept: number[] = [];
  for (let i = 0; i + FRAME_BYTES <= all.length; i += FRAME_BYTES) {
    let sum = 0;
    for (let j = i; j < i + FRAME_BYTES; j++) sum += all[j] * all[j];
    if (sum / FRAME_BYTES > 600 * 600) for (let j = i; j < i + FRAME_BYTES; j++) kept.push(all[j]);
  }
  bed = Int16Array.from(kept);
  return bed;
}
/** Level of the recorded speech against the harmonic voice: Silero hears the speech, energy VADs both. */
const BED_GAIN = 0.72;
const VOICE_GAIN = 0.66;

/**
 * Speech-like PCM: four harmonics of a 120-220 Hz fundamental with a gentle pitch contour, amplitude
 * modulated at a 4-5 Hz syllable rate, plus recorded speech from a point in the bed chosen by the text.
 * The envelope never drops below half so that every 20 ms frame stays above an energy VAD threshold
 * (frame RMS > 1000 of 32767; overall about -20 dBFS).
 */
export function speechPcm(text: string, durationMs = speechDurationMs(text)): Int16Array {
  const voice = harmonicPcm(text, durationMs);
  const words = speechBed();
  const start = fnv1a(`bed:${text}`) % words.length;
  const ramp = 40;
  const n = voice.length;
  for (let i = 0; i < n; i++) {
    const edge = Math.min(1, i / ramp, (n - 1 - i) / ramp);
    const s = voice[i] * VOICE_GAIN + words[(start + i) % words.length] * BED_GAIN * edge;
    voice[i] = Math.max(-32768, Math.min(32767, Math.round(s)));
  }
  return voice;
}

export function harmonicPcm(text: string, durationMs: number): Int16Array {
  const seed = fnv1a(text);
  const rnd = prng(seed);
  const n = frames(durationMs) * FRAME_BYTES;
  const f0 = 120 + (seed % 101);
  const syllableHz = 4 + ((seed >>> 8) % 100) / 100;
  const harmonics = [1, 0.6, 0.4, 0.25];
  const norm = Math.sqrt(harmonics.reduce((s, a) => s + (a * a) / 2, 0));
  const peakRms = 4200; // before the envelope; the average envelope brings it to about -20 dBFS
  const ramp = 40; // 5 ms fade avoids clicks at utterance edges
  const out = new Int16Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / SAMPLE_RATE;
    const f = f0 * (1 + 0.08 * Math.sin(2 * Math.PI * 0.7 * t + (seed & 7)));
    phase += (2 * Math.PI * f) / SAMPLE_RATE;
    let v = 0;
    for (let h = 0; h < harmonics.length; h++) v += harmonics[h] * Math.sin((h + 1) * phase);
    const env = 0.75 + 0.25 * Math.sin(2 * Math.PI * syllableHz * t);
    const edge = Math.min(1, i / ramp, (n - 1 - i) / ramp);
    const s = (v / norm) * peakRms * env * edge + (rnd() - 0.5) * 200 * edge;
    out[i] = Math.max(-32768, Math.min(32767, Math.round(s)));
  }
  return out;
}

export function speech(text: string, durationMs?: number): Uint8Array {
  return mulawEncode(speechPcm(text, durationMs));
}

/** A pure tone, e.g. the 1 kHz voicemail beep. */
export function tone(hz: number, durationMs: number, amplitude = 0.3): Uint8Array {
  const n = frames(durationMs) * FRAME_BYTES;
  const pcm = new Int16Array(n);
  for (let i = 0; i < n; i++) pcm[i] = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * hz * i) / SAMPLE_RATE));
  return mulawEncode(pcm);
}

export function silence(durationMs: number): Uint8Array {
  return new Uint8Array(frames(durationMs) * FRAME_BYTES).fill(MULAW_SILENCE);
}

export const GREETING_TEXT =
  "Hi, you've reached Sam. I can't take your call right now, please leave a message after the tone.";
export const BEEP_MS = 400;

export function voicemailGreeting(durationMs = 3000): Uint8Array {
  return speech(GREETING_TEXT, durationMs);
}

export function beep(hz = 1000, durationMs = BEEP_MS): Uint8Array {
  return tone(hz, durationMs);
}
