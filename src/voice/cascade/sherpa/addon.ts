import { createRequire } from 'node:module';

/**
 * The parts of sherpa-onnx-node (1.13.x) the in-process STT and TTS use, typed from its JS and types.js
 * (node_modules/sherpa-onnx-node/streaming-asr.js, non-streaming-tts.js). Only the child process
 * (child.ts) loads it; the config shapes are built in the server (model-files.ts).
 */
export interface OnlineRecognizerConfig {
  featConfig: { sampleRate: number; featureDim: number };
  modelConfig: {
    transducer: { encoder: string; decoder: string; joiner: string };
    tokens: string;
    numThreads: number;
    provider: 'cpu';
    debug: 0 | 1;
  };
  decodingMethod: 'greedy_search' | 'modified_beam_search';
  /** The engine's Silero VAD decides the end of the turn, not sherpa's endpointing. */
  enableEndpoint: 0 | 1;
}

export interface OnlineStreamLike {
  acceptWaveform(w: { samples: Float32Array; sampleRate: number }): void;
  inputFinished(): void;
}

export interface OnlineRecognizerLike {
  createStream(): OnlineStreamLike;
  isReady(s: OnlineStreamLike): boolean;
  /** Synchronous: runs the model on the stream's next chunk (hence the child process). */
  decode(s: OnlineStreamLike): void;
  /** Every stream must be ready; they are run through the model as one batch. */
  decodeStreams(s: OnlineStreamLike[]): void;
  getResult(s: OnlineStreamLike): { text: string };
}

export interface OfflineTtsConfig {
  model: {
    vits: { model: string; tokens: string; dataDir: string; lexicon?: string };
    numThreads: number;
    provider: 'cpu';
    debug: 0 | 1;
  };
  /** Sentences synthesized per batch: 1 (each clause is already short). */
  maxNumSentences: number;
}

export interface OfflineTtsLike {
  readonly sampleRate: number;
  /** Synchronous (hence the child process). */
  generate(req: { text: string; sid: number; speed: number }): { samples: Float32Array; sampleRate: number };
}

export interface SherpaAddon {
  OnlineRecognizer: new (config: OnlineRecognizerConfig) => OnlineRecognizerLike;
  OfflineTts: new (config: OfflineTtsConfig) => OfflineTtsLike;
}

/**
 * Loads the addon, or the module at `path` instead: the glue tests point it at a stand-in with the same
 * API (test/fixtures/sherpa-stand-in.cjs) because no model files exist where they run.
 */
export function loadSherpaAddon(path?: string): SherpaAddon {
  return createRequire(import.meta.url)(path ?? 'sherpa-onnx-node') as SherpaAddon;
}
