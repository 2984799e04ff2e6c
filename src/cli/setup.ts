import { Command } from 'commander';
import { action, withConnection } from './output.js';

/** `callwright setup twilio`: POST /api/setup/twilio (the server points its number at itself). */
export function setupCommand(): Command {
  const setup = new Command('setup').description('Configure the phone number on the carrier');
  setup.addCommand(
    withConnection(new Command('twilio'))
      .description("Point TWILIO_FROM_NUMBER's voice webhook (and status callback) at the server's PUBLIC_URL, so calls to the number reach it (answered per INBOUND, see docs/inbound.md)")
      .action(
        action(async (ctx) => {
          const r = await ctx.api.setupTwilio();
          ctx.print(r, () => [`${r.number}: calls now go to ${r.voiceUrl} (${r.voiceMethod})`, `status callback: ${r.statusCallback ?? 'none'}`, `INBOUND=${r.inbound}${r.inbound === 'off' ? ' (callers hear a polite goodbye; set INBOUND=assistant to answer them)' : ''}`]);
        }),
      ),
  );
  return setup;
}
