import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { nodeInfoSchema, type NodeRegistry } from '../cluster/node-registry.js';
import { documented } from './openapi.js';

const nodesResponse = z.object({
  nodes: z.array(nodeInfoSchema.extend({ self: z.boolean().describe('the node that answered') })),
  shared: z.boolean().describe('true: every live node, from Redis (REDIS_URL); false: this node alone'),
  error: z.string().optional().describe('why only this node is listed although REDIS_URL is set'),
});

/** GET /api/nodes: the live servers and their load (behind bearer auth, like the other API routes). */
export async function nodesRoutes(app: FastifyInstance, o: { registry: NodeRegistry }): Promise<void> {
  app.get(
    '/api/nodes',
    documented({
      tag: 'system',
      summary: 'The live nodes: id, base URL, start time, live calls and load',
      description: 'With REDIS_URL every node that wrote its heartbeat in the last 15 s (docs/deployment.md); without it, this node alone.',
      responses: { 200: { description: 'the live nodes, sorted by id', schema: nodesResponse } },
    }),
    async () => o.registry.list(),
  );
}
