import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export interface ClientProfile {
  id: string;
  name: string;
  profile: string;
  /** Optional CLIENTS_DIR/<id>/system-prompt.txt: replaces the built-in prompt template. */
  systemPromptTemplate?: string;
}

const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export class ClientError extends Error {}

export function isValidClientId(id: string): boolean {
  return CLIENT_ID.test(id);
}

/** Reads a client's folder (the seed's layout: profile.txt with a `Full Name:` line). */
export async function loadClientProfile(clientsDir: string, id: string): Promise<ClientProfile> {
  if (!isValidClientId(id)) throw new ClientError('clientId may contain only letters, digits, "-" and "_"');
  const dir = join(resolve(clientsDir), id);
  let profile: string;
  try {
    profile = await readFile(join(dir, 'profile.txt'), 'utf8');
  } catch {
    throw new ClientError(`client "${id}" has no profile.txt in CLIENTS_DIR`);
  }
  const name = /^\s*Full Name:\s*(.+?)\s*$/im.exec(profile)?.[1] ?? id;
  const systemPromptTemplate = await readFile(join(dir, 'system-prompt.txt'), 'utf8').catch(() => undefined);
  return { id, name, profile: profile.trim(), systemPromptTemplate: systemPromptTemplate?.trim() || undefined };
}
