import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isValidClientId } from './profile.js';

/** The clients in CLIENTS_DIR (the seed's layout: one folder per client with a profile.txt). */

export interface ClientSummary {
  id: string;
  name: string;
}

export class ClientExistsError extends Error {}

export async function clientExists(clientsDir: string, id: string): Promise<boolean> {
  if (!isValidClientId(id)) return false;
  return stat(join(resolve(clientsDir), id)).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Every client folder with a valid id; the name is the profile's `Full Name:` (or the id). */
export async function listClients(clientsDir: string): Promise<ClientSummary[]> {
  const dir = resolve(clientsDir);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: ClientSummary[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || !isValidClientId(e.name)) continue;
    const profile = await readFile(join(dir, e.name, 'profile.txt'), 'utf8').catch(() => '');
    out.push({ id: e.name, name: /^\s*Full Name:\s*(.+?)\s*$/im.exec(profile)?.[1] ?? e.name });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** A client id from a name: "José María O'Neil" -> "jose-maria-o-neil". Empty when nothing usable is left. */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/, '');
}

/** Creates the client's folder and profile.txt. Throws ClientExistsError when the folder exists. */
export async function createClient(clientsDir: string, c: { id: string; name: string; profile?: string; systemPrompt?: string }): Promise<void> {
  const root = resolve(clientsDir);
  await mkdir(root, { recursive: true, mode: 0o700 });
  const dir = join(root, c.id);
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ClientExistsError(`client "${c.id}" already exists`);
    throw err;
  }
  try {
    const profile = `Full Name: ${c.name}\n${c.profile?.trim() ? `${c.profile.trim()}\n` : ''}`;
    await writeFile(join(dir, 'profile.txt'), profile, { mode: 0o600 });
    if (c.systemPrompt?.trim()) await writeFile(join(dir, 'system-prompt.txt'), `${c.systemPrompt.trim()}\n`, { mode: 0o600 });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
