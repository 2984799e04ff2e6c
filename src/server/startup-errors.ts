import { closeSync, mkdirSync, openSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Why the server could not start, as one sentence for the person who started it, and the exit code that
 * says which kind of problem it is (docs/terminal.md). A stack trace is kept for the unexpected (a bug).
 */
export const EXIT = {
  /** Something unexpected: a bug (the stack trace follows the message). */
  unexpected: 1,
  /** A setting is invalid (each one named). */
  badSetting: 2,
  /** The server cannot listen: the port is in use, needs privileges, or HOST is not an address here. */
  cannotListen: 3,
  /** DATA_DIR cannot be created or written (or is not a folder). */
  dataDir: 4,
  /** MODELS_PULL_ON_START: a model the in-process stages need could not be pulled (checksum, mirror, network). */
  modelPull: 5,
} as const;

export class StartupError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'StartupError';
  }
}

const errnoOf = (err: unknown): string | undefined => (err && typeof err === 'object' && 'code' in err ? String((err as { code: unknown }).code) : undefined);

function dataDirError(dir: string, err: unknown): StartupError {
  const code = errnoOf(err);
  const why =
    code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'EROFS' ? 'the file system is read-only'
    : code === 'ENOTDIR' || code === 'EEXIST' ? 'a file is in the way where a folder should be'
    : code === 'ENOSPC' ? 'the disk is full'
    : (code ?? (err as Error).message);
  return new StartupError(`DATA_DIR ${resolve(dir)} cannot be written (${why}): point DATA_DIR at a folder this user can write, or fix the folder's permissions.`, EXIT.dataDir);
}

/** Creates DATA_DIR if needed and proves it writable, before anything else writes there. */
export function checkDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const probe = join(dir, `.write-check-${process.pid}`);
    closeSync(openSync(probe, 'w', 0o600));
    unlinkSync(probe);
  } catch (err) {
    throw dataDirError(dir, err);
  }
}

/** A failed `listen`, in words. */
export function listenError(err: unknown, host: string, port: number): StartupError | undefined {
  const code = errnoOf(err);
  if (code === 'EADDRINUSE') return new StartupError(`Port ${port} on ${host} is already in use (another Callwright, or another program): stop it, or set PORT to a free port.`, EXIT.cannotListen);
  if (code === 'EACCES' || code === 'EPERM') return new StartupError(`Port ${port} on ${host} needs privileges this user does not have: set PORT to 1024 or above.`, EXIT.cannotListen);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new StartupError(`HOST ${host} is not an address of this machine: set HOST to 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).`, EXIT.cannotListen);
  return undefined;
}

/** A file-system or database failure under DATA_DIR while starting, in words; undefined for anything else. */
export function dataDirFailure(err: unknown, dir: string): StartupError | undefined {
  const code = errnoOf(err);
  const path = err && typeof err === 'object' && 'path' in err ? String((err as { path: unknown }).path) : undefined;
  const root = resolve(dir);
  if (path && code && resolve(path).startsWith(root)) return dataDirError(dir, err);
  // better-sqlite3: the database file cannot be opened or written.
  if (code && /^SQLITE_(CANTOPEN|READONLY|PERM|IOERR|FULL)/.test(code)) return dataDirError(dir, { code: code === 'SQLITE_FULL' ? 'ENOSPC' : code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM' ? 'EACCES' : code });
  return undefined;
}

/** A model MODELS_PULL_ON_START could not pull, in words (the download error already names the URL and what was wrong). */
export function modelPullError(model: string, err: Error): StartupError {
  return new StartupError(
    `Callwright cannot start: model ${model} could not be pulled (${err.message.replace(/\.$/, '')}); check MODELS_BASE_URL or the network, or pull it by hand with \`callwright models pull ${model}\`.`,
    EXIT.modelPull,
  );
}
