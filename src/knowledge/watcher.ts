import { watch, mkdirSync, type FSWatcher } from 'node:fs';
import { resolve, sep } from 'node:path';
import { isValidClientId } from '../clients/profile.js';
import type { KnowledgeLog } from './types.js';

export interface ClientsWatcherOptions {
  clientsDir: string;
  /** Called once per burst of changes in a client's folder (after `debounceMs` of quiet). */
  onClientChanged(clientId: string): void;
  /** Called when the watcher cannot tell which client changed. */
  onUnknownChange(): void;
  debounceMs?: number;
  log?: KnowledgeLog;
}

export interface ClientsWatcher {
  close(): void;
}

/**
 * Watches CLIENTS_DIR (recursively) and reports which client's folder changed, debounced per client so
 * a file being copied in several writes triggers one sync. Hidden files (our upload temp files) are
 * ignored: their rename onto the real name is what counts.
 */
export function watchClients(o: ClientsWatcherOptions): ClientsWatcher {
  const dir = resolve(o.clientsDir);
  const debounceMs = o.debounceMs ?? 300;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const timers = new Map<string, NodeJS.Timeout>();
  // fs.watch can still deliver an event after close(); nothing may be scheduled from then on.
  let closed = false;
  const schedule = (key: string, fire: () => void) => {
    if (closed) return;
    clearTimeout(timers.get(key));
    timers.set(
      key,
      setTimeout(() => {
        timers.delete(key);
        fire();
      }, debounceMs),
    );
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { recursive: true }, (_event, filename) => {
      if (!filename) return schedule('*', o.onUnknownChange);
      const parts = filename.toString().split(sep);
      const clientId = parts[0]!;
      if (!isValidClientId(clientId)) return;
      if (parts.length > 1 && parts.at(-1)!.startsWith('.')) return;
      schedule(clientId, () => o.onClientChanged(clientId));
    });
    watcher.on('error', (err) => o.log?.warn({ err, clientsDir: dir }, 'knowledge: watching CLIENTS_DIR failed; changes are picked up at the next start or upload'));
  } catch (err) {
    o.log?.warn({ err, clientsDir: dir }, 'knowledge: cannot watch CLIENTS_DIR; changes are picked up at the next start or upload');
  }
  return {
    close() {
      closed = true;
      watcher?.close();
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}
