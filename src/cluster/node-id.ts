import { hostname } from 'node:os';
import type { Settings } from '../config/settings.js';

/**
 * This node's one name: on the calls it holds, in campaign claims, in the node registry (and in its
 * carrier URLs where the proxy routes by node). NODE_ID when set. Otherwise, alone on SQLite, the host
 * name: stable across restarts, so a restarted server settles its own calls and claims at once (one
 * process per DATA_DIR, so no other process can share it). With a shared database or Redis, the host name
 * and process id: two servers on one host (or two containers sharing a host name) must never take each
 * other's calls for their own; a restarted node then finds its old calls and claims by their leases
 * running out. Set NODE_ID, stable, on every node of a deployment to have both.
 */
export function nodeIdOf(s: Pick<Settings, 'NODE_ID' | 'DATABASE_URL' | 'REDIS_URL'>): string {
  if (s.NODE_ID) return s.NODE_ID;
  return s.DATABASE_URL || s.REDIS_URL ? `${hostname()}-${process.pid}` : hostname();
}
