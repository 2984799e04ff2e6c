import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Upsampler8kTo16k } from './resample.js';
import type { VoiceActivityChange, VoiceActivityDetector } from './voice-activity.js';

/**
 * Silero VAD v6 (models/silero_vad.onnx, MIT, see models/README.md) run by sherpa-onnx's native addon,
 * which ships prebuilt per platform on npm with its own ONNX Runtime: nothing is downloaded at install
 * or at run time. Silero is a small neural network trained to tell speech from noise; line hiss, clicks,
 * hold music and tones stay below its threshold where an energy detector fires.
 *
 * sherpa-onnx runs Silero at 16 kHz only (it refuses 8 kHz), so the caller's 8 kHz audio is doubled with
 * the same half-band filter the Gemini path uses. It infers once per 32 ms window (512 samples), about
 * 0.1 ms of one core per window: see `npm run bench -- --only bargein`. With `floorDbfs` it is not run
 * at all on frames quieter than that (the callee's silences): scripts/profile-vad-gate.ts.
 */
export interface SileroVadOptions {
  /** Speech probability above which a window counts as speech (Silero's own default, 0.5). */
  threshold?: number;
  /** Speech shorter than this never starts (the detector's debounce; the barge-in policy adds its own). */
  minSpeechMs?: number;
  /**
   * Silence that ends the speech. Short (one 32 ms window) so that 'stopped' marks the end of the words
   * closely; the barge-in policy bridges the pauses between words itself.
   */
  minSilenceMs?: number;
  /**
   * Energy pre-gate: while a frame's RMS is below this (dBFS, RMS re 32768), the network is not run and
   * the audio counts as silence. Undefined: every frame is fed (no gate). See VAD_FLOOR_DBFS_DEFAULT.
   */
  floorDbfs?: number;
}

/**
 * Default energy floor for the pre-gate. Telephone speech is carried at about -19 dBm0 (ITU-T G.169/G.115,
 * as RFC 7874 section 4 puts it: RMS 2600 of 32767, about -22 dBFS); quiet or badly placed talkers sit some
 * 8 dB lower (about -24 dBm, "VoIP Voice and Fax Signal Processing" 1.5), and networks gain-control speech
 * down to only -40..-42 dBm0. G.711 mu-law's full-scale sine is +3.17 dBm0, so dBm0 ~ dBFS - 3. At -45 dBFS
 * (about -42 dBm0) the gate sits ~23 dB under nominal speech and at the bottom of what AGC still treats
 * as speech, while a quiet line between the callee's words stays gated. Loud noise (hum, music) passes
 * the gate and is left to Silero, which is what tells it from speech.
 */
export const VAD_FLOOR_DBFS_DEFAULT = -45;
/**
 * After the last frame above the floor the network keeps running this long, so a dip between words or a
 * trailing quiet syllable is judged by Silero exactly as without the gate, and its own silence ends the speech.
 */
const GATE_HANGOVER_MS = 256;

export const SILERO_MODEL_PATH = fileURLToPath(new URL('../../models/silero_vad.onnx', import.meta.url));
const WINDOW = 512;
/** sherpa keeps the audio of each speech segment for its caller; this detector drops them at once. */
const SEGMENT_BUFFER_S = 30;
const SAMPLE_RATE = 16000;

interface SherpaVad {
  acceptWaveform(samples: Float32Array): void;
  isDetected(): boolean;
  isEmpty(): boolean;
  pop(): void;
  reset(): void;
}
type SherpaModule = { Vad: new (config: Record<string, unknown>, bufferSizeInSeconds: number) => SherpaVad };

let sherpa: SherpaModule | undefined;
/** Loads the native addon once; throws with the reason when this platform has no build of it. */
export function loadSherpa(): SherpaModule {
  sherpa ??= createRequire(import.meta.url)('sherpa-onnx-node') as SherpaModule;
  return sherpa;
}

/**
 * Detectors of ended calls, reset and kept for the next calls. Building one loads the model into a new
 * ONNX Runtime session: about 90 ms of CPU in one synchronous native call, on the event loop that carries
 * every live call's audio (issue 18's profile: the largest single cost of starting a call). A reset one is
 * as good as new (it drops the recurrent state, the buffered audio and the segments, as the pre-gate's
 * reset relies on) and costs microseconds. Each holds about 10 MB, so only a few idle ones are kept: with
 * calls replacing calls the pool stays small, and after a peak the rest go to the finalizer.
 */
const idleVads = new Map<string, SherpaVad[]>();
const IDLE_VADS_MAX = 16;

