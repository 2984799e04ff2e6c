import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The models Callwright can download for the cascade engine's in-process stages (docs/local.md). Each is
 * one upstream release archive, pinned by exact byte size and sha256: nothing is trusted that does not
 * match. A model's name is the folder its archive unpacks to, as sherpa-onnx's releases and docs name it
 * (and STT_SHERPA_MODEL / TTS_PIPER_VOICE take). Nothing here downloads; `callwright models pull <name>` does (src/models/install.ts), into
 * DATA_DIR/models/<name>/, and the stages find their files through `requireModel`. With MODELS_PULL_ON_START the server pulls them on start (pull-on-start.ts).
 *
 * Where each pin comes from: the k2-fsa/sherpa-onnx GitHub releases `asr-models` and `tts-models` publish
 * no checksum file, so every sha256 below was taken from independent public projects that pinned the same
 * release asset (cited per entry) and cross-checked between at least two of them where possible. This
 * project's machines cannot reach GitHub downloads, so a pin was never re-measured here; a changed upstream
 * asset fails the check loudly rather than installing something else.
 */

export type ModelStage = 'stt' | 'tts';

export interface ModelArchive {
  /** The pinned upstream URL (a GitHub release asset; release assets are immutable once uploaded). */
  url: string;
  /** File name on a mirror (MODELS_BASE_URL/<fileName>). */
  fileName: string;
  bytes: number;
  sha256: string;
  /** The single top-level folder the archive unpacks to; its contents become DATA_DIR/models/<name>/. */
  root: string;
  /** Where the checksum was found (public repositories that pin the same asset). */
  checksumSource: string;
}

export interface ModelEntry {
  name: string;
  description: string;
  stage: ModelStage;
  /** Which in-process implementation loads it (the sherpa-onnx stages in src/voice/cascade). */
  engine: 'sherpa-onnx-online-transducer' | 'sherpa-onnx-vits-piper';
  /** Sample rate the model works at; the cascade resamples 8 kHz telephone audio to and from it. */
  sampleRate: number;
  languages: string[];
  licence: string;
  /** Anything about the licence a user must know before using it on calls (dataset terms, attribution). */
  licenceNote: string;
  /** Runs faster than real time on a few CPU cores (no GPU needed). */
  cpuRealTime: boolean;
  /** A GPU helps (sherpa-onnx-node's npm build runs on the CPU, so none of these use one). */
  gpuBenefit: boolean;
  archive: ModelArchive;
  /** The files a stage needs, by role, relative to the model's folder (a role ending in Dir is a folder). */
  files: Record<string, string>;
}

const ASR = 'https://github.com/k2-fsa/sherpa-onnx/releases/download/asr-models';
const TTS = 'https://github.com/k2-fsa/sherpa-onnx/releases/download/tts-models';

function archive(base: string, root: string, bytes: number, sha256: string, checksumSource: string): ModelArchive {
  const fileName = `${root}.tar.bz2`;
  return { url: `${base}/${fileName}`, fileName, bytes, sha256, root, checksumSource };
}

export const MODEL_CATALOG: readonly ModelEntry[] = [
  {
    name: 'sherpa-onnx-streaming-zipformer-en-20M-2023-02-17',
    description: 'Streaming Zipformer transducer, English, 20M parameters (icefall, LibriSpeech); the smallest and fastest, for small CPUs',
    stage: 'stt',
    engine: 'sherpa-onnx-online-transducer',
    sampleRate: 16000,
    languages: ['en'],
    licence: 'Apache-2.0',
    licenceNote: 'Model Apache-2.0 (k2-fsa/icefall); trained on LibriSpeech (CC BY 4.0).',
    cpuRealTime: true,
    gpuBenefit: false,
    archive: archive(
      ASR,
      'sherpa-onnx-streaming-zipformer-en-20M-2023-02-17',
      127_887_156,
      '9c559283e8498d3fe95913c79ca1cb454bb26281ac2b102b41306c7d752765d9',
      'pinned with this size by several public projects, e.g. a Gradle task and a Kotlin model catalog (search "9c559283e8498d3f"); one cites it as the GitHub release digest',
    ),
    files: {
      encoder: 'encoder-epoch-99-avg-1.int8.onnx',
      decoder: 'decoder-epoch-99-avg-1.onnx',
      joiner: 'joiner-epoch-99-avg-1.int8.onnx',
      tokens: 'tokens.txt',
    },
  },
  {
    name: 'sherpa-onnx-streaming-zipformer-en-2023-06-26',
    description: 'Streaming Zipformer transducer, English, ~70M parameters (icefall 2023-05-17, LibriSpeech); more accurate, needs a faster CPU',
    stage: 'stt',
    engine: 'sherpa-onnx-online-transducer',
    sampleRate: 16000,
    languages: ['en'],
    licence: 'Apache-2.0',
    licenceNote: 'Model Apache-2.0 (k2-fsa/icefall); trained on LibriSpeech (CC BY 4.0).',
    cpuRealTime: true,
    gpuBenefit: false,
    archive: archive(
      ASR,
      'sherpa-onnx-streaming-zipformer-en-2023-06-26',
      310_414_022,
      '639e25b578e9e997131402199419c13a941f8e4e198e2da1ce57dbf5cf401282',
      'pinned with this size by independent public projects (a Kotlin model enum, a C# model catalog, a PowerShell installer that measured it on 2026-08-13; search "639e25b578e9e997")',
    ),
    files: {
      encoder: 'encoder-epoch-99-avg-1-chunk-16-left-128.int8.onnx',
      decoder: 'decoder-epoch-99-avg-1-chunk-16-left-128.onnx',
      joiner: 'joiner-epoch-99-avg-1-chunk-16-left-128.int8.onnx',
      tokens: 'tokens.txt',
    },
  },
  {
    name: 'vits-piper-en_US-lessac-medium',
    description: 'Piper VITS voice en_US lessac (medium), repackaged for sherpa-onnx with its espeak-ng data',
    stage: 'tts',
    engine: 'sherpa-onnx-vits-piper',
    sampleRate: 22050,
    languages: ['en-US'],
    licence: 'MIT (Piper); voice trained on the Blizzard 2013 Lessac dataset',
    licenceNote:
      "Piper's code and voices are MIT, but this voice was trained on the Lessac data released for the Blizzard Challenge 2013, whose licence is for non-commercial use (https://www.cstr.ed.ac.uk/projects/blizzard/2013/lessac_blizzard2013/license.html; rhasspy/piper discussion #271). Check it before commercial use. The archive's MODEL_CARD says the same.",
    cpuRealTime: true,
    gpuBenefit: false,
    archive: archive(
      TTS,
      'vits-piper-en_US-lessac-medium',
      67_230_653,
      '9e3febfacf0abf4270172d2958bcec246032b7e88efc2720840cc80c93de334e',
      'pinned with this size by many independent public projects (Dockerfiles checking it with sha256sum -c, Rust/Kotlin/C# model catalogs; search "9e3febfacf0abf42")',
    ),
    files: {
      model: 'en_US-lessac-medium.onnx',
      tokens: 'tokens.txt',
      dataDir: 'espeak-ng-data',
    },
  },
];

