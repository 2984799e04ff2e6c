import { hostname } from 'node:os';
import type { Settings } from '../config/settings.js';

/**
 * This node's name in the node registry: NODE_ID, else the host name and process id, so two servers on
 * one machine (the test setup, or two containers sharing a host name) never share a registry entry.
 * Campaign claims keep their own default (the host name alone, stable across restarts; docs/campaigns.md):
 * set NODE_ID on every node of a multi-node deployment and both agree.
 */
export function nodeIdOf(s: Pick<Settings, 'NODE_ID'>): string {
  return s.NODE_ID ?? `${hostname()}-${process.pid}`;
}
