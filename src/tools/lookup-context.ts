import { z } from 'zod';
import type { KnowledgeBase } from '../knowledge/index.js';
import { defineTool } from './registry.js';

const EXCERPT_CHARS = 300;

/**
 * Mid-call retrieval from the call's client's documents. The client comes from the call (ToolContext),
 * never from the model's arguments, so a call for one client cannot read another's documents.
 */
export function lookupContextTool(knowledge: KnowledgeBase, o: { topK: number }) {
  return defineTool({
    name: 'lookup_context',
    description:
      "Search the documents of the person you are calling for (insurance cards, medical notes, orders, account details...). Use it whenever you are asked for a fact that is not in your instructions or the reference section, before you answer, e.g. a member ID, a date of birth, an order number, a dose. Answer only from what it returns; if it finds nothing that answers the question, say you will check and get back to them.",
    requiresClient: true,
    // The knowledge base is the main process's (its database, its embedder).
    runsOnMain: true,
    args: z.object({
      query: z.string().trim().min(1).max(500).describe('What you need to know, as a short question or keywords, e.g. "insurance member ID" or "date of birth".'),
    }),
    async run(ctx, { query }) {
      if (!ctx.clientId) return { output: 'There are no documents for this call. Do not guess: say you will check and get back to them.', reply: true };
      const { mode, results } = await knowledge.search(ctx.clientId, query, { purpose: 'lookup', k: o.topK });
      ctx.record?.('knowledge.lookup', {
        query,
        mode,
        results: results.map((r) => ({ file: r.file, page: r.page, chunkId: r.chunkId, score: r.score, excerpt: excerpt(r.text) })),
      });
      if (!results.length) return { output: `Nothing in the documents matches "${query}". Do not guess: say you will check and get back to them.`, reply: true };
      const found = results.map((r, i) => `[${i + 1}] ${r.file}${r.page !== null ? `, page ${r.page}` : ''}:\n${r.text.trim()}`).join('\n\n');
      return { output: `Excerpts from the documents, most relevant first. Use only what answers the question; if none does, say you will check and get back to them.\n\n${found}`, reply: true };
    },
  });
}

function excerpt(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length <= EXCERPT_CHARS ? t : `${t.slice(0, EXCERPT_CHARS - 1)}…`;
}
