import { z } from 'zod';
import { isValidClientId } from '../clients/profile.js';
import type { ChannelSpec } from './announcements.js';

/**
 * Word between nodes that a client's documents changed in the shared CLIENTS_DIR, so the other nodes
 * re-sync that client's index at once rather than at their next rescan (knowledge/rescan.ts, which stays
 * the fallback: a lost message delays a document by one rescan period, nothing more).
 */
export interface KnowledgeChange {
  clientId: string;
}

export const KNOWLEDGE_CHANNEL: ChannelSpec<KnowledgeChange> = {
  name: 'callwright:knowledge',
  schema: z.object({ clientId: z.string().refine(isValidClientId) }),
  onPublishFailed: {
    event: 'knowledge.announceFailed',
    message: "could not tell the other nodes a client's documents changed; they pick it up at their next rescan (KNOWLEDGE_RESCAN_S)",
    fields: (m) => ({ clientId: m.clientId }),
  },
};
