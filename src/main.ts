import 'dotenv/config';
import { chmodSync } from 'node:fs';
import { parseSettings, SettingsError, missingForCalls, type Settings } from './config/settings.js';
import { buildApp, VERSION, type App } from './server/app.js';
import { resolveApiToken } from './server/auth.js';
import { createServerLogger, resolveLogFormat, type ServerLogger } from './server/logging.js';
import { UnknownModelError } from './models/catalog.js';
import { ModelPullFailure, modelsForStages, pullMissingModels } from './models/pull-on-start.js';
import { checkDataDir, dataDirFailure, EXIT, listenError, modelPullError, StartupError } from './server/startup-errors.js';
import { startVadWorker } from './media/vad-factory.js';

/**
 * `npm start`: the server. Start-up problems a person can fix (a bad setting, DATA_DIR not writable, the
 * port in use) end with one sentence on stderr and their own exit code (startup-errors.ts, docs/terminal.md).
 */
async function main(): Promise<void> {
  let settings: Settings;
  try {
    settings = parseSettings(process.env);
  } catch (err) {
    if (err instanceof SettingsError) fail(`Callwright cannot start: ${err.problems.join('; ')} (set in .env or the environment).`, EXIT.badSetting);
    throw err;
  }
  const tty = Boolean(process.stdout.isTTY);
  const log = createServerLogger({
    level: settings.LOG_LEVEL,
    sensitive: settings.LOG_SENSITIVE,
    format: resolveLogFormat(settings.LOG_FORMAT, tty),
    color: tty && !process.env.NO_COLOR,
  });
  let app: App | undefined;
  try {
    // Everything this process creates (database, -wal/-shm, recordings, transcripts, token) is owner-only.
    process.umask(0o077);
    checkDataDir(settings.DATA_DIR);
    chmodSync(settings.DATA_DIR, 0o700);
    if (settings.MODELS_PULL_ON_START) await pullStageModels(settings, log);
    const token = resolveApiToken(settings.API_TOKEN, settings.DATA_DIR);
    app = await buildApp({ settings, apiToken: token.token, loggerInstance: log.logger });
    // Barge-in's and the cascade's Silero run in a worker thread that builds detectors ahead when idle:
    // started now, the first calls neither wait for the thread nor build their detector.
    startVadWorker();
    try {
      await app.server.listen({ port: settings.PORT, host: settings.HOST });
    } catch (err) {
      throw listenError(err, settings.HOST, settings.PORT) ?? err;
    }
    announce(log, settings, token, tty);
  } catch (err) {
    const known = err instanceof StartupError ? err : dataDirFailure(err, settings.DATA_DIR);
    log.flush();
    if (known) fail(known.message, known.exitCode);
    throw err;
  }

  const stop = async () => {
    await app!.close();
    log.flush();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** MODELS_PULL_ON_START: the in-process stages' missing models, before the server listens (docs/local.md). */
async function pullStageModels(s: Settings, log: ServerLogger): Promise<void> {
  const wanted = modelsForStages(s);
  try {
    await pullMissingModels({
      dataDir: s.DATA_DIR,
      baseUrl: s.MODELS_BASE_URL,
      models: wanted.map((w) => w.model),
      report: (line, fields) => (log.format === 'json' ? log.notice(fields, line) : log.print(line)),
    });
  } catch (err) {
    if (err instanceof UnknownModelError) {
      const setting = wanted.find((w) => w.model === err.model)?.setting ?? 'a model setting';
      throw new StartupError(`Callwright cannot start: ${setting}: ${err.message} (set in .env or the environment).`, EXIT.badSetting);
    }
    if (err instanceof ModelPullFailure) throw modelPullError(err.model, err.failure);
    throw err;
  }
}

/**
 * How to sign in, on every start. The sign-in URL carries the token, so it is printed only to a terminal,
 * never into a log (a file, a pipe, a container's log): there the token file's path is printed instead.
 */
function announce(log: ServerLogger, s: Settings, token: { generated: boolean; file?: string; token: string }, tty: boolean): void {
  const local = `http://localhost:${s.PORT}`;
  const where = token.file ? `the file ${token.file}` : 'the API_TOKEN setting';
  const signIn = tty ? `${local}/#token=${encodeURIComponent(token.token)}` : `open ${local} and paste the API token from ${where}`;
  const missing = missingForCalls(s);
  if (log.format === 'json') {
    log.notice({ event: 'server.ready', url: local, tokenFrom: token.file ?? 'API_TOKEN', tokenGenerated: token.generated, signIn: tty ? 'the sign-in URL is printed on the terminal' : signIn, missing }, `Callwright ${VERSION} is listening on ${local}`);
    return;
  }
  const lines = [`Callwright ${VERSION} is listening on ${local}`];
  if (token.generated) lines.push(`A new API token was generated and kept in ${token.file}.`);
  lines.push(`Sign in: ${signIn}`, `API token: in ${where} (for the CLI, MCP and the REST API).`);
  if (missing.length) lines.push('Not ready to place calls yet. Missing settings:', ...missing.map((m) => `  - ${m}`), 'See .env.example, or run `npm run demo` to see a simulated call.');
  log.print(lines.join('\n'));
}

function fail(message: string, code: number): never {
  process.stderr.write(message + '\n');
  process.exit(code);
}

main().catch((err) => {
  // A bug: the stack is what a report needs.
  process.stderr.write(`Callwright stopped on an unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(EXIT.unexpected);
});
