import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { apiClientFor, resolveConnection } from './connection.js';

export const CLI_VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

/** `callwright serve`: the server itself, exactly as `npm start` runs it (settings from env and .env). */
export function serveCommand(): Command {
  return new Command('serve')
    .description('Run the Callwright server, as `npm start` does (builds the web UI when needed; settings from the environment and .env)')
    .option('--port <port>', 'HTTP port (PORT, default 3000)', (v) => {
      if (!/^\d{1,5}$/.test(v)) throw new InvalidArgumentError('expected a port number');
      return v;
    })
    .option('--host <host>', 'interface to listen on (HOST, default 127.0.0.1)')
    .option('--data-dir <dir>', 'database, recordings, transcripts and the API token (DATA_DIR, default ./data)')
    .action(async (o: { port?: string; host?: string; dataDir?: string }) => {
      if (o.port) process.env.PORT = o.port;
      if (o.host) process.env.HOST = o.host;
      if (o.dataDir) process.env.DATA_DIR = o.dataDir;
      // As `npm start` (its prestart): the web UI is built first when missing or older than its source.
      // Vite is a dev dependency: without it the server still runs and its home page says how to build.
      try {
        const { ensureWebBuilt } = await import('../../scripts/build-web.mjs');
        await ensureWebBuilt();
      } catch (err) {
        process.stderr.write(`callwright serve: the web UI could not be built (${(err as Error).message}); the API works without it\n`);
      }
      // The server as this CLI runs: compiled (dist/main.js) or from source under tsx.
      await import('../main.js');
      // main.ts keeps the process up until SIGINT/SIGTERM.
      await new Promise(() => undefined);
    });
}

/** `callwright mcp`: the MCP server over stdio, for AI clients on this machine. */
export function mcpCommand(): Command {
  return new Command('mcp')
    .description('Run the MCP server over stdio (for Claude Desktop, Claude Code, Cursor, VS Code ...); it talks to a running Callwright server')
    .option('--url <url>', 'server URL (env CALLWRIGHT_URL; default http://127.0.0.1:$PORT)')
    .option('--token <token>', 'API token (env CALLWRIGHT_TOKEN or API_TOKEN; default: DATA_DIR/api-token)')
    .option('--data-dir <dir>', 'where to find the api-token the server generated (env DATA_DIR; default ./data)')
    .addHelpText('after', '\nExample (Claude Code):\n  claude mcp add callwright --env CALLWRIGHT_URL=http://127.0.0.1:3000 --env CALLWRIGHT_TOKEN=... -- npx callwright mcp')
    .action(async (o: { url?: string; token?: string; dataDir?: string }) => {
      const { serveMcpOverStdio } = await import('../mcp/stdio.js');
      const connection = resolveConnection(o, process.env);
      // stdout is the protocol channel: this note goes to stderr, which MCP clients show in their logs.
      process.stderr.write(`callwright mcp: serving over stdio for ${connection.baseUrl} (token from ${connection.tokenSource})\n`);
      await serveMcpOverStdio(apiClientFor(connection), CLI_VERSION);
    });
}
