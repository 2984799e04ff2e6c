import { randomBytes } from 'node:crypto';
import { readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { kindFromName } from './sniff.js';
import { KnowledgeError } from './types.js';

/** The client's profile: indexed like a document (so lookups find its facts), and in the prompt whole. */
export const PROFILE_FILE = 'profile.txt';
/** The per-client sharing rules (see sharing.ts). */
export const SHARING_FILE = 'sharing.txt';

/** Files of a client's folder that configure the agent rather than inform it: never indexed. */
const NOT_DOCUMENTS = new Set(['system-prompt.txt', SHARING_FILE]);
/** Names an upload may not take: the profile and the configuration files are edited in the folder. */
const RESERVED = new Set([PROFILE_FILE, ...NOT_DOCUMENTS]);

/** Whether a file in a client's folder is a document we index. Hidden files (and our temp files) are not. */
export function isIndexableFile(name: string): boolean {
  return !name.startsWith('.') && !NOT_DOCUMENTS.has(name.toLowerCase()) && kindFromName(name) !== undefined;
}

/** Whether the file is the client's profile. */
export function isProfileFile(name: string): boolean {
  return name.toLowerCase() === PROFILE_FILE;
}

/** The indexable regular files directly in a client's folder (symbolic links are not followed). */
export async function listIndexableFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries.filter((e) => e.isFile() && isIndexableFile(e.name)).map((e) => e.name).sort();
}

/**
 * The name an uploaded file is stored under: its base name only (browsers on some systems send a
 * path), and only if it cannot escape the folder, hide, or replace the profile.
 */
export function safeUploadName(raw: string): string {
  const name = basename(raw.replaceAll('\\', '/')).normalize('NFC');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(raw)) throw new KnowledgeError(`file name "${printable(raw)}" contains control characters`, 400, 'file');
  if (!name || name === '.' || name === '..') throw new KnowledgeError(`file name "${printable(raw)}" is empty`, 400, 'file');
  if (name.startsWith('.')) throw new KnowledgeError(`file name "${printable(name)}" is hidden (starts with ".")`, 400, 'file');
  if (Buffer.byteLength(name) > 200) throw new KnowledgeError('file name is longer than 200 bytes', 400, 'file');
  if (RESERVED.has(name.toLowerCase())) throw new KnowledgeError(`"${name}" is reserved for the client's ${isProfileFile(name) ? 'profile' : 'settings'}; edit it in the client's folder`, 400, 'file');
  if (!kindFromName(name)) throw new KnowledgeError(`"${printable(name)}" is not a supported document (.pdf, .docx, .md, .txt)`, 415, 'file');
  return name;
}

/** Writes a file atomically: a hidden temp file in the same folder, then a rename over the target. */
export async function writeFileAtomic(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dir, `.upload-${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, bytes, { mode: 0o600, flag: 'wx' });
    await rename(tmp, join(dir, name));
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, 120);
}
