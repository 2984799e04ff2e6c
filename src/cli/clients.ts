import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { action, table, withConnection } from './output.js';
import { EXIT, UsageError } from './exit-codes.js';

export function clientsCommand(): Command {
  const clients = new Command('clients').description('The people calls are made for (folders under CLIENTS_DIR)');

  clients.addCommand(
    withConnection(new Command('list'))
      .description('Clients, with how many documents each has')
      .action(
        action(async (ctx) => {
          const r = await ctx.api.listClients();
          ctx.print(r, () => (r.clients.length ? table(['ID', 'NAME', 'DOCUMENTS', 'CHUNKS'], r.clients.map((c) => [c.id, c.name, c.documents, c.chunks])) : 'No clients yet: callwright clients create "Full Name"'));
        }),
      ),
  );

  clients.addCommand(
    withConnection(new Command('create'))
      .description('Create a client (a folder with a profile.txt)')
      .argument('<name>', 'the full name the agent uses ("calling on behalf of ...")')
      .option('--id <id>', 'the client id (default: made from the name)')
      .option('--profile <file>', 'a text file of what the agent may use: phone, address, preferences (no "Full Name:" line)')
      .option('--system-prompt <file>', 'a prompt template replacing the built-in one ({{name}}, {{profile}}, {{instructions}})')
      .addHelpText('after', '\nExample:\n  callwright clients create "Raju Kumar" --id raju --profile raju.txt')
      .action(
        action(async (ctx, name: string, o: { id?: string; profile?: string; systemPrompt?: string }) => {
          const r = await ctx.api.createClient({
            name,
            ...(o.id ? { id: o.id } : {}),
            ...(o.profile ? { profile: await readFile(o.profile, 'utf8') } : {}),
            ...(o.systemPrompt ? { systemPrompt: await readFile(o.systemPrompt, 'utf8') } : {}),
          });
          ctx.print(r, () => `Created client ${r.id} (${r.name})`);
        }),
      ),
  );
  clients.addCommand(
    withConnection(new Command('show'))
      .description("A client's name, profile and system-prompt override")
      .argument('<id>', 'the client id')
      .action(
        action(async (ctx, id: string) => {
          const c = await ctx.api.getClient(id);
          ctx.print(c, () => [
            `${c.name} (${c.id}) · ${c.documents} document${c.documents === 1 ? '' : 's'}`,
            '',
            'Profile:',
            c.profile || '(empty)',
            '',
            'System prompt:',
            c.systemPrompt || '(the built-in template)',
          ]);
        }),
      ),
  );

  clients.addCommand(
    withConnection(new Command('rename'))
      .description('Change the name the agent uses for a client (the id stays; past calls keep their name)')
      .argument('<id>', 'the client id')
      .argument('<name>', 'the new full name')
      .action(
        action(async (ctx, id: string, name: string) => {
          const c = await ctx.api.updateClient(id, { name });
          ctx.print(c, () => `Renamed ${c.id} to ${c.name}`);
        }),
      ),
  );

  clients.addCommand(
    withConnection(new Command('delete'))
      .description('Delete a client with its profile and every document (their calls keep their records)')
      .argument('<id>', 'the client id')
      .option('-y, --yes', 'do not ask for confirmation (needed when not at a terminal)')
      .action(
        action(async (ctx, id: string, o: { yes?: boolean }) => {
          if (!o.yes) {
            if (!process.stdin.isTTY) throw new UsageError(`deleting client "${id}" needs confirmation: add --yes`);
            const c = await ctx.api.getClient(id);
            const rl = createInterface({ input: process.stdin, output: process.stderr });
            const answer = await rl.question(`Delete ${c.name} (${c.id}) and ${c.documents} document${c.documents === 1 ? '' : 's'}? Calls keep their records. [y/N] `).finally(() => rl.close());
            if (!/^y(es)?$/i.test(answer.trim())) {
              process.stderr.write('Not deleted.\n');
              return EXIT.failed;
            }
          }
          const r = await ctx.api.deleteClient(id);
          ctx.print(r, () => `Deleted client ${r.id} and ${r.documents} document${r.documents === 1 ? '' : 's'}`);
        }),
      ),
  );
  return clients;
}
