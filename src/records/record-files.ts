import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import type { Settings } from '../config/settings.js';

/** The folders a call's files go to. With several nodes both are one shared folder (docs/deployment.md). */
export interface RecordFolders {
  recordings: string;
  transcripts: string;
}

export function recordFolders(s: Pick<Settings, 'DATA_DIR' | 'RECORDINGS_DIR' | 'TRANSCRIPTS_DIR'>): RecordFolders {
  return {
    recordings: s.RECORDINGS_DIR ?? join(s.DATA_DIR, 'recordings'),
    transcripts: s.TRANSCRIPTS_DIR ?? join(s.DATA_DIR, 'transcripts'),
  };
}

/**
 * The name a call's row keeps for one of its files: the bare file name, resolved against this node's
 * folder when read. A path would tie the row to the node that wrote it (its DATA_DIR, its working
 * folder); a name lets any node that mounts the same folder serve the file.
 */
export function storedName(path: string): string {
  return basename(path);
}

/**
 * Where the file a row names lies on this node. Rows written before names were stored hold a whole path
 * (absolute, or relative to the writing node's working folder): those are used as they are.
 */
export function recordFilePath(folder: string, stored: string): string {
  if (isAbsolute(stored) || stored.includes('/') || stored.includes('\\')) return stored;
  return join(folder, stored);
}

/**
 * Writes a file so that a reader (this node or another one on the shared folder) sees the old content or
 * the new, never a part: a hidden temporary file in the same folder, renamed over the target.
 */
export async function writeRecordFile(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(path, '..', `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data, { mode: 0o600, flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}
