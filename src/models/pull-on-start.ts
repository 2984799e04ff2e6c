import { isInstalled, resolveModel, type ModelEntry } from './catalog.js';
import { archiveUrl, pullModel } from './install.js';
import { mb, quarterProgress } from './progress.js';

/**
 * MODELS_PULL_ON_START: the server pulls the models its in-process stages are set to use, when missing,
 * before it listens (docs/local.md). Which stages count does not depend on AI_PROVIDER: any call may ask
 * for the cascade engine (`provider: cascade`), and it would load these models.
 */

export interface StageModelSettings {
  STT_PROVIDER: string;
  STT_SHERPA_MODEL: string;
  TTS_PROVIDER: string;
  TTS_PIPER_VOICE: string;
}

/** The catalog names the configured in-process stages load, with the setting that names each. */
export function modelsForStages(s: StageModelSettings): { setting: string; model: string }[] {
  const out: { setting: string; model: string }[] = [];
  if (s.STT_PROVIDER === 'sherpa') out.push({ setting: 'STT_SHERPA_MODEL', model: s.STT_SHERPA_MODEL });
  if (s.TTS_PROVIDER === 'piper') out.push({ setting: 'TTS_PIPER_VOICE', model: s.TTS_PIPER_VOICE });
  return out;
}

export interface PullOnStartOptions {
  dataDir: string;
  baseUrl?: string;
  /** Catalog names, or whole entries (a model not in the built-in catalog). */
  models: (string | ModelEntry)[];
  /** One line for a person, with fields for a JSON log. */
  report: (line: string, fields: Record<string, unknown>) => void;
}

export class ModelPullFailure extends Error {
  constructor(
    readonly model: string,
    readonly failure: Error,
  ) {
    super(`model ${model} could not be pulled: ${failure.message}`);
    this.name = 'ModelPullFailure';
  }
}

/** Pulls each missing model in turn; returns the names it pulled. Throws ModelPullFailure on the first that fails. */
export async function pullMissingModels(o: PullOnStartOptions): Promise<string[]> {
  const pulled: string[] = [];
  for (const m of o.models) {
    const entry = resolveModel(m);
    if (isInstalled(o.dataDir, entry)) continue;
    const url = archiveUrl(entry, o.baseUrl);
    o.report(`${entry.name}: not pulled yet; downloading ${mb(entry.archive.bytes)} from ${url}`, { event: 'models.pull.start', model: entry.name, bytes: entry.archive.bytes, url });
    const progress = quarterProgress(entry.name, (line, p) => o.report(line, { event: 'models.pull.progress', model: entry.name, percent: p.percent, received: p.received, total: p.total }));
    try {
      const r = await pullModel({
        dataDir: o.dataDir,
        model: entry,
        baseUrl: o.baseUrl,
        onProgress: progress,
        onUnpack: () => o.report(`${entry.name}: checksum ok, unpacking`, { event: 'models.pull.unpack', model: entry.name }),
      });
      o.report(`${entry.name}: ready in ${r.dir}`, { event: 'models.pull.done', model: entry.name, dir: r.dir });
    } catch (err) {
      throw new ModelPullFailure(entry.name, err as Error);
    }
    pulled.push(entry.name);
  }
  return pulled;
}
