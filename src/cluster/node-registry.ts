import { availableParallelism, loadavg } from 'node:os';
import { z } from 'zod';

/** One server as the registry knows it (GET /api/nodes). */
export const nodeInfoSchema = z.object({
  id: z.string(),
  /** Where the node's own API answers (PUBLIC_URL, else its listen address). */
  baseUrl: z.string(),
  startedAt: z.string(),
  /** When the node last wrote its heartbeat (this node: now). */
  seenAt: z.string(),
  liveCalls: z.number().int().min(0),
  load: z.object({
    /** The machine's one-minute load average per CPU (1 = every core busy). */
    cpu: z.number().min(0),
    rssMb: z.number().min(0),
  }),
});
export type NodeInfo = z.infer<typeof nodeInfoSchema>;

export interface NodeList {
  nodes: Array<NodeInfo & { self: boolean }>;
  /** True when the list comes from Redis (every live node); false: this node alone. */
  shared: boolean;
  /** Why the list is this node alone although REDIS_URL is set. */
  error?: string;
}

export interface NodeRegistry {
  start(): void;
  list(): Promise<NodeList>;
  /** Stops the heartbeat and leaves the registry at once (a dead node leaves when its entry expires). */
  stop(): Promise<void>;
}

export interface NodeSelf {
  id: string;
  baseUrl: string;
  startedAt: Date;
  liveCalls: () => number;
}

/** This node's entry as of now. */
export function snapshot(self: NodeSelf, now = new Date()): NodeInfo {
  return {
    id: self.id,
    baseUrl: self.baseUrl,
    startedAt: self.startedAt.toISOString(),
    seenAt: now.toISOString(),
    liveCalls: self.liveCalls(),
    load: {
      cpu: Math.round((loadavg()[0] / availableParallelism()) * 100) / 100,
      rssMb: Math.round(process.memoryUsage.rss() / 1048576),
    },
  };
}

/** One node (no REDIS_URL): the list is this node. */
export class LocalNodeRegistry implements NodeRegistry {
  constructor(private readonly self: NodeSelf) {}

  start(): void {}

  async list(): Promise<NodeList> {
    return { nodes: [{ ...snapshot(this.self), self: true }], shared: false };
  }

  async stop(): Promise<void> {}
}
