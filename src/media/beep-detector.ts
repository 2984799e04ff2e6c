/**
 * Finds a voicemail beep in the caller audio: a steady single tone between 400 and 2,000 Hz. Pure and
 * deterministic: PCM16 8 kHz frames in, events out.
 *
 * What a beep is: "usually a single frequency pure tone of any audible frequency with any length since
 * there is no standardized technical specification" (LumenVox tone-detection specification; their
 * detector accepts 70 ms to 1.5 s and rejects multi-frequency tones such as DTMF, busy and ring tones);
 * contact-centre dialers configure it as one frequency with a tolerance, e.g. 1000 Hz +/- 50 Hz (Genesys
 * CPD Server `am-beep-tone`), and detect "the trailing edge of the tone burst". So: one frequency holds
 * nearly all of each frame's energy (a DTMF pair splits it in two; voiced speech spreads it over
 * harmonics that move with the pitch), stays within one analysis step for at least `minToneMs`, and the
 * beep is reported when it ends, the moment a message can start.
 *
 * How: per 20 ms frame, a Hann window and Goertzel filters every 25 Hz from 350 to 2,050 Hz. A pure tone
 * puts all of its windowed energy in the three 50 Hz-spaced bins around it (Parseval: 2/3 in the centre
 * bin, 1/6 in each neighbour), so `purity` = that sum over the frame's whole energy is about 1 for a
 * tone and far lower for anything else.
 */

const RATE = 8000;
const STEP_HZ = 25;
const LOW_HZ = 400;
const HIGH_HZ = 2000;
/** The grid reaches one bin spacing (50 Hz) past each end, for the neighbours of the edge frequencies. */
const GRID_LOW_HZ = LOW_HZ - 50;
const GRID_HIGH_HZ = HIGH_HZ + 50;

export interface BeepDetectorOptions {
  /** Shortest steady tone that counts as a beep. Default 160 ms (8 frames). */
  minToneMs?: number;
  /** Share of a frame's energy the tone must hold. Default 0.8. */
  minPurity?: number;
  /** Quietest tone heard, as frame RMS on the 16-bit scale. Default 150 (about -47 dBFS). */
  minRms?: number;
}

export interface BeepEvent {
  /** Detected tone frequency (to the 25 Hz grid). */
  hz: number;
  /** How long the tone lasted. */
  durationMs: number;
}

export interface FrameAnalysis {
  rms: number;
  /** Strongest frequency on the grid within 400-2,000 Hz. */
  hz: number;
  purity: number;
}

/** Analyses one frame (any length; 160 samples = 20 ms is what the bridge gives). */
export function analyseFrame(pcm: Int16Array): FrameAnalysis {
  const n = pcm.length;
  if (n === 0) return { rms: 0, hz: 0, purity: 0 };
  const w = windowed(pcm);
  let energy = 0;
  let raw = 0;
  for (let i = 0; i < n; i++) {
    energy += w[i] * w[i];
    raw += pcm[i] * pcm[i];
  }
  const rms = Math.sqrt(raw / n);
  if (energy === 0) return { rms, hz: 0, purity: 0 };
  const bins = Math.round((GRID_HIGH_HZ - GRID_LOW_HZ) / STEP_HZ) + 1;
  const power = new Float64Array(bins);
  for (let b = 0; b < bins; b++) power[b] = goertzel(w, GRID_LOW_HZ + b * STEP_HZ);
  // Two grid steps = 50 Hz, the bin spacing of a 160-sample frame.
  const first = (LOW_HZ - GRID_LOW_HZ) / STEP_HZ;
  const last = bins - 1 - (GRID_HIGH_HZ - HIGH_HZ) / STEP_HZ;
  let best = first;
  for (let b = first; b <= last; b++) if (power[b] > power[best]) best = b;
  const around = power[best - 2] + power[best] + power[best + 2];
  // Parseval for a real signal: a tone's |X|^2 at +f and -f together is 2|X(f)|^2 of N * energy.
  const purity = Math.min(1, (2 * around) / (n * energy));
  return { rms, hz: GRID_LOW_HZ + best * STEP_HZ, purity };
}

/**
 * Streaming detector: feed every caller frame; `push` returns a BeepEvent on the frame where a beep
 * ended, else undefined. One stray frame inside a tone (a click, a lost packet) does not end it.
 */
export class BeepDetector {
  private readonly minFrames: number;
  private readonly minPurity: number;
  private readonly minRms: number;
  private toneHz = 0;
  private toneFrames = 0;
  private misses = 0;

  constructor(o: BeepDetectorOptions = {}) {
    this.minFrames = Math.max(1, Math.round((o.minToneMs ?? 160) / 20));
    this.minPurity = o.minPurity ?? 0.8;
    this.minRms = o.minRms ?? 150;
  }

  /** A tone has been steady for long enough to be a beep, and has not ended yet. */
  get toneOn(): boolean {
    return this.toneFrames >= this.minFrames;
  }

  push(pcm: Int16Array): BeepEvent | undefined {
    const a = analyseFrame(pcm);
    const tonal = a.rms >= this.minRms && a.purity >= this.minPurity;
    if (tonal && this.toneFrames > 0 && Math.abs(a.hz - this.toneHz) <= STEP_HZ) {
      this.toneFrames += 1 + this.misses;
      this.misses = 0;
      return undefined;
    }
    if (this.toneFrames > 0 && !tonal && this.misses === 0 && this.toneFrames >= 2) {
      // Forgive one frame: if the tone resumes next frame it continues.
      this.misses = 1;
      return undefined;
    }
    const ended = this.toneFrames >= this.minFrames ? { hz: this.toneHz, durationMs: this.toneFrames * 20 } : undefined;
    this.toneFrames = tonal ? 1 : 0;
    this.toneHz = tonal ? a.hz : 0;
    this.misses = 0;
    return ended;
  }
}

let hann = new Float64Array(0);
let scratch = new Float64Array(0);

function windowed(pcm: Int16Array): Float64Array {
  const n = pcm.length;
  if (hann.length !== n) {
    hann = new Float64Array(n);
    for (let i = 0; i < n; i++) hann[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1 || 1));
    scratch = new Float64Array(n);
  }
  for (let i = 0; i < n; i++) scratch[i] = pcm[i] * hann[i];
  return scratch;
}

/** |X(f)|^2 of the frame at frequency f (Goertzel; f need not be a bin centre). */
function goertzel(x: Float64Array, hz: number): number {
  const coeff = 2 * Math.cos((2 * Math.PI * hz) / RATE);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < x.length; i++) {
    const s0 = x[i] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}
