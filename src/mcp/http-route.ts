import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ApiClient, type FetchLike } from '../client/api-client.js';
import { documented } from '../server/openapi.js';
import { createMcpServer } from './mcp-server.js';

export interface McpRouteOptions {
  /** The whole server: the tools call its REST routes in-process (`inject`), through the same hooks. */
  root: FastifyInstance;
  apiToken: string;
  version: string;
}

/**
 * `/mcp`: the MCP tools over streamable HTTP, registered inside the API's bearer-auth scope. Stateless
 * (no MCP session): each POST gets a fresh server and transport, so nothing is kept between requests
 * and any node can answer. The tools reach the REST API through `app.inject` with the API token, so the
 * dial policy, caps, validation and rate limit are exactly the REST API's.
 */
export async function mcpRoutes(app: FastifyInstance, o: McpRouteOptions): Promise<void> {
  const api = new ApiClient({ baseUrl: 'http://callwright.internal', token: o.apiToken, fetch: injectFetch(o.root) });

  const doc = documented({
    tag: 'mcp',
    summary: 'The MCP server over streamable HTTP (stateless, JSON responses): place, follow and hang up calls, search documents, list runbooks',
    description: 'A JSON-RPC message (or batch) of the Model Context Protocol; see docs/mcp.md. The tools call this API, so its validation, dial policy, caps and rate limit apply.',
    body: z.unknown(),
    responses: { 200: 'the JSON-RPC response', 202: 'a notification or response was accepted', 400: 'not a valid JSON-RPC message', 401: 'missing or invalid API token', 406: 'the client does not accept application/json and text/event-stream' },
  });
  app.post('/mcp', doc, async (req, reply) => {
    const server = createMcpServer(api, o.version);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.hijack();
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req.raw, reply.raw, req.body);
    } catch (err) {
      // The reply is hijacked: Fastify's error handler cannot answer for us.
      req.log.error({ err }, 'mcp: request failed');
      if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'Content-Type': 'application/json' });
      if (!reply.raw.writableEnded) reply.raw.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'internal error' }, id: null }));
    }
  });

  // Stateless: no server-initiated stream (GET) and no session to delete (DELETE).
  const notAllowed = async (_req: unknown, reply: FastifyReply) =>
    reply.code(405).header('Allow', 'POST').send({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this MCP server is stateless; send requests with POST' }, id: null });
  const stateless = (method: string) => documented({ tag: 'mcp', summary: `Not used: the MCP server is stateless (no ${method === 'GET' ? 'server-to-client stream' : 'session to end'})`, responses: { 405: 'send MCP requests with POST' } });
  app.get('/mcp', stateless('GET'), notAllowed);
  app.delete('/mcp', stateless('DELETE'), notAllowed);
}

/** A fetch that answers from the Fastify app in-process: no socket, the same routes and hooks. */
export function injectFetch(root: FastifyInstance): FetchLike {
  return async (url, init = {}) => {
    const u = new URL(url);
    const res = await root.inject({
      method: (init.method ?? 'GET') as 'GET',
      url: u.pathname + u.search,
      headers: init.headers as Record<string, string>,
      payload: typeof init.body === 'string' ? init.body : undefined,
    });
    const headers = new Headers();
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : String(v));
    return new Response(res.statusCode === 204 ? null : new Uint8Array(res.rawPayload), { status: res.statusCode, headers });
  };
}
