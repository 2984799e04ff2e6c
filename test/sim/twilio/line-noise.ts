/**
 * Line noise for the scripted callee: what a phone line carries that is not speech. Each kind is made
 * from a seed (byte-identical every run) and is loud enough to trip an energy detector (frame RMS well
 * above 800 of 32767, the product's old barge-in threshold, and the engine simulators' 600), which is
 * the point: a neural VAD must not take any of it for speech.
 */
import { mulawEncode } from '../../../src/media/mulaw.js';
import { prng } from '../shared/prng.js';
import type { NoiseKind } from './types.js';

export type { NoiseKind };
export const NOISE_KINDS: readonly NoiseKind[] = ['hiss', 'clicks', 'hum', 'music', 'crackle'];

const RATE = 8000;

function clamp(v: number): number {
  return Math.max(-32768, Math.min(32767, Math.round(v)));
}

/** PCM16 8 kHz noise of one kind; `seed` picks the variant. Whole 20 ms frames. */
export function noisePcm(kind: NoiseKind, durationMs: number, seed = 1): Int16Array {
  const n = Math.max(1, Math.round(durationMs / 20)) * 160;
  const rnd = prng(seed * 7919 + kind.length);
  const out = new Int16Array(n);
  switch (kind) {
    case 'hiss': {
      // Broadband hiss at about -26 dBFS (a bad line, or a mobile in the wind).
      for (let i = 0; i < n; i++) out[i] = clamp((rnd() - 0.5) * 5500);
      break;
    }
    case 'clicks': {
      // Sharp pops every 80-200 ms over a low floor: a loose connector, a handset knocked on a desk.
      let next = 0;
      for (let i = 0; i < n; i++) {
        let v = (rnd() - 0.5) * 300;
        if (i >= next) next = i + Math.round(RATE * (0.08 + 0.12 * rnd()));
        const since = i - (next - Math.round(RATE * 0.08));
        if (since >= 0 && since < 24) v += (rnd() < 0.5 ? -1 : 1) * 20000 * Math.exp(-since / 5);
        out[i] = clamp(v);
      }
      break;
    }
    case 'hum': {
      // Mains hum with odd harmonics (a ground loop), about -20 dBFS.
      const f = rnd() < 0.5 ? 50 : 60;
      for (let i = 0; i < n; i++) {
        const t = i / RATE;
        out[i] = clamp(3000 * Math.sin(2 * Math.PI * f * t) + 1500 * Math.sin(2 * Math.PI * 3 * f * t) + 800 * Math.sin(2 * Math.PI * 5 * f * t));
      }
      break;
    }
    case 'music': {
      // A bar of chords and a plucked bass line, as in a radio or a television in the room.
      const chords = [[261.6, 329.6, 392], [220, 261.6, 329.6], [174.6, 220, 261.6], [196, 246.9, 293.7]];
      const beat = Math.round(RATE * (0.25 + 0.1 * rnd()));
      for (let i = 0; i < n; i++) {
        const t = i / RATE;
        const bar = Math.floor(i / (beat * 4)) % chords.length;
        const inBeat = (i % beat) / RATE;
        let v = 0;
        for (const hz of chords[bar]) v += Math.sin(2 * Math.PI * hz * t) + 0.3 * Math.sin(4 * Math.PI * hz * t);
        v = v * 1200 * (0.6 + 0.4 * Math.exp(-inBeat * 6));
        v += 2500 * Math.exp(-inBeat * 8) * Math.sin(2 * Math.PI * (chords[bar][0] / 2) * t);
        out[i] = clamp(v);
      }
      break;
    }
    case 'crackle': {
      // Bursts of static 30-120 ms long: a failing line or a wind gust on a mobile.
      let burstLeft = 0;
      for (let i = 0; i < n; i++) {
        if (burstLeft <= 0 && rnd() < 1 / 400) burstLeft = Math.round(RATE * (0.03 + 0.09 * rnd()));
        const level = burstLeft-- > 0 ? 9000 : 250;
        out[i] = clamp((rnd() - 0.5) * level);
      }
      break;
    }
  }
  return out;
}

export function noise(kind: NoiseKind, durationMs: number, seed?: number): Uint8Array {
  return mulawEncode(noisePcm(kind, durationMs, seed));
}
