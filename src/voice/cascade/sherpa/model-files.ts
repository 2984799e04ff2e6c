import { requireModel, type InstalledModel, type ModelEntry } from '../../../models/catalog.js';
import { StageError } from '../stages.js';
import type { OfflineTtsConfig, OnlineRecognizerConfig } from './addon.js';

/**
 * The in-process models' files, from the catalog (src/models/catalog.ts): DATA_DIR/models/<name>/, put
 * there by `callwright models pull <name>`, never downloaded here. A model that is missing, unknown or
 * of the wrong kind is a StageError marked unreachable: the call cannot go on, as with a server that is down.
 */
export function installedModel(dataDir: string, name: string, stage: 'stt' | 'tts', engine: ModelEntry['engine']): InstalledModel {
  let m: InstalledModel;
  try {
    m = requireModel(dataDir, name);
  } catch (err) {
    throw new StageError(stage, (err as Error).message, true);
  }
  if (m.entry.engine !== engine) throw new StageError(stage, `model ${name} is a ${m.entry.stage} model (${m.entry.engine}); this stage runs ${engine} models (\`callwright models list\`)`, true);
  return m;
}

/** A streaming transducer (Zipformer): encoder/decoder/joiner and tokens, at 16 kHz. */
export function recognizerConfig(m: InstalledModel, o: { numThreads: number }): OnlineRecognizerConfig {
  const f = m.files;
  return {
    featConfig: { sampleRate: m.entry.sampleRate, featureDim: 80 },
    modelConfig: {
      transducer: { encoder: f.encoder, decoder: f.decoder, joiner: f.joiner },
      tokens: f.tokens,
      numThreads: o.numThreads,
      provider: 'cpu',
      debug: 0,
    },
    decodingMethod: 'greedy_search',
    // The engine's Silero VAD ends turns; sherpa's own endpointing would only reset the stream under it.
    enableEndpoint: 0,
  };
}

/** A Piper voice as sherpa-onnx packs it (vits-piper-*): the .onnx, tokens.txt and espeak-ng-data/. */
export function piperConfig(m: InstalledModel, o: { numThreads: number }): OfflineTtsConfig {
  const f = m.files;
  return {
    model: { vits: { model: f.model, tokens: f.tokens, dataDir: f.dataDir }, numThreads: o.numThreads, provider: 'cpu', debug: 0 },
    // Each request is one clause already.
    maxNumSentences: 1,
  };
}
