import { hostname } from 'node:os';
import type { Settings } from '../config/settings.js';

/**
 * This node's one name: on the calls it holds, in campaign claims, in the node registry (and in its
 * carrier URLs where the proxy routes by node). NODE_ID when set. Otherwise, alone on SQLite, the host
 * name: stable across restarts, so a restarted server settles its own calls and claims at once (one
 * process per DATA_DIR, so no other process can share it). With a shared database, the host name
 * and process id: two servers on one host (or two containers sharing a host name) must never take each
 * other's calls for their own; a restarted node then finds its old calls and claims by their leases
 * running out. Set NODE_ID, stable, on every node of a deployment to have both.
 */
export function nodeIdOf(s: Pick<Settings, 'NODE_ID' | 'DATABASE_URL'>): string {
  if (s.NODE_ID) return s.NODE_ID;
  return s.DATABASE_URL ? `${hostname()}-${process.pid}` : hostname();
}

/**
 * This process's name in Redis (the node registry, and the buses, where each ignores its own messages):
 * NODE_ID, else host name and process id, since two servers on one host, each with its own SQLite, would
 * otherwise share the host name there; none of these needs it stable across restarts.
 */
export function registryIdOf(s: Pick<Settings, 'NODE_ID'>): string {
  return s.NODE_ID ?? `${hostname()}-${process.pid}`;
}
