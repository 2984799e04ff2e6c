/**
 * The `callwright` command (bin/callwright.js runs this). A thin client of the REST API: every command
 * is one or two API requests (src/client/api-client.ts), so it refuses and allows exactly what the API
 * does. Settings come from flags, the environment and ./.env, as the server's do.
 */
import { config } from 'dotenv';
import { Command, CommanderError } from 'commander';
import { callCommand, callsCommand } from './calls.js';
import { clientsCommand } from './clients.js';
import { campaignsCommand } from './campaigns.js';
import { docsCommand } from './docs.js';
import { modelsCommand } from './models.js';
import { runbooksCommand } from './runbooks.js';
import { setupCommand } from './setup.js';
import { CLI_VERSION, mcpCommand, serveCommand } from './server-commands.js';
import { EXIT } from './exit-codes.js';

config({ quiet: true });

export function buildProgram(): Command {
  const program = new Command('callwright')
    .description('Callwright: an AI agent that makes phone calls on your behalf. Talks to a Callwright server (`callwright serve`).')
    .version(CLI_VERSION)
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', '\nExit codes: 0 ok, 1 failed, 2 bad input, 3 refused by the dial policy or a cap, 4 bad token, 5 not found,\n6 server unreachable, 7 call not reached (no answer, busy, voicemail), 8 call failed, 130 stopped following (Ctrl-C).');
  for (const cmd of [callCommand(), callsCommand(), campaignsCommand(), clientsCommand(), docsCommand(), modelsCommand(), runbooksCommand(), setupCommand(), serveCommand(), mcpCommand()]) program.addCommand(cmd);
  // Every command, nested ones too: usage errors exit 2 (commander's default is 1, which means "failed" here).
  const override = (c: Command) => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  override(program);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    process.stderr.write(`callwright: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = EXIT.failed;
  }
}