function acquireVad(config: Record<string, unknown>): SherpaVad {
  return idleVads.get(JSON.stringify(config))?.pop() ?? new (loadSherpa().Vad)(config, SEGMENT_BUFFER_S);
}

function releaseVad(config: Record<string, unknown>, vad: SherpaVad): void {
  const key = JSON.stringify(config);
  const idle = idleVads.get(key) ?? [];
  if (idle.length >= IDLE_VADS_MAX) return; // freed by the addon's finalizer once unreferenced
  vad.reset();
  idle.push(vad);
  idleVads.set(key, idle);
}

/** Idle detectors held for reuse (tests). */
export function idleSileroVads(): number {
  let n = 0;
  for (const list of idleVads.values()) n += list.length;
  return n;
}

export class SileroVad implements VoiceActivityDetector {
  speaking = false;
  readonly onsetMs: number;
  private vad?: SherpaVad;
  private readonly config: Record<string, unknown>;
  private up = new Upsampler8kTo16k();
  private pcm16k = new Int16Array(640);
  private float = new Float32Array(640);
  /** Mean square (int16 units) below which a frame is gated; 0: no gate. */
  private readonly floorMeanSq: number;
  /** Audio ms fed since the last frame above the floor; starts gated (a call opens in silence). */
  private quietMs = Infinity;
  /** Windows' worth of audio handed to the network: for tests and the benchmark (counts, not time). */
  samplesFed = 0;

  constructor(o: SileroVadOptions = {}) {
    const minSpeechMs = o.minSpeechMs ?? 64;
    // sherpa confirms speech once it has lasted minSpeechMs, judged at the end of a 32 ms window.
    this.onsetMs = minSpeechMs + (WINDOW / SAMPLE_RATE) * 1000;
    this.floorMeanSq = o.floorDbfs === undefined ? 0 : (32768 * 10 ** (o.floorDbfs / 20)) ** 2;
    this.config = {
      sileroVad: {
        model: SILERO_MODEL_PATH,
        threshold: o.threshold ?? 0.5,
        minSpeechDuration: minSpeechMs / 1000,
        minSilenceDuration: (o.minSilenceMs ?? 32) / 1000,
        windowSize: WINDOW,
        // Long speech is cut into segments of at most this; the segments themselves are dropped below.
        maxSpeechDuration: 20,
      },
      sampleRate: SAMPLE_RATE,
      numThreads: 1,
      provider: 'cpu',
      debug: 0,
    };
    this.vad = acquireVad(this.config);
  }

  pushPcm(pcm8k: Int16Array): VoiceActivityChange | undefined {
    const vad = this.vad;
    if (!vad) return undefined;
    if (this.floorMeanSq > 0 && this.gated(pcm8k)) {
      if (this.quietMs === Infinity) return undefined;
      // Entering the gated state: Silero starts clean when audio returns (no half window, no stale
      // recurrent state from before the gap), and the upsampler's history is zeroed rather than fed
      // zeros: the gap was below the floor, so zeros are what it nearly was, for no work at all.
      this.quietMs = Infinity;
      vad.reset();
      this.up = new Upsampler8kTo16k();
      if (!this.speaking) return undefined;
      this.speaking = false;
      return 'stopped';
    }
    const n = pcm8k.length * 2;
    if (this.pcm16k.length < n) {
      this.pcm16k = new Int16Array(n);
      this.float = new Float32Array(n);
    }
    const up = this.up.process(pcm8k, this.pcm16k.subarray(0, n));
    const f = this.float.subarray(0, n);
    for (let i = 0; i < n; i++) f[i] = up[i] / 32768;
    vad.acceptWaveform(f);
    this.samplesFed += n;
    while (!vad.isEmpty()) vad.pop();
    const now = vad.isDetected();
    if (now === this.speaking) return undefined;
    this.speaking = now;
    return now ? 'started' : 'stopped';
  }

  /** Whether this frame falls in the gated state: below the floor once the hangover has run out. */
  private gated(pcm8k: Int16Array): boolean {
    let sum = 0;
    for (let i = 0; i < pcm8k.length; i++) sum += pcm8k[i] * pcm8k[i];
    if (pcm8k.length > 0 && sum / pcm8k.length >= this.floorMeanSq) {
      this.quietMs = 0;
      return false;
    }
    if (this.quietMs >= GATE_HANGOVER_MS) return true;
    this.quietMs += pcm8k.length / 8;
    return false;
  }

  close(): void {
    if (this.vad) releaseVad(this.config, this.vad);
    this.vad = undefined;
  }
}
