/**
 * Tells speech from music (and both from silence) on the caller audio, locally and cheaply, so a call on
 * hold can keep minutes of music away from a per-token AI and wake it only for speech.
 *
 * The cue is the one speech cannot hide: its loudness rises and falls with the syllables, 3 to 8 times a
 * second, and it pauses. Hold music (a chord pad, a legato melody, a noise-like ambient bed) is sound
 * without pauses whose loudness moves slowly. Per 20 ms frame we keep the level in dB; over the last
 * second we measure how continuous the sound is and how much of the level's movement lies in the
 * syllabic band (3-8 Hz, by a small DFT over the 50 frame levels). Continuous sound with little syllabic
 * movement is music; sound with syllabic movement, or with pauses, is speech; no sound is silence.
 * Limits (see docs/hold.md): music with a strong beat at the syllable rate, or songs with vocals, read
 * as speech; the cost of that mistake is audio sent to the engine, not a wrong reply (the hold logic
 * still needs a person's line followed by quiet).
 */

export type SoundClass = 'silence' | 'speech' | 'music';

export interface SoundClassifierOptions {
  /** Frame RMS (16-bit scale) above which a frame has sound in it. Default 300 (about -40 dBFS). */
  floorRms?: number;
  /** Frames in the analysis window (20 ms each). Default 50 (1 s). */
  windowFrames?: number;
  /** Share of the window's frames that must have sound for it to count as continuous. Default 0.95. */
  continuousShare?: number;
  /** RMS (dB) of the level's syllabic-band movement at or above which sound is speech. Default 1.2 dB. */
  syllabicDb?: number;
  /** Quiet frames in a row before the class is silence. Default 10 (200 ms). */
  silenceFrames?: number;
  /**
   * Music frames in a row needed to end speech that the syllabic measure had confirmed. Default 12
   * (240 ms): at the onset of speech over music the window still holds mostly music, and the measure can
   * dip below the bar for a few frames after first crossing it (up to 7 frames seen on the simulator's
   * mixed recorded voice).
   */
  musicConfirmFrames?: number;
}

const FRAME_RATE_HZ = 50;

export class SoundClassifier {
  private readonly floorDb: number;
  private readonly n: number;
  private readonly continuousShare: number;
  private readonly syllabicDb: number;
  private readonly silenceFrames: number;
  private readonly musicConfirmFrames: number;
  /** Ring buffer of frame levels (dB, floored) and whether each frame had sound. */
  private readonly levels: Float64Array;
  private readonly active: Uint8Array;
  private readonly cos: Float64Array[];
  private readonly sin: Float64Array[];
  private pos = 0;
  private filled = 0;
  private activeCount = 0;
  private quietRun = 0;
  /** Music decisions in a row while the class is still speech. */
  private musicRun = 0;
  /** The current speech was measured on a whole window of sound (not assumed for want of one). */
  private speechConfirmed = false;
  /** Frames in a row measured as music (before any confirmation), up to the latest frame with sound. */
  private rawMusicRun = 0;
  current: SoundClass = 'silence';

  constructor(o: SoundClassifierOptions = {}) {
    this.floorDb = dbOf((o.floorRms ?? 300) ** 2);
    this.n = o.windowFrames ?? 50;
    this.continuousShare = o.continuousShare ?? 0.95;
    this.syllabicDb = o.syllabicDb ?? 1.2;
    this.silenceFrames = o.silenceFrames ?? 10;
    this.musicConfirmFrames = o.musicConfirmFrames ?? 12;
    this.levels = new Float64Array(this.n).fill(this.floorDb);
    this.active = new Uint8Array(this.n);
    // DFT rows for the bins from 3 to 8 Hz of a window of n frames at 50 frames a second.
    const bins: number[] = [];
    for (let k = 1; k < this.n / 2; k++) {
      const hz = (k * FRAME_RATE_HZ) / this.n;
      if (hz >= 3 && hz <= 8) bins.push(k);
    }
    this.cos = bins.map((k) => Float64Array.from({ length: this.n }, (_, i) => Math.cos((2 * Math.PI * k * i) / this.n)));
    this.sin = bins.map((k) => Float64Array.from({ length: this.n }, (_, i) => Math.sin((2 * Math.PI * k * i) / this.n)));
  }

