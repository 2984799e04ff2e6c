import type { Command } from 'commander';
import { ApiError, type ApiClient } from '../client/api-client.js';
import { apiClientFor, resolveConnection, type Connection } from './connection.js';
import { exitCodeFor } from './exit-codes.js';

export interface CommonOptions {
  url?: string;
  token?: string;
  dataDir?: string;
  json?: boolean;
}

/** The options every command that talks to the server takes (shown in each command's --help). */
export function withConnection(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'server URL (env CALLWRIGHT_URL; default http://127.0.0.1:$PORT, PORT defaulting to 3000)')
    .option('--token <token>', 'API token (env CALLWRIGHT_TOKEN or API_TOKEN; default: DATA_DIR/api-token)')
    .option('--data-dir <dir>', 'where to find the api-token the server generated (env DATA_DIR; default ./data)')
    .option('--json', 'print JSON for scripts instead of text');
}

/** What a command's action gets: the API client, and how to print. */
export interface Context {
  api: ApiClient;
  connection: Connection;
  json: boolean;
  /** Prints the result: JSON with --json, else the human text. */
  print(value: unknown, human: () => string | string[]): void;
}

export const useColor = () => Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
export const paint = (code: number, s: string) => (useColor() ? `\x1b[${code}m${s}\x1b[0m` : s);

export function contextFor(o: CommonOptions): Context {
  const connection = resolveConnection(o, process.env);
  const json = Boolean(o.json);
  return {
    api: apiClientFor(connection),
    connection,
    json,
    print(value, human) {
      if (json) process.stdout.write(JSON.stringify(value, null, 2) + '\n');
      else {
        const text = human();
        process.stdout.write((Array.isArray(text) ? text.join('\n') : text) + '\n');
      }
    },
  };
}

/**
 * Wraps a command action: builds its context from the options (commander passes them last, before the
 * command itself) and turns an error into a message and a meaningful exit code.
 */
export function action<A extends unknown[]>(fn: (ctx: Context, ...args: A) => Promise<number | void>) {
  return async (...all: unknown[]) => {
    const cmd = all[all.length - 1] as Command;
    const opts = cmd.optsWithGlobals() as CommonOptions;
    const ctx = contextFor(opts);
    try {
      const code = await fn(ctx, ...(all.slice(0, -1) as A));
      if (typeof code === 'number') process.exitCode = code;
    } catch (err) {
      reportError(ctx, err);
      process.exitCode = exitCodeFor(err);
    }
  };
}

export function reportError(ctx: Pick<Context, 'json' | 'connection'>, err: unknown): void {
  const e = err as Error;
  const api = err instanceof ApiError ? err : undefined;
  if (ctx.json) {
    // The API's own error shape ({error: {code, message, field?, rule?, missing?}}) plus the HTTP status.
    const body = { error: { ...(api ? { code: api.code } : {}), message: e?.message ?? String(err), ...(api ? { status: api.status, field: api.field, rule: api.rule, missing: api.missing, retryAfterSec: api.retryAfterSec } : {}) } };
    process.stdout.write(JSON.stringify(body, null, 2) + '\n');
    return;
  }
  let line = `callwright: ${e?.message ?? String(err)}`;
  if (api?.rule) line = `callwright: refused (${api.rule}): ${api.message}`;
  if (api?.retryAfterSec) line += ` (try again in ${api.retryAfterSec} s)`;
  if (api?.status === 401) line += `\n  token from: ${ctx.connection.tokenSource}`;
  process.stderr.write(line + '\n');
}

/** A plain text table: columns padded to their widest cell. */
export function table(headers: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]?.length ?? 0)));
  const lines = cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd());
  return [paint(1, lines[0]), ...lines.slice(1)].join('\n');
}

export const money = (amount: number, currency = 'USD') => `${currency === 'USD' ? '$' : `${currency} `}${amount.toFixed(amount < 1 ? 4 : 2)}`;
