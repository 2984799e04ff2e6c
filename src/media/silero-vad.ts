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
 * 0.1 ms of one core per window: see `npm run bench -- --only bargein`.
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
}

export const SILERO_MODEL_PATH = fileURLToPath(new URL('../../models/silero_vad.onnx', import.meta.url));
const WINDOW = 512;
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

export class SileroVad implements VoiceActivityDetector {
  speaking = false;
  readonly onsetMs: number;
  private vad?: SherpaVad;
  private readonly up = new Upsampler8kTo16k();
  private pcm16k = new Int16Array(640);
  private float = new Float32Array(640);

  constructor(o: SileroVadOptions = {}) {
    const minSpeechMs = o.minSpeechMs ?? 64;
    // sherpa confirms speech once it has lasted minSpeechMs, judged at the end of a 32 ms window.
    this.onsetMs = minSpeechMs + (WINDOW / SAMPLE_RATE) * 1000;
    this.vad = new (loadSherpa().Vad)(
      {
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
      },
      // sherpa keeps the audio of each speech segment for its caller; this detector drops them at once.
      30,
    );
  }

  pushPcm(pcm8k: Int16Array): VoiceActivityChange | undefined {
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
    while (!vad.isEmpty()) vad.pop();
    const now = vad.isDetected();
    if (now === this.speaking) return undefined;
    this.speaking = now;
    return now ? 'started' : 'stopped';
  }

  close(): void {
    // The native object is freed by the addon's finalizer once unreferenced.
    this.vad = undefined;
  }
}
