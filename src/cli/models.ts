import { Command } from 'commander';
import { z } from 'zod';
import { isInstalled, MODEL_CATALOG, modelDir, UnknownModelError } from '../models/catalog.js';
import type { DownloadProgress } from '../models/download.js';
import { archiveUrl, pullModel, verifyModel } from '../models/install.js';
import { mb, quarterProgress } from '../models/progress.js';
import { modelsSettingsShape } from '../models/settings.js';
import { cascadeSettingsShape } from '../voice/cascade/settings.js';
import { EXIT } from './exit-codes.js';
import { paint } from './output.js';

/**
 * `callwright models list|pull|verify|check`: the in-process cascade models (docs/local.md). Works on this
 * machine's DATA_DIR, with no server involved: a model is pulled before the server that uses it starts.
 */

interface ModelsOptions {
  dataDir?: string;
  baseUrl?: string;
  json?: boolean;
  force?: boolean;
}

const withDataDir = (cmd: Command) => cmd.option('--data-dir <dir>', 'where models go: DATA_DIR/models (env DATA_DIR; default ./data)');

function settingsFor(o: ModelsOptions): { dataDir: string; baseUrl?: string } {
  const parsed = z
    .object(modelsSettingsShape)
    .safeParse({ MODELS_BASE_URL: o.baseUrl ?? process.env.MODELS_BASE_URL });
  if (!parsed.success) throw new UsageFailure(`${o.baseUrl ? '--base-url' : 'MODELS_BASE_URL'}: ${parsed.error.issues[0]?.message}`);
  return { dataDir: o.dataDir ?? process.env.DATA_DIR ?? './data', baseUrl: parsed.data.MODELS_BASE_URL };
}

class UsageFailure extends Error {}

/** Runs a subcommand, mapping failures to the CLI's exit codes with a one-line message on stderr. */
function run<A extends unknown[]>(fn: (...args: A) => Promise<number | void>) {
  return async (...args: A) => {
    try {
      process.exitCode = (await fn(...args)) ?? EXIT.ok;
    } catch (err) {
      process.stderr.write(`callwright models: ${(err as Error).message}\n`);
      process.exitCode = err instanceof UnknownModelError ? EXIT.notFound : err instanceof UsageFailure ? EXIT.usage : EXIT.failed;
    }
  };
}

/** Progress on stderr: a line redrawn in place on a terminal, a line per quarter otherwise (logs, CI). */
function progressPrinter(name: string) {
  const tty = Boolean(process.stderr.isTTY);
  let lastDraw = 0;
  const quarters = quarterProgress(name, (line) => process.stderr.write(`${line}\n`));
  const started = Date.now();
  return {
    update(p: DownloadProgress) {
      const pct = p.total ? Math.floor((p.received / p.total) * 100) : 0;
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 100 && p.received < p.total) return;
        lastDraw = now;
        const secs = Math.max((now - started) / 1000, 0.001);
        const rate = (p.received - p.resumedFrom) / secs;
        process.stderr.write(`\r\x1b[K${name}  ${mb(p.received)} / ${mb(p.total)}  ${pct}%  ${mb(rate)}/s`);
      } else quarters(p);
    },
    end() {
      if (tty && lastDraw) process.stderr.write('\n');
    },
  };
}

