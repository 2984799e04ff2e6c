import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ApiClient } from '../client/api-client.js';
import { registerCallwrightTools } from './tools.js';

export const MCP_SERVER_NAME = 'callwright';

/** One MCP server with Callwright's tools over `api`; the transport is the caller's choice. */
export function createMcpServer(api: ApiClient, version: string): McpServer {
  const server = new McpServer(
    { name: MCP_SERVER_NAME, version },
    {
      instructions:
        'Callwright places real phone calls through an AI voice agent on behalf of a client. Typical flow: list_clients / list_runbooks, place_call, then wait_for_call until ended is true. Calls are subject to the dial policy and caps; refusals name the rule.',
    },
  );
  registerCallwrightTools(server, api);
  return server;
}
