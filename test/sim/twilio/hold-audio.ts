/**
 * Generated hold music for the scripted callee: what a business's phone system plays while we wait.
 * Deterministic (seeded), 8 kHz PCM16, mu-law encoded. Two kinds, as heard on real hold lines:
 * - `chords`: a soft three-note pad changing chord every two seconds under a legato melody (notes of
 *   300-600 ms, joined without gaps), the commonest "light music" hold loop;
 * - `noise`: an ambient, noise-like bed (filtered noise with a slow swell and a low drone), which has no
 *   tonal structure at all.
 * Both keep a steady loudness without pauses, like produced music; neither has speech's syllabic rhythm.
 */
import { mulawEncode } from '../../../src/media/mulaw.js';
import { prng } from '../shared/prng.js';
import { SAMPLE_RATE, speech } from './callee-audio.js';

export type HoldMusicKind = 'chords' | 'noise';

const semitone = (n: number) => 261.63 * 2 ** (n / 12); // n semitones from middle C
const CHORDS = [
  [0, 4, 7], // C
  [-3, 0, 4], // Am
  [-7, -3, 0], // F
  [-5, -1, 2], // G
];
const SCALE = [12, 14, 16, 17, 19, 21, 23, 24];

export function holdMusicPcm(durationMs: number, kind: HoldMusicKind = 'chords', seed = 1): Int16Array {
  const n = Math.max(1, Math.round(durationMs / 20)) * 160;
  return kind === 'noise' ? noiseBed(n, seed) : chordLoop(n, seed);
}

export function holdMusic(durationMs: number, kind: HoldMusicKind = 'chords', seed = 1): Uint8Array {
  return mulawEncode(holdMusicPcm(durationMs, kind, seed));
}

function chordLoop(n: number, seed: number): Int16Array {
  const rnd = prng(seed);
  const out = new Int16Array(n);
  const chordSamples = 2 * SAMPLE_RATE;
  const fade = 0.05 * SAMPLE_RATE; // 50 ms cross-fades: no gaps, no clicks
  const pad = [0, 0, 0];
  let melodyPhase = 0;
  let noteEnd = 0;
  let melodyHz = semitone(SCALE[0]);
  let prevHz = melodyHz;
  let noteStart = 0;
  for (let i = 0; i < n; i++) {
    const chordIndex = Math.floor(i / chordSamples) % CHORDS.length;
    const into = i % chordSamples;
    const prevChord = CHORDS[(chordIndex + CHORDS.length - 1) % CHORDS.length];
    const chord = CHORDS[chordIndex];
    const mix = i >= chordSamples && into < fade ? into / fade : 1;
    let v = 0;
    for (let k = 0; k < 3; k++) {
      const hz = semitone(chord[k]) * mix + semitone(prevChord[k]) * (1 - mix); // glide, keeps the level
      pad[k] += (2 * Math.PI * hz) / SAMPLE_RATE;
      v += 0.18 * Math.sin(pad[k]);
    }
    if (i >= noteEnd) {
      noteStart = i;
      noteEnd = i + Math.round((0.3 + 0.3 * rnd()) * SAMPLE_RATE);
      prevHz = melodyHz;
      melodyHz = semitone(SCALE[Math.floor(rnd() * SCALE.length)]);
    }
    const glide = Math.min(1, (i - noteStart) / fade);
    melodyPhase += (2 * Math.PI * (melodyHz * glide + prevHz * (1 - glide))) / SAMPLE_RATE;
    v += 0.2 * Math.sin(melodyPhase);
    out[i] = Math.round(v * 0.5 * 32767 * edge(i, n));
  }
  return out;
}

function noiseBed(n: number, seed: number): Int16Array {
  const rnd = prng(seed);
  const out = new Int16Array(n);
  let lp = 0;
  let drone = 0;
  for (let i = 0; i < n; i++) {
    const t = i / SAMPLE_RATE;
    lp += 0.35 * (rnd() - 0.5 - lp); // gentle low-pass: a soft "ocean" hiss
    drone += (2 * Math.PI * 110) / SAMPLE_RATE;
    const swell = 0.85 + 0.15 * Math.sin(2 * Math.PI * 0.2 * t);
    const v = swell * (2.2 * lp + 0.12 * Math.sin(drone));
    out[i] = Math.round(Math.max(-1, Math.min(1, v)) * 0.5 * 32767 * edge(i, n));
  }
  return out;
}

/** 5 ms fades at the ends of a block, as the phone system's audio starts and stops. */
function edge(i: number, n: number): number {
  return Math.min(1, i / 40, (n - 1 - i) / 40);
}

/**
 * A hold: music, and a recorded announcement after every `announceEveryMs` of it, `totalMs` in all; it
 * ends with music (an announcement is played only where a second of music can follow it).
 */
export function holdAudio(totalMs: number, kind: HoldMusicKind = 'chords', announcement?: string, announceEveryMs?: number, seed = 1): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [i, part] of holdParts(totalMs, announcement, announceEveryMs).entries()) parts.push(part.announcement ? speech(part.announcement) : holdMusic(part.ms, kind, seed + i));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

/** How many announcements a hold plays (a scripted engine needs one transcript per line it hears). */
export function holdAnnouncements(totalMs: number, announcement: string, announceEveryMs: number): number {
  return holdParts(totalMs, announcement, announceEveryMs).filter((p) => p.announcement).length;
}

function holdParts(totalMs: number, announcement?: string, announceEveryMs?: number): Array<{ ms: number; announcement?: string }> {
  const parts: Array<{ ms: number; announcement?: string }> = [];
  const every = announcement && announceEveryMs ? announceEveryMs : totalMs;
  const annMs = announcement ? speech(announcement).length / 8 : 0;
  let ms = 0;
  while (ms < totalMs) {
    const musicMs = Math.min(every, totalMs - ms);
    parts.push({ ms: musicMs });
    ms += musicMs;
    if (announcement && ms + annMs + 1000 <= totalMs) {
      parts.push({ ms: annMs, announcement });
      ms += annMs;
    }
  }
  return parts;
}
