import { z } from 'zod';
import { defineTool } from './registry.js';

/**
 * Asks the person the agent calls for, mid-call, and waits for their answer (or the timeout). The
 * question reaches the owner on every channel configured; which one answered is not the tool's business.
 */
export const askOwnerTool = defineTool({
  name: 'ask_owner',
  description:
    'Ask the person you are calling for a question you cannot answer from your task, the profile or the documents (a choice, a preference, a yes/no). Before calling it, tell the other person in the same turn that you are checking, e.g. "One moment, let me check with Raju." The answer comes back as the result, usually within a minute (or, when the result says the question has gone out, as a message shortly after): then tell the other person what it is. Ask one short, self-contained question at a time.',
  args: z.object({
    question: z.string().trim().min(1, 'write the question').max(500, 'at most 500 characters').describe('The question, short and self-contained, e.g. "They have no medium spice; is extra spicy OK?"'),
  }),
  async run(ctx, { question }) {
    const r = await ctx.askOwner(question);
    const name = r.ownerName;
    switch (r.status) {
      case 'answered':
        return { output: ownerAnswered(name, r.answer), reply: true };
      case 'timeout':
        return { output: ownerTimedOut(name), reply: true };
      case 'asked':
        return { output: ownerAsked(name), reply: true };
      case 'cancelled':
        return { reply: false };
    }
  },
});

/** The owner's answer, as the model is told it (a tool result, or a text turn after `ownerAsked`). */
export function ownerAnswered(name: string, answer: string): string {
  return `${name} answered: "${answer}". Tell the other person now, in your own words, and carry on.`;
}

/** No answer in time: the agent defers. */
export function ownerTimedOut(name: string): string {
  return `${name} has not answered yet. Say "I'll check with ${name} and get back to you" about this, and carry on with the rest of the call without it. Do not guess the answer.`;
}

/** The tool call is answered at once; the answer follows as a message (engines that hold with text turns). */
export function ownerAsked(name: string): string {
  return `The question has gone to ${name}; their answer will come to you as a message shortly. If you have not told the other person yet that you are checking with ${name}, tell them now in one short sentence; then wait for the answer and do not guess it.`;
}
