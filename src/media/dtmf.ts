/**
 * In-band DTMF (ITU-T Q.23 key tones) as G.711 mu-law 8 kHz audio, to be played to the far end as
 * ordinary outbound audio. Pure: the same digits always give the same bytes.
 *
 * Timing: receivers are built for tones of at least 45-50 ms and pauses of at least 23-45 ms (H3C/3Com
 * router guides citing ITU-T Q.24: "at least 45 milliseconds" with "an inter-digit delay of 23
 * milliseconds"; MultiTech's Bellcore-style timing: tone-on at least 50 ms, tone-off at least 45 ms, with
 * "tone-off" meaning below -55 dBm0). PSTN senders use 100 ms on / 100 ms off ("Duration is typically
 * 100 ms with an interruption of 100 ms", 3amsystems World Tone Database, Signalling guide: Tone dialing;
 * H3C routers default to 120/120 ms). 100/100 ms is well above the 65 ms minimum the product promises and
 * leaves room for jitter-buffer stretching and packet loss on the way (one lost 20 ms frame still leaves
 * 80 ms of tone). Gaps are exact digital silence, far below -55 dBm0.
 *
 * Levels: "Nominal levels are -9 dBm for the higher frequency tone and -11 dBm for the lower frequency
 * tone. The difference in level is known as 'twist'" (same source). Detectors accept a wide window
 * around that (Ribbon SBC: minimum power -45 to -25 dBm, twist cutoff 4 to 12 dB, default 8 dB), so
 * -11/-9 dBm0 with a 2 dB positive twist is both loud enough and far from any limit. Peak of the sum
 * stays at about -3 dBFS, so mu-law never clips.
 */
import { mulawEncode } from './mulaw.js';

/** Keys a sequence may hold; `w` is a 500 ms pause (as in Twilio's `sendDigits` / `<Play digits>`). */
export const DTMF_SEQUENCE_RE = /^[0-9*#A-Dw]+$/;
export const DTMF_MAX_LENGTH = 64;

export const DTMF_LOW_HZ = [697, 770, 852, 941] as const;
export const DTMF_HIGH_HZ = [1209, 1336, 1477, 1633] as const;
const KEYPAD = ['123A', '456B', '789C', '*0#D'];

/** The Q.23 frequency pair of a key, or undefined for anything that is not a key. */
export function dtmfFrequencies(key: string): { low: number; high: number } | undefined {
  for (let r = 0; r < 4; r++) {
    const c = KEYPAD[r].indexOf(key);
    if (key.length === 1 && c >= 0) return { low: DTMF_LOW_HZ[r], high: DTMF_HIGH_HZ[c] };
  }
  return undefined;
}

/** The key at a pair of row/column indexes (for decoders). */
export function dtmfKey(row: number, col: number): string {
  return KEYPAD[row][col];
}

export interface DtmfOptions {
  toneMs?: number;
  gapMs?: number;
  pauseMs?: number;
  lowDbm0?: number;
  highDbm0?: number;
}

export interface DtmfSegment {
  /** A key, or `w` for a pause. */
  key: string;
  /** Where the key's tone (or the pause) starts and ends in the audio, in ms. */
  startMs: number;
  endMs: number;
}

export interface DtmfAudio {
  /** mu-law 8 kHz. Every key is a tone followed by its gap, so the sequence ends in silence. */
  audio: Uint8Array;
  segments: DtmfSegment[];
  durationMs: number;
}

export const DTMF_DEFAULTS = { toneMs: 100, gapMs: 100, pauseMs: 500, lowDbm0: -11, highDbm0: -9 } as const;

const RATE = 8000;
/**
 * G.711: a sine at 0 dBm0 has an RMS 3.17 dB below a full-scale square wave of the codec's largest
 * value (8159 on the 14-bit scale); in 16-bit samples that is a peak of 8159 * 4 / 10^(3.17/20) ~ 22,656.
 */
export const DBM0_PEAK_16BIT = (8159 * 4) / 10 ** (3.17 / 20);
/** Rise and fall of each tone: keeps the on/off edges from splattering energy over other key frequencies. */
const RAMP_SAMPLES = 16;

/** Renders a digit sequence (validated: throws on a character outside `0-9*#A-Dw`). */
export function dtmfAudio(digits: string, o: DtmfOptions = {}): DtmfAudio {
  if (!DTMF_SEQUENCE_RE.test(digits)) throw new Error(`invalid DTMF sequence "${digits}": use 0-9 * # A-D and w (pause)`);
  const opt = { ...DTMF_DEFAULTS, ...o };
  const toneN = Math.round((opt.toneMs * RATE) / 1000);
  const gapN = Math.round((opt.gapMs * RATE) / 1000);
  const pauseN = Math.round((opt.pauseMs * RATE) / 1000);
  let total = 0;
  for (const ch of digits) total += ch === 'w' ? pauseN : toneN + gapN;
  const pcm = new Int16Array(total);
  const segments: DtmfSegment[] = [];
  const lowAmp = DBM0_PEAK_16BIT * 10 ** (opt.lowDbm0 / 20);
  const highAmp = DBM0_PEAK_16BIT * 10 ** (opt.highDbm0 / 20);
  let at = 0;
  for (const ch of digits) {
    if (ch === 'w') {
      segments.push({ key: 'w', startMs: at / 8, endMs: (at + pauseN) / 8 });
      at += pauseN;
      continue;
    }
    const f = dtmfFrequencies(ch)!;
    const wl = (2 * Math.PI * f.low) / RATE;
    const wh = (2 * Math.PI * f.high) / RATE;
    for (let i = 0; i < toneN; i++) {
      const edge = Math.min(i, toneN - 1 - i);
      const env = edge >= RAMP_SAMPLES ? 1 : 0.5 - 0.5 * Math.cos((Math.PI * edge) / RAMP_SAMPLES);
      pcm[at + i] = Math.round(env * (lowAmp * Math.sin(wl * i) + highAmp * Math.sin(wh * i)));
    }
    segments.push({ key: ch, startMs: at / 8, endMs: (at + toneN) / 8 });
    at += toneN + gapN;
  }
  // Gaps and pauses encode as 0xff, the exact mu-law silence code.
  return { audio: mulawEncode(pcm), segments, durationMs: total / 8 };
}

/** How a sequence reads to a person: "1, pause, 2". */
export function describeDtmf(digits: string): string {
  return [...digits].map((c) => (c === 'w' ? 'pause' : c)).join(', ');
}
