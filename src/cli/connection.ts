import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApiClient } from '../client/api-client.js';

export interface ConnectionFlags {
  url?: string;
  token?: string;
  dataDir?: string;
}

export interface Connection {
  baseUrl: string;
  token?: string;
  /** Where the token came from, for error messages (never the token itself). */
  tokenSource: string;
}

/**
 * Where the server is and how to sign in, so that the CLI works with no setup on the server's machine:
 * flags first, then the environment (and .env, loaded by the caller), then what the server itself uses
 * (PORT; the token it generated in DATA_DIR/api-token).
 */
export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv, cwd = process.cwd()): Connection {
  const baseUrl = flags.url ?? env.CALLWRIGHT_URL ?? `http://127.0.0.1:${env.PORT || 3000}`;
  if (flags.token) return { baseUrl, token: flags.token, tokenSource: '--token' };
  if (env.CALLWRIGHT_TOKEN) return { baseUrl, token: env.CALLWRIGHT_TOKEN, tokenSource: 'CALLWRIGHT_TOKEN' };
  if (env.API_TOKEN) return { baseUrl, token: env.API_TOKEN, tokenSource: 'API_TOKEN' };
  const file = join(resolve(cwd, flags.dataDir ?? env.DATA_DIR ?? './data'), 'api-token');
  if (existsSync(file)) {
    try {
      return { baseUrl, token: readFileSync(file, 'utf8').trim(), tokenSource: file };
    } catch {
      /* unreadable (another user's server): fall through to no token */
    }
  }
  return { baseUrl, tokenSource: `none (no --token, CALLWRIGHT_TOKEN or API_TOKEN, and no ${file})` };
}

export function apiClientFor(c: Connection): ApiClient {
  return new ApiClient({ baseUrl: c.baseUrl, token: c.token });
}
