import { z } from 'zod';
import { defineTool } from './registry.js';

/**
 * Hands the call over to a person. The destination is one set before the call (OWNER_PHONE, label
 * "owner", or the call's own `transferTo`), chosen by label: the model never gives a number, so nothing
 * the callee says can make the agent dial somewhere else. The dial policy applies to every destination.
 */
export const transferCallTool = defineTool({
  name: 'transfer_call',
  description:
    'Hand this call over to a person: by default the person you are calling for (the owner). Use it when the callee asks for them or when you cannot go on yourself. In the same turn, first tell the callee in one short sentence that you are putting them through (for "warm": that they should hold, for up to half a minute, while you reach the owner); the transfer starts once those words have played. "cold" connects the callee straight away and you leave the call. "warm" calls the owner first, who hears your brief, then joins them to the callee; if the owner does not answer you are back with the callee and told so. Never give a phone number: "to" is only the label of a destination set for this call.',
  args: z.object({
    mode: z.enum(['cold', 'warm']).describe('"warm" (brief the owner first, come back if they do not answer) or "cold" (connect at once).'),
    to: z.string().max(40).optional().describe('The label of a destination set for this call, e.g. "owner". Leave out for the owner.'),
    brief: z.string().trim().min(1).max(400).optional().describe('Warm only: one or two sentences the owner hears before being connected: who is on the line and what they want.'),
  }),
  async run(ctx, args) {
    const r = await ctx.transfer({ mode: args.mode, to: args.to, brief: args.brief });
    switch (r.status) {
      case 'transferred':
      case 'cancelled':
        // The AI has left the call (or the engine withdrew the call and expects no result).
        return { reply: false };
      case 'interrupted':
        return { output: 'The callee spoke over you, so nothing was transferred. Listen to them and respond.', reply: false };
      case 'returned':
        return { output: `The transfer did not go through: ${r.label} was not reached (${r.reason}). You are back with the callee: tell them briefly and carry on.`, reply: true };
      case 'refused':
        return { output: `The transfer was refused: ${r.message}. Tell the callee you cannot put them through right now, and carry on.`, reply: true };
      case 'failed':
        return { output: `The transfer failed: ${r.message}. You are still with the callee: tell them briefly and carry on.`, reply: true };
    }
  },
});