export function findModel(name: string): ModelEntry | undefined {
  return MODEL_CATALOG.find((m) => m.name === name);
}

export function modelsRoot(dataDir: string): string {
  return path.resolve(dataDir, 'models');
}

/** DATA_DIR/models/<name>: where a pulled model's files live. */
export function modelDir(dataDir: string, name: string): string {
  return path.join(modelsRoot(dataDir), name);
}

/**
 * What an install unpacked (every file's size and sha256), for `models verify`. A folder without one was
 * placed by hand (an archive unpacked by the user): it is used, with nothing to verify it against.
 */
export const INSTALL_MANIFEST = '.callwright-model.json';

export class ModelNotDownloadedError extends Error {
  constructor(
    readonly model: string,
    detail: string,
  ) {
    super(`model ${model} is not downloaded (${detail}); run \`callwright models pull ${model}\``);
    this.name = 'ModelNotDownloadedError';
  }
}

export class UnknownModelError extends Error {
  constructor(readonly model: string) {
    super(`unknown model "${model}"; known models: ${MODEL_CATALOG.map((m) => m.name).join(', ')} (\`callwright models list\`)`);
    this.name = 'UnknownModelError';
  }
}

export interface InstalledModel {
  entry: ModelEntry;
  dir: string;
  /** Absolute path of each file the stage needs, by the roles in the catalog entry's `files`. */
  files: Record<string, string>;
}

/**
 * A pulled model's files, for a stage about to load it. Throws UnknownModelError for a name not in the
 * catalog and ModelNotDownloadedError (with the command that fixes it) when it was never pulled or lacks
 * a file. An install only ever appears whole (it is unpacked elsewhere and moved in with one rename), so
 * this checks presence only; `callwright models verify` re-hashes.
 */
export function requireModel(dataDir: string, model: string | ModelEntry): InstalledModel {
  const entry = resolveModel(model);
  const name = entry.name;
  const dir = modelDir(dataDir, name);
  if (!existsSync(dir)) throw new ModelNotDownloadedError(name, `no ${dir}`);
  const files: Record<string, string> = {};
  for (const [role, rel] of Object.entries(entry.files)) {
    const abs = path.join(dir, rel);
    if (!existsSync(abs)) throw new ModelNotDownloadedError(name, `${rel} is missing from ${dir}`);
    files[role] = abs;
  }
  return { entry, dir, files };
}

/** A catalog name, or an entry given whole (a model not in the built-in catalog). */
export function resolveModel(model: string | ModelEntry): ModelEntry {
  if (typeof model !== 'string') return model;
  const entry = findModel(model);
  if (!entry) throw new UnknownModelError(model);
  return entry;
}

/** Whether `requireModel` would succeed, for listings. */
export function isInstalled(dataDir: string, model: string | ModelEntry): boolean {
  try {
    requireModel(dataDir, model);
    return true;
  } catch {
    return false;
  }
}

export function readInstallManifest(dataDir: string, name: string): InstallManifest | undefined {
  try {
    return JSON.parse(readFileSync(path.join(modelDir(dataDir, name), INSTALL_MANIFEST), 'utf8')) as InstallManifest;
  } catch {
    return undefined;
  }
}

export interface InstallManifest {
  name: string;
  archiveSha256: string;
  installedAt: string;
  /** sha256 and size of every unpacked file, so `models verify` can spot later damage. */
  files: Record<string, { bytes: number; sha256: string }>;
}
