import { z } from 'zod';
import { DTMF_MAX_LENGTH, DTMF_SEQUENCE_RE, describeDtmf } from '../media/dtmf.js';
import { defineTool } from './registry.js';

/**
 * Presses phone keys on the current call, for phone menus (IVRs) and extensions. Only tones on this
 * call: it cannot dial, transfer or reach any other number.
 */
export const sendDtmfTool = defineTool({
  name: 'send_dtmf',
  description:
    'Press keys on the phone keypad during this call, to answer an automated phone menu or enter an extension. Listen to the whole menu before you choose. Say nothing to the menu: just press. Digits 0-9, * and #; "w" waits half a second between keys (e.g. "1w2"). You will get the result once the tones have played.',
  args: z.object({
    digits: z
      .string()
      .min(1, 'give at least one key')
      .max(DTMF_MAX_LENGTH, `at most ${DTMF_MAX_LENGTH} keys`)
      .regex(DTMF_SEQUENCE_RE, 'use only 0-9, *, #, A-D and w (a half-second pause)')
      .describe('The keys to press in order, e.g. "1", "2#", "1w2" (w = half-second pause).'),
  }),
  async run(ctx, { digits }) {
    const r = await ctx.sendDtmf(digits);
    switch (r.status) {
      case 'played':
        return { output: `Pressed ${describeDtmf(digits)}. Listen to what the menu says next; say nothing to it.`, reply: false };
      case 'unconfirmed':
        return { output: `Sent ${describeDtmf(digits)}, but the phone line did not confirm it played. Listen to what comes next.`, reply: false };
      case 'interrupted':
        return {
          output: r.pressed
            ? `Only ${describeDtmf(r.pressed)} was pressed: the rest was cut off because the other side spoke. Listen, then press again if needed.`
            : 'Nothing was pressed: the tones were cut off because the other side spoke. Listen, then press again if needed.',
          reply: false,
        };
      case 'no-stream':
        return { output: 'Nothing was pressed: the call has no audio connection right now.', reply: true };
      case 'failed':
        return { output: 'Nothing was pressed: the phone company refused to play the keys. Try once more, or carry on without them.', reply: true };
      case 'refused':
        return { output: r.why ?? 'Nothing was pressed.', reply: false };
      case 'cancelled':
        return { reply: false };
    }
  },
});
