import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { action, table, withConnection } from './output.js';

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
  return clients;
}
