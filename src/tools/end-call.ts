import { z } from 'zod';
import { defineTool } from './registry.js';

export const endCallTool = defineTool({
  name: 'end_call',
  description:
    'Hang up the phone. Call this only after you have said a short goodbye in the same turn and the conversation is finished. The line is cut once your goodbye has played.',
  args: z.object({ reason: z.string().max(200).optional().describe('Why the call is ending, in a few words.') }),
  async run(ctx) {
    const outcome = await ctx.hangupAfterPlayout();
    // Hung up, or cancelled by the engine (which expects no result): nothing to tell the model.
    if (outcome !== 'interrupted') return { reply: false };
    return { output: 'The callee interrupted your goodbye, so the call is still connected. Listen to them and respond.', reply: false };
  },
});
