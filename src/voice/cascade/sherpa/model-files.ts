import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StageError } from '../stages.js';
import type { OfflineTtsConfig, OnlineRecognizerConfig } from './addon.js';

/**
 * Where the in-process models live and which of their files sherpa-onnx is given. Models are
 * directories under DATA_DIR/models/<name>/, unpacked as sherpa-onnx's releases ship them; they are
 * fetched by the user (`callwright models pull <name>`), never here.
 *
 * TODO(integrator): the `models` branch adds src/models/ (catalog, requireModel); resolve through it
 * once merged, keeping this error text.
 */
export function requireModelDir(dataDir: string, name: string, stage: 'stt' | 'tts'): string {
  const dir = resolve(dataDir, 'models', name);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    // `unreachable`: the call cannot go on without it, as with a server that is down.
    throw new StageError(stage, `model ${name} is not downloaded (no ${dir}): run \`callwright models pull ${name}\``, true);
  }
  return dir;
}

/** A streaming transducer (Zipformer) as sherpa-onnx ships it: encoder/decoder/joiner *.onnx and tokens.txt. */
export function recognizerConfig(dir: string, name: string, o: { numThreads: number }): OnlineRecognizerConfig {
  const files = readdirSync(dir);
  return {
    featConfig: { sampleRate: 16000, featureDim: 80 },
    modelConfig: {
      transducer: { encoder: pick(dir, files, 'encoder', name), decoder: pick(dir, files, 'decoder', name), joiner: pick(dir, files, 'joiner', name) },
      tokens: need(dir, 'tokens.txt', name, 'stt'),
      numThreads: o.numThreads,
      provider: 'cpu',
      debug: 0,
    },
    decodingMethod: 'greedy_search',
    enableEndpoint: 0,
  };
}

/** A Piper voice as sherpa-onnx ships it (vits-piper-*): one <voice>.onnx, tokens.txt and espeak-ng-data/. */
export function piperConfig(dir: string, name: string, o: { numThreads: number }): OfflineTtsConfig {
  const onnx = readdirSync(dir).filter((f) => f.endsWith('.onnx')).sort();
  if (onnx.length !== 1) throw new StageError('tts', `model ${name} should hold exactly one .onnx voice in ${dir} (found ${onnx.length}): run \`callwright models pull ${name}\` again`, true);
  return {
    model: {
      vits: { model: join(dir, onnx[0]), tokens: need(dir, 'tokens.txt', name, 'tts'), dataDir: need(dir, 'espeak-ng-data', name, 'tts') },
      numThreads: o.numThreads,
      provider: 'cpu',
      debug: 0,
    },
    maxNumSentences: 1,
  };
}

/**
 * One of encoder/decoder/joiner: sherpa-onnx's releases carry float and int8 exports (and sometimes
 * several chunk sizes). The int8 one is preferred: on a CPU it is about as accurate and several times
 * smaller and faster. Ties go to the first name in sort order, so the choice is stable.
 */
function pick(dir: string, files: string[], part: string, name: string): string {
  const all = files.filter((f) => f.startsWith(part) && f.endsWith('.onnx')).sort();
  const chosen = all.find((f) => f.endsWith('.int8.onnx')) ?? all[0];
  if (!chosen) throw new StageError('stt', `model ${name} has no ${part}*.onnx in ${dir}: run \`callwright models pull ${name}\` again`, true);
  return join(dir, chosen);
}

function need(dir: string, file: string, name: string, stage: 'stt' | 'tts'): string {
  const p = join(dir, file);
  if (!existsSync(p)) throw new StageError(stage, `model ${name} has no ${file} in ${dir}: run \`callwright models pull ${name}\` again`, true);
  return p;
}
