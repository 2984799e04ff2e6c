import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { ApiClient } from '../client/api-client.js';
import { createMcpServer } from './mcp-server.js';

/**
 * `callwright mcp`: the MCP server on stdin/stdout for a local AI client, talking to a running
 * Callwright server over its REST API. stdout carries only JSON-RPC, so anything else goes to stderr.
 */
export async function serveMcpOverStdio(api: ApiClient, version: string): Promise<void> {
  const server = createMcpServer(api, version);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close();
}
