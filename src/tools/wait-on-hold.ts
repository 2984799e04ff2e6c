import { z } from 'zod';
import { defineTool } from './registry.js';

/**
 * The model says the call has been put on hold (in words the bridge's own phrase list does not know, or
 * hold music it recognised first). The call goes on hold (docs/hold.md): the model hears only speech,
 * says nothing, and is asked to speak again when a person is back.
 */
export const waitOnHoldTool = defineTool({
  name: 'wait_on_hold',
  description:
    'Call this when the other side puts you on hold: they ask you to hold or wait a moment, or hold music or recorded announcements start. Then say nothing. You will be told to speak again when a person comes back on the line.',
  args: z.object({}),
  async run(ctx) {
    if (!ctx.waitOnHold) return { output: 'Holding is not available on this call.', reply: false };
    ctx.waitOnHold();
    return { output: 'You are on hold. Say nothing, not even to recorded announcements; you will be asked to speak when a person is back.', reply: false };
  },
});