  /** Feeds one frame of PCM16 8 kHz (any length; 160 samples = 20 ms) and returns the class now. */
  push(pcm: Int16Array): SoundClass {
    let sum = 0;
    for (let i = 0; i < pcm.length; i++) sum += pcm[i] * pcm[i];
    const db = pcm.length ? dbOf(sum / pcm.length) : -Infinity;
    const loud = db > this.floorDb;
    this.activeCount += (loud ? 1 : 0) - this.active[this.pos];
    this.active[this.pos] = loud ? 1 : 0;
    this.levels[this.pos] = Math.max(db, this.floorDb);
    this.pos = (this.pos + 1) % this.n;
    if (this.filled < this.n) this.filled++;
    this.quietRun = loud ? 0 : this.quietRun + 1;
    this.current = this.decide();
    return this.current;
  }

  /**
   * Whether the latest sound, before any quiet now, ended as music: its last frames were measured as music
   * (a whole window of continuous sound without syllabic movement), even if too few to confirm music.
   * Speech followed by a second of music that then stops (a recording, then the line going quiet for a
   * transfer) ends as music; a person's line followed by quiet does not.
   */
  get soundEndedAsMusic(): boolean {
    return this.rawMusicRun >= 2;
  }

  /** RMS in dB of the level's movement in the syllabic band over the window (exposed for tests and tuning). */
  syllabicModulationDb(): number {
    let mean = 0;
    for (let i = 0; i < this.n; i++) mean += this.levels[i];
    mean /= this.n;
    let power = 0;
    for (let b = 0; b < this.cos.length; b++) {
      let re = 0;
      let im = 0;
      const c = this.cos[b];
      const s = this.sin[b];
      // The ring buffer's rotation changes each bin's phase only, not its magnitude.
      for (let i = 0; i < this.n; i++) {
        const v = this.levels[i] - mean;
        re += v * c[i];
        im += v * s[i];
      }
      power += re * re + im * im;
    }
    // A sinusoid of amplitude A gives |X| = A n / 2 in its bin: its RMS (A / sqrt 2) is sqrt(2 power) / n.
    return Math.sqrt(2 * power) / this.n;
  }

  private decide(): SoundClass {
    if (this.quietRun >= this.silenceFrames || this.activeCount === 0) return this.settle('silence');
    // A short quiet stretch is a pause within whatever was playing (music stopping is not speech).
    if (this.quietRun > 0) return this.current;
    // Until a whole window of continuous sound has been heard, nothing can be called music: sound is
    // speech-like, but only provisionally, so music is declared the moment such a window is full.
    if (this.filled < this.n || this.activeCount < this.continuousShare * this.n) {
      this.rawMusicRun = 0;
      return this.settle('speech');
    }
    const speechLike = this.syllabicModulationDb() >= this.syllabicDb;
    this.rawMusicRun = speechLike ? 0 : this.rawMusicRun + 1;
    if (speechLike) {
      // A quiet frame still in the window is a step to the floor that the measure reads as syllabic.
      if (this.activeCount === this.n) this.speechConfirmed = true;
      return this.settle('speech');
    }
    // Measured speech ends only once music has been heard for a while, not on a dip of the measure.
    if (this.current === 'speech' && this.speechConfirmed && ++this.musicRun < this.musicConfirmFrames) return 'speech';
    return this.settle('music');
  }

  private settle(k: SoundClass): SoundClass {
    this.musicRun = 0;
    if (k !== 'speech') this.speechConfirmed = false;
    return k;
  }
}

function dbOf(meanSquare: number): number {
  return 10 * Math.log10(meanSquare + 1e-9);
}
