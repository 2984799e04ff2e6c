import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseSharing, ruleFor, type ShareRule } from '../knowledge/sharing.js';

export interface ClientProfile {
  id: string;
  name: string;
  profile: string;
  /** Optional CLIENTS_DIR/<id>/system-prompt.txt: replaces the built-in prompt template. */
  systemPromptTemplate?: string;
  /**
   * profile.txt's sharing rule (sharing.txt; default `always`). Only `always` puts the profile into the
   * prompt; otherwise the prompt has the name alone and lookups apply the rule.
   */
  profileShare: ShareRule;
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
  // An unreadable sharing.txt (other than missing) shares nothing, as in the knowledge base.
  const sharing = await readFile(join(dir, 'sharing.txt'), 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? '' : 'profile.txt: never\n'));
  const profileShare = ruleFor(parseSharing(sharing), 'profile.txt', true);
  return { id, name, profile: profile.trim(), systemPromptTemplate: systemPromptTemplate?.trim() || undefined, profileShare };
}
