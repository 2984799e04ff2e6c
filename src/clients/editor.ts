import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isValidClientId } from './profile.js';

/**
 * A client's editable parts, as files in its folder (the seed's layout): profile.txt starts with the
 * `Full Name:` line (the name), the rest is the profile; system-prompt.txt, when present, replaces the
 * built-in prompt template. Every write is atomic (a temporary file renamed into place), so the folder
 * watcher and a call starting at that moment see the old file or the new one, never half of one.
 */
export interface ClientDetails {
  id: string;
  name: string;
  /** profile.txt without its `Full Name:` line. */
  profile: string;
  /** system-prompt.txt; empty when the built-in template is used. */
  systemPrompt: string;
}

const FULL_NAME = /^\s*Full Name:\s*(.*?)\s*$/im;

/** Splits profile.txt into the name (its `Full Name:` line, or the id) and the rest. */
export function splitProfile(id: string, text: string): { name: string; profile: string } {
  const m = FULL_NAME.exec(text);
  if (!m) return { name: id, profile: text.trim() };
  return { name: m[1] || id, profile: (text.slice(0, m.index) + text.slice(m.index + m[0].length)).trim() };
}

/** profile.txt as written for a name and profile. */
export function joinProfile(name: string, profile: string): string {
  return `Full Name: ${name}\n${profile.trim() ? `${profile.trim()}\n` : ''}`;
}

function dirOf(clientsDir: string, id: string): string {
  if (!isValidClientId(id)) throw new Error(`invalid client id "${id}"`);
  return join(resolve(clientsDir), id);
}

export async function readClientDetails(clientsDir: string, id: string): Promise<ClientDetails> {
  const dir = dirOf(clientsDir, id);
  const text = await readFile(join(dir, 'profile.txt'), 'utf8').catch(() => '');
  const systemPrompt = await readFile(join(dir, 'system-prompt.txt'), 'utf8').catch(() => '');
  return { id, ...splitProfile(id, text), systemPrompt: systemPrompt.trim() };
}

/** Writes what is given (a rename is a new `name`); an empty systemPrompt goes back to the built-in template. */
export async function updateClientDetails(clientsDir: string, id: string, patch: { name?: string; profile?: string; systemPrompt?: string }): Promise<ClientDetails> {
  const dir = dirOf(clientsDir, id);
  const current = await readClientDetails(clientsDir, id);
  const next = { ...current, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) } as ClientDetails;
  if (patch.name !== undefined || patch.profile !== undefined) await writeAtomic(join(dir, 'profile.txt'), joinProfile(next.name, next.profile));
  if (patch.systemPrompt !== undefined) {
    if (patch.systemPrompt.trim()) await writeAtomic(join(dir, 'system-prompt.txt'), `${patch.systemPrompt.trim()}\n`);
    else await unlink(join(dir, 'system-prompt.txt')).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
  return readClientDetails(clientsDir, id);
}

/** Removes the client's folder: its profile, prompt, sharing rules and every document. */
export async function removeClientFolder(clientsDir: string, id: string): Promise<void> {
  await rm(dirOf(clientsDir, id), { recursive: true, force: true });
}

async function writeAtomic(path: string, text: string): Promise<void> {
  // A hidden temporary name: the folder watcher and the indexer ignore dot files.
  const tmp = join(path, '..', `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
