import { api, ApiError } from './api';
import type { Client, Status } from './types';
import { createStore } from './store';

/** Server status, loaded once per sign-in and refreshed by the settings page. */
export const status = createStore<Status | null>(null);

export async function loadStatus(signal?: AbortSignal): Promise<Status> {
  const s = await api<Status>('/api/status', { signal });
  status.set(s);
  return s;
}

/** The clients list; an older server without the documents API has none (404), which is not an error here. */
export async function loadClients(signal?: AbortSignal): Promise<Client[]> {
  try {
    return (await api<{ clients: Client[] }>('/api/clients', { signal })).clients;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return [];
    throw err;
  }
}
