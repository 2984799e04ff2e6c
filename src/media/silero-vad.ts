import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Upsampler8kTo16k } from './resample.js';
import { InThreadDetector, type VoiceActivityChange } from './voice-activity.js';
import { SileroPreGate } from './silero-pre-gate.js';
import type { SileroStreamOptions } from './silero-stream.js';

/**
 * Silero VAD v6 (models/silero_vad.onnx, MIT, see models/README.md) run by sherpa-onnx's native addon,
 * which ships prebuilt per platform on npm with its own ONNX Runtime: nothing is downloaded at install
 * or at run time. Silero is a small neural network trained to tell speech from noise; line hiss, clicks,
 * hold music and tones stay below its threshold where an energy detector fires.
 *
 * This is the detector run in the caller's thread, one sherpa-onnx detector (one ONNX Runtime session)
 * each: the reference the tests and benchmarks hear with. The bridge runs the same decisions in the VAD
 * worker on one session for every call (silero-stream.ts, vad-worker/silero-session.ts), checked against
 * this one frame for frame.
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
export const SILERO_MODEL_PATH = fileURLToPath(new URL('../../models/silero_vad.onnx', import.meta.url));
const WINDOW = 512;
/** sherpa keeps the audio of each speech segment for its caller; this detector drops them at once. */
const SEGMENT_BUFFER_S = 30;
const SAMPLE_RATE = 16000;
/** Past this much unbroken speech sherpa holds the detector to a stricter threshold (silero-stream.ts does the same). */
const MAX_SPEECH_S = 20;

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
 * Detectors no longer used, reset and kept for the next ones. Building one loads the model into a new
 * ONNX Runtime session: 75-90 ms of CPU in one synchronous native call. A reset one is as good as new (it
 * drops the recurrent state, the buffered audio and the segments, as the pre-gate's reset relies on) and
 * costs microseconds. Each holds about 12 MB, so only a few idle ones are kept.
 */
const idleVads = new Map<string, SherpaVad[]>();
const IDLE_VADS_MAX = 16;

/** Detectors built by this thread (tests: the bridge builds none on its main thread). */
let builds = 0;

function buildVad(config: Record<string, unknown>): SherpaVad {
  builds++;
  return new (loadSherpa().Vad)(config, SEGMENT_BUFFER_S);
}

function acquireVad(config: Record<string, unknown>): SherpaVad {
  return idleVads.get(JSON.stringify(config))?.pop() ?? buildVad(config);
}

function releaseVad(config: Record<string, unknown>, vad: SherpaVad): void {
  const key = JSON.stringify(config);
  const idle = idleVads.get(key) ?? [];
  if (idle.length >= IDLE_VADS_MAX) return; // freed by the addon's finalizer once unreferenced
  vad.reset();
  idle.push(vad);
  idleVads.set(key, idle);
}

/** Detectors built by this thread so far. */
export function sileroBuilds(): number {
  return builds;
}

/** Idle detectors held for reuse (tests). */
export function idleSileroVads(): number {
  let n = 0;
  for (const list of idleVads.values()) n += list.length;
  return n;
}

/** The options as sherpa-onnx takes them (also the idle pool's key). */
function sileroConfig(o: SileroVadOptions): Record<string, unknown> {
  return {
    sileroVad: {
      model: SILERO_MODEL_PATH,
      threshold: o.threshold ?? 0.5,
      minSpeechDuration: sileroMinSpeechMs(o) / 1000,
      minSilenceDuration: (o.minSilenceMs ?? 32) / 1000,
      windowSize: WINDOW,
      // Long speech is cut into segments of at most this; the segments themselves are dropped below.
      maxSpeechDuration: MAX_SPEECH_S,
    },
    sampleRate: SAMPLE_RATE,
    numThreads: 1,
    provider: 'cpu',
    debug: 0,
  };
}

const sileroMinSpeechMs = (o: SileroVadOptions) => o.minSpeechMs ?? 64;

/** The same options for the batched port the VAD worker runs (silero-stream.ts): the same defaults as sherpa's. */
export function sileroStreamOptions(o: SileroVadOptions): SileroStreamOptions {
  return { threshold: o.threshold ?? 0.5, minSpeechMs: sileroMinSpeechMs(o), minSilenceMs: o.minSilenceMs ?? 32, maxSpeechMs: MAX_SPEECH_S * 1000 };
}

/** How much speech Silero has heard when it says 'started': sherpa confirms it at the end of a 32 ms window. */
export function sileroOnsetMs(o: SileroVadOptions): number {
  return sileroMinSpeechMs(o) + (WINDOW / SAMPLE_RATE) * 1000;
}

/**
 * One call's Silero, run in this thread (tests and benchmarks; the bridge's runs in the VAD worker, see
 * above). pushPcm() applies the pre-gate here; feed() and restart() are the detector without it.
 */
export class SileroVad extends InThreadDetector {
  speaking = false;
  readonly onsetMs: number;
  private vad?: SherpaVad;
  private readonly config: Record<string, unknown>;
  private up = new Upsampler8kTo16k();
  private pcm16k = new Int16Array(640);
  private float = new Float32Array(640);
  private readonly gate?: SileroPreGate;
  /** Windows' worth of audio handed to the network: for tests and the benchmark (counts, not time). */
  samplesFed = 0;

  constructor(o: SileroVadOptions = {}) {
    super();
    this.onsetMs = sileroOnsetMs(o);
    if (o.floorDbfs !== undefined) this.gate = new SileroPreGate(o.floorDbfs);
    this.config = sileroConfig(o);
    this.vad = acquireVad(this.config);
  }

  pushPcm(pcm8k: Int16Array): VoiceActivityChange | undefined {
    const verdict = this.gate?.frame(pcm8k) ?? 'feed';
    if (verdict === 'feed') return this.feed(pcm8k);
    return verdict === 'gate-starts' ? this.restart() : undefined;
  }

  /**
   * The pre-gate closed: Silero starts clean when audio returns (no half window, no stale recurrent state
   * from before the gap), and the upsampler's history is zeroed rather than fed zeros: the gap was below
   * the floor, so zeros are what it nearly was, for no work at all.
   */
  restart(): VoiceActivityChange | undefined {
    if (!this.vad) return undefined;
    this.vad.reset();
    this.up = new Upsampler8kTo16k();
    if (!this.speaking) return undefined;
    this.speaking = false;
    return 'stopped';
  }

  /** Runs the network on one frame (no gate). */
  feed(pcm8k: Int16Array): VoiceActivityChange | undefined {
    const vad = this.vad;
    if (!vad) return undefined;
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

  close(): void {
    if (this.vad) releaseVad(this.config, this.vad);
    this.vad = undefined;
  }
}