export function modelsCommand(): Command {
  const models = new Command('models').description('Speech models for the cascade engine run in this process (docs/local.md): list, pull, verify, check');

  models.addCommand(
    withDataDir(new Command('list'))
      .description('The models Callwright can download, their size, licence and whether they are pulled')
      .option('--json', 'print JSON for scripts instead of text')
      .action(
        run(async (o: ModelsOptions) => {
          const { dataDir } = settingsFor(o);
          const rows = MODEL_CATALOG.map((m) => ({
            name: m.name,
            stage: m.stage,
            description: m.description,
            bytes: m.archive.bytes,
            licence: m.licence,
            licenceNote: m.licenceNote,
            cpuRealTime: m.cpuRealTime,
            installed: isInstalled(dataDir, m.name),
            dir: modelDir(dataDir, m.name),
          }));
          if (o.json) {
            process.stdout.write(JSON.stringify({ models: rows }, null, 2) + '\n');
            return;
          }
          const lines = rows.flatMap((r) => [
            `${paint(1, r.name)}  ${r.stage.toUpperCase()}  ${mb(r.bytes)}  ${r.installed ? paint(32, 'pulled') : 'not pulled'}`,
            `  ${r.description}`,
            `  licence: ${r.licence}`,
            `  ${r.licenceNote}`,
          ]);
          process.stdout.write(lines.join('\n') + `\n\nPull one with: callwright models pull <name>   (into ${modelDir(dataDir, '<name>')})\n`);
        }),
      ),
  );

  models.addCommand(
    withDataDir(new Command('pull'))
      .description('Download models into DATA_DIR/models (resumes an interrupted download; checks size and sha256)')
      .argument('<names...>', 'model names (see `callwright models list`)')
      .option('--base-url <url>', 'a mirror holding the archives by file name (env MODELS_BASE_URL; default: the pinned upstream URLs)')
      .option('--force', 'download and unpack again even when already pulled')
      .action(
        run(async (names: string[], o: ModelsOptions) => {
          const { dataDir, baseUrl } = settingsFor(o);
          for (const name of names) {
            const entry = MODEL_CATALOG.find((m) => m.name === name);
            if (!entry) throw new UnknownModelError(name);
            if (!o.force && isInstalled(dataDir, name)) {
              process.stderr.write(`${name}: already pulled in ${modelDir(dataDir, name)} (--force to pull again)\n`);
              continue;
            }
            process.stderr.write(`${name}: downloading ${mb(entry.archive.bytes)} from ${archiveUrl(entry, baseUrl)}\n`);
            const progress = progressPrinter(name);
            try {
              const r = await pullModel({
                dataDir,
                model: name,
                baseUrl,
                force: o.force,
                onProgress: (p) => progress.update(p),
                onUnpack: () => {
                  progress.end();
                  process.stderr.write(`${name}: checksum ok, unpacking\n`);
                },
              });
              process.stderr.write(`${name}: ready in ${r.dir}\n`);
            } catch (err) {
              progress.end();
              throw err;
            }
          }
        }),
      ),
  );

  models.addCommand(
    withDataDir(new Command('verify'))
      .description("Re-hash pulled models' files against what their install recorded (all pulled models when none is named)")
      .argument('[names...]', 'model names')
      .option('--json', 'print JSON for scripts instead of text')
      .action(
        run(async (names: string[], o: ModelsOptions) => {
          const { dataDir } = settingsFor(o);
          const targets = names.length ? names : MODEL_CATALOG.filter((m) => isInstalled(dataDir, m.name)).map((m) => m.name);
          const results = [];
          for (const name of targets) results.push(await verifyModel(dataDir, name));
          if (o.json) process.stdout.write(JSON.stringify({ results }, null, 2) + '\n');
          else if (!results.length) process.stdout.write('No models pulled.\n');
          else for (const r of results) process.stdout.write(r.ok ? `${r.name}: ok${r.note ? ` (${r.note})` : ''}\n` : `${r.name}: ${paint(31, 'FAILED')}\n${r.problems.map((p) => `  ${p}`).join('\n')}\n`);
          return results.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
        }),
      ),
  );
  models.addCommand(
    withDataDir(new Command('check'))
      .description('Speak a sentence with the Piper voice and hear it back through the telephone path with the Zipformer (TTS_PIPER_VOICE, STT_SHERPA_MODEL)')
      .argument('[sentence]', 'what to say')
      .action(
        run(async (sentence: string | undefined, o: ModelsOptions) => {
          const { dataDir } = settingsFor(o);
          const parsed = z.object(stageModelsShape).safeParse(process.env);
          if (!parsed.success) throw new UsageFailure(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
          const s = parsed.data;
          // Loaded here only: the native speech runtime is not needed by the other commands.
          const { checkInProcessModels } = await import('../models/check.js');
          await checkInProcessModels({ dataDir, sttModel: s.STT_SHERPA_MODEL, ttsVoice: s.TTS_PIPER_VOICE, threads: s.SHERPA_THREADS, sentence, print: (l) => process.stdout.write(`${l}\n`) });
        }),
      ),
  );
  return models;
}

/** The in-process stages' model settings alone, so a bad setting elsewhere does not stop a check. */
const stageModelsShape = {
  STT_SHERPA_MODEL: cascadeSettingsShape.STT_SHERPA_MODEL,
  TTS_PIPER_VOICE: cascadeSettingsShape.TTS_PIPER_VOICE,
  SHERPA_THREADS: cascadeSettingsShape.SHERPA_THREADS,
};
