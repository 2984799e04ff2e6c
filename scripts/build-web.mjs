// Builds the web UI (web/ -> web/dist) with Vite when the build is missing or older than its sources.
// `npm start` and `npm test` run it first; `--force` rebuilds regardless. Importable: ensureWebBuilt().
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'web');
const stamp = join(web, 'dist', 'index.html');

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = st.mtimeMs;
  for (const name of readdirSync(path)) t = Math.max(t, newest(join(path, name)));
  return t;
}

/** True when web/dist is missing or any source (web/src, web/public, index.html, config, lockfile) is newer. */
export function webBuildStale() {
  if (!existsSync(stamp)) return true;
  const sources = [join(web, 'src'), join(web, 'public'), join(web, 'index.html'), join(web, 'vite.config.ts'), join(root, 'package-lock.json')].filter((p) => existsSync(p));
  return Math.max(...sources.map(newest)) > statSync(stamp).mtimeMs;
}

export async function ensureWebBuilt({ force = false, quiet = false } = {}) {
  if (!force && !webBuildStale()) return false;
  const t0 = Date.now();
  const { build } = await import('vite');
  await build({ root: web, configFile: join(web, 'vite.config.ts'), logLevel: quiet ? 'error' : 'warn' });
  if (!quiet) console.log(`web UI built into web/dist in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureWebBuilt({ force: process.argv.includes('--force') }).catch((err) => {
    console.error(`building the web UI failed: ${err.message}`);
    process.exit(1);
  });
}
