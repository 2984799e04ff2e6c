import { z } from 'zod';
import { defineTool } from './registry.js';

/**
 * Asks the person the agent calls for, mid-call, and waits for their answer (or the timeout). The
 * question reaches the owner on every channel configured; which one answered is not the tool's business.
 */
export const askOwnerTool = defineTool({
  name: 'ask_owner',
  description:
    'Ask the person you are calling for a question you cannot answer from your task, the profile or the documents (a choice, a preference, a yes/no). Before calling it, tell the other person in the same turn that you are checking, e.g. "One moment, let me check with Raju." The answer comes back as the result, usually within a minute: then tell the other person what it is. Ask one short, self-contained question at a time.',
  args: z.object({
    question: z.string().trim().min(1, 'write the question').max(500, 'at most 500 characters').describe('The question, short and self-contained, e.g. "They have no medium spice; is extra spicy OK?"'),
  }),
  async run(ctx, { question }) {
    const r = await ctx.askOwner(question);
    const name = r.ownerName;
    switch (r.status) {
      case 'answered':
        return { output: `${name} answered: "${r.answer}". Tell the other person now, in your own words, and carry on.`, reply: true };
      case 'timeout':
        return {
          output: `${name} has not answered yet. Say "I'll check with ${name} and get back to you" about this, and carry on with the rest of the call without it. Do not guess the answer.`,
          reply: true,
        };
      case 'cancelled':
        return { reply: false };
    }
  },
});
