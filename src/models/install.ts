import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  INSTALL_MANIFEST,
  isInstalled,
  modelDir,
  modelsRoot,
  readInstallManifest,
  requireModel,
  resolveModel,
  type InstallManifest,
  type ModelEntry,
} from './catalog.js';
import { downloadVerified, type DownloadProgress } from './download.js';

/**
 * `callwright models pull`: download a catalog model's archive (resumable, verified), unpack it, and move
 * it into DATA_DIR/models/<name>/ in one rename, with a manifest of what was unpacked written last.
 * `verify` re-hashes an installed model's files against that manifest.
 */

export interface PullOptions {
  dataDir: string;
  /** A catalog name, or a whole entry for a model not in the built-in catalog. */
  model: string | ModelEntry;
  /** A mirror holding the archives by file name (MODELS_BASE_URL); default: each model's pinned URL. */
  baseUrl?: string;
  /** Download and unpack again even when installed. */
  force?: boolean;
  onProgress?: (p: DownloadProgress) => void;
  /** Told when the download is done and unpacking begins (it takes a few seconds). */
  onUnpack?: () => void;
  stallMs?: number;
  retries?: number;
  signal?: AbortSignal;
}

export interface PullResult {
  entry: ModelEntry;
  dir: string;
  /** Already installed: nothing was downloaded. */
  already: boolean;
}

export function archiveUrl(entry: ModelEntry, baseUrl?: string): string {
  return baseUrl ? `${baseUrl.replace(/\/+$/, '')}/${entry.archive.fileName}` : entry.archive.url;
}

export async function pullModel(o: PullOptions): Promise<PullResult> {
  const entry = resolveModel(o.model);
  const dir = modelDir(o.dataDir, entry.name);
  if (!o.force && isInstalled(o.dataDir, entry)) return { entry, dir, already: true };

  const root = modelsRoot(o.dataDir);
  // A pull may be the first thing to create DATA_DIR: owner-only, as the server makes it (README, Security).
  await mkdir(root, { recursive: true, mode: 0o700 });
  // Partial downloads live here between tries, named by the archive so a resume finds them.
  const archivePath = path.join(root, '.downloads', entry.archive.fileName);
  const release = await lock(`${archivePath}.lock`, entry.name);
  try {
    return await downloadAndInstall(o, entry, root, archivePath, dir);
  } finally {
    await release();
  }
}

/**
 * One pull of a model at a time: two would append to the same .part. The lock file holds the puller's
 * pid, so one left by a process that died (killed, machine off) is taken over rather than blocking forever.
 */
async function lock(file: string, name: string): Promise<() => Promise<void>> {
  await mkdir(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, String(process.pid), { flag: 'wx' });
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(await readFile(file, 'utf8').catch(() => ''));
      if (pid > 0 && isAlive(pid)) throw new Error(`${name} is already being pulled by process ${pid}; wait for it to finish (or remove ${file} if that process is not a callwright)`);
      await rm(file, { force: true });
    }
  }
  throw new Error(`could not take the pull lock ${file}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function downloadAndInstall(o: PullOptions, entry: ModelEntry, root: string, archivePath: string, dir: string): Promise<PullResult> {
  await downloadVerified({
    url: archiveUrl(entry, o.baseUrl),
    dest: archivePath,
    bytes: entry.archive.bytes,
    sha256: entry.archive.sha256,
    onProgress: o.onProgress,
    stallMs: o.stallMs,
    retries: o.retries,
    signal: o.signal,
  });
  o.onUnpack?.();
  const staging = path.join(root, `.unpack-${entry.name}-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    await untarBz2(archivePath, staging);
    const unpacked = path.join(staging, entry.archive.root);
    if (!existsSync(unpacked)) throw new Error(`the archive ${entry.archive.fileName} has no ${entry.archive.root}/ folder`);
    for (const rel of Object.values(entry.files)) {
      if (!existsSync(path.join(unpacked, rel))) throw new Error(`the archive ${entry.archive.fileName} lacks ${rel}`);
    }
    const manifest: InstallManifest = {
      name: entry.name,
      archiveSha256: entry.archive.sha256,
      installedAt: new Date().toISOString(),
      files: await hashTree(unpacked),
    };
    await writeFile(path.join(unpacked, INSTALL_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
    await rm(dir, { recursive: true, force: true });
    await rename(unpacked, dir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  // The unpacked copy is verified and recorded; the archive would only double the disk used.
  await rm(archivePath, { force: true });
  return { entry, dir, already: false };
}

/**
 * Unpacks with the system's tar: bzip2 has no decoder in Node or in this project's dependencies, and tar
 * with bzip2 ships with Linux, macOS and Windows 10+. GNU tar and bsdtar both refuse member names with `..`.
 */
function untarBz2(archive: string, into: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', ['-xjf', archive, '-C', into], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => reject(new Error(`could not run tar to unpack ${path.basename(archive)}: ${err.message} (tar with bzip2 support is needed)`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`tar failed to unpack ${path.basename(archive)} (exit ${code}): ${stderr.trim().slice(0, 500)}`));
    });
  });
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), async function* (source) {
    for await (const chunk of source) hash.update(chunk as Buffer);
  });
  return hash.digest('hex');
}

async function hashTree(dir: string): Promise<InstallManifest['files']> {
  const out: InstallManifest['files'] = {};
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    if (!e.isFile()) continue;
    const abs = path.join(e.parentPath, e.name);
    const rel = path.relative(dir, abs).split(path.sep).join('/');
    if (rel === INSTALL_MANIFEST) continue;
    out[rel] = { bytes: (await stat(abs)).size, sha256: await sha256Of(abs) };
  }
  return out;
}

export interface VerifyResult {
  name: string;
  ok: boolean;
  /** What is wrong, one line each (empty when ok). */
  problems: string[];
  note?: string;
}

/** Re-hashes an installed model's files against the manifest its install wrote. */
export async function verifyModel(dataDir: string, model: string | ModelEntry): Promise<VerifyResult> {
  const entry = resolveModel(model);
  const name = entry.name;
  const manifest = readInstallManifest(dataDir, name);
  if (!manifest) {
    try {
      requireModel(dataDir, entry);
    } catch (err) {
      return { name, ok: false, problems: [(err as Error).message] };
    }
    return { name, ok: true, problems: [], note: 'placed by hand: its files are there, but with no install record there is nothing to check them against' };
  }
  const problems: string[] = [];
  if (manifest.archiveSha256 !== entry.archive.sha256) problems.push('installed from another archive than the one pinned now; pull it again with --force');
  const dir = modelDir(dataDir, name);
  for (const [rel, want] of Object.entries(manifest.files)) {
    const abs = path.join(dir, ...rel.split('/'));
    if (!existsSync(abs)) {
      problems.push(`${rel} is missing`);
      continue;
    }
    const bytes = (await stat(abs)).size;
    if (bytes !== want.bytes) problems.push(`${rel} is ${bytes} bytes, expected ${want.bytes}`);
    else if ((await sha256Of(abs)) !== want.sha256) problems.push(`${rel} has changed since it was installed (sha256 differs)`);
  }
  return { name, ok: problems.length === 0, problems };
}
