import 'dotenv/config';
import { mkdirSync, chmodSync } from 'node:fs';
import { parseSettings, SettingsError, missingForCalls } from './config/settings.js';
import { buildApp } from './server/app.js';
import { resolveApiToken } from './server/auth.js';

async function main(): Promise<void> {
  let settings;
  try {
    settings = parseSettings(process.env);
  } catch (err) {
    if (err instanceof SettingsError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  // Everything this process creates (database, -wal/-shm, recordings, transcripts, token) is owner-only.
  process.umask(0o077);
  mkdirSync(settings.DATA_DIR, { recursive: true, mode: 0o700 });
  chmodSync(settings.DATA_DIR, 0o700);
  const token = resolveApiToken(settings.API_TOKEN, settings.DATA_DIR);
  const app = await buildApp({ settings, apiToken: token.token });
  await app.server.listen({ port: settings.PORT, host: settings.HOST });
  const local = `http://localhost:${settings.PORT}`;
  const lines = [`Callwright is listening on ${local}`];
  if (token.generated) {
    lines.push(`Generated an API token (kept in ${token.file}); it is printed this once:`, `  ${token.token}`, `Sign in to the UI: ${local}/#token=${encodeURIComponent(token.token)}`);
  } else if (token.file) {
    lines.push(`API token: in ${token.file}`);
  }
  const missing = missingForCalls(settings);
  if (missing.length) lines.push('Not ready to place calls yet. Missing settings:', ...missing.map((m) => `  - ${m}`), 'See .env.example, or run `npm run demo` to see a simulated call.');
  console.log(lines.join('\n'));

  const stop = async () => {
    await app.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
