import { readFileSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { action, paint, table, withConnection, type Context } from './output.js';
import { UsageError } from './exit-codes.js';
import type { CampaignView, NumberView } from '../campaigns/campaign-service.js';

const seg = encodeURIComponent;
const get = async <T>(ctx: Context, method: string, path: string, body?: unknown): Promise<T> => (await ctx.api.send(method, path, body === undefined ? {} : { body })).json() as Promise<T>;

/** One line of progress: "12/40 done (9 answered, 2 busy, 1 voicemail), 2 on a call, 26 waiting". */
export function progressLine(c: Pick<CampaignView, 'progress'>): string {
  const { total, pending, inFlight, done, ...outcomes } = c.progress;
  const parts = Object.entries(outcomes).map(([k, v]) => `${v} ${k}`);
  return `${done}/${total} done${parts.length ? ` (${parts.join(', ')})` : ''}, ${inFlight} on a call, ${pending} waiting`;
}

const summary = (c: CampaignView) => [`${paint(1, c.name)}  ${c.id}`, `  ${c.status}: ${progressLine(c)}`];

function readFile(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${flag}: cannot read ${path}: ${(err as Error).message}`);
  }
}

const int = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`${flag}: "${v}" is not a number`);
  return n;
};

/** `callwright campaigns …`: many numbers, one plan (docs/campaigns.md). Each command is one API request. */
export function campaignsCommand(): Command {
  const campaigns = new Command('campaigns').description('Campaigns: one runbook or instructions, many numbers (docs/campaigns.md)');

  campaigns.addCommand(
    withConnection(new Command('create'))
      .description('Start a campaign from a CSV (a `to` or `phone` column, optional `timezone`; other columns are variables) or a JSON list of {to, variables}')
      .requiredOption('--name <name>', 'what the campaign is for')
      .option('--csv <file>', 'the numbers as CSV')
      .option('--numbers <file>', 'the numbers as JSON: [{"to": "+1…", "variables": {…}}]')
      .option('--runbook <name>', 'the runbook each call follows (its variables from the columns)')
      .option('--instructions <text>', 'instructions, with {{column}} placeholders (with --runbook: notes added to it)')
      .option('--client <id>', 'the client each call is made for')
      .option('--concurrency <n>', 'calls at once (default 2)', int('--concurrency'))
      .option('--calling-hours <HH:MM-HH:MM>', "dial only inside this window of the callee's local time")
      .option('--timezone <zone>', "the time zone for numbers whose zone the number does not tell (e.g. Europe/Berlin)")
      .option('--retries-busy <n>', 'tries after a busy line (default 2)', int('--retries-busy'))
      .option('--retries-no-answer <n>', 'tries after no answer (default 2)', int('--retries-no-answer'))
      .option('--backoff <seconds>', 'wait before the first retry (default 900); each later one waits --backoff-factor times longer', int('--backoff'))
      .option('--backoff-factor <x>', 'growth of the wait between retries (default 2)', int('--backoff-factor'))
      .addOption(new Option('--voicemail <action>', 'if a machine answers').choices(['hangup', 'leave-message']))
      .option('--voicemail-message <text>', 'with --voicemail leave-message: the message, word for word')
      .action(
        action(async (ctx, o: Record<string, string | number | undefined>) => {
          if (!o.csv === !o.numbers) throw new UsageError('give the numbers with --csv <file> or --numbers <file> (one of them)');
          let numbers: unknown;
          if (o.numbers) {
            try {
              numbers = JSON.parse(readFile(String(o.numbers), '--numbers'));
            } catch (err) {
              if (err instanceof UsageError) throw err;
              throw new UsageError(`--numbers: ${o.numbers} is not JSON: ${(err as Error).message}`);
            }
          }
          const retries = Object.fromEntries(
            Object.entries({ busy: o.retriesBusy, noAnswer: o.retriesNoAnswer, backoffSeconds: o.backoff, backoffFactor: o.backoffFactor }).filter(([, v]) => v !== undefined),
          );
          const body = {
            name: o.name,
            runbook: o.runbook,
            instructions: o.instructions,
            clientId: o.client,
            concurrency: o.concurrency,
            callingHours: o.callingHours,
            timezone: o.timezone,
            ...(Object.keys(retries).length ? { retries } : {}),
            ...(o.voicemail ? { voicemail: { action: o.voicemail, ...(o.voicemailMessage ? { message: o.voicemailMessage } : {}) } } : {}),
            ...(o.csv ? { csv: readFile(String(o.csv), '--csv') } : { numbers }),
          };
          const c = await get<CampaignView>(ctx, 'POST', '/api/campaigns', body);
          ctx.print(c, () => [`Campaign ${c.id} started: ${c.total} numbers, ${c.concurrency} at a time`, `  follow: callwright campaigns show ${c.id}`]);
        }),
      ),
  );

  campaigns.addCommand(
    withConnection(new Command('list'))
      .description('Campaigns, newest first, with their progress')
      .action(
        action(async (ctx) => {
          const r = await get<{ campaigns: CampaignView[] }>(ctx, 'GET', '/api/campaigns');
          ctx.print(r, () => (r.campaigns.length ? table(['ID', 'NAME', 'STATUS', 'PROGRESS'], r.campaigns.map((c) => [c.id, c.name, c.status, progressLine(c)])) : 'No campaigns.'));
        }),
      ),
  );

  campaigns.addCommand(
    withConnection(new Command('show'))
      .argument('<id>', 'campaign id')
      .description('A campaign: its progress and every number with its outcome')
      .action(
        action(async (ctx, id: string) => {
          const c = await get<CampaignView & { numbers: NumberView[] }>(ctx, 'GET', `/api/campaigns/${seg(id)}`);
          ctx.print(c, () => [...summary(c), '', table(['#', 'TO', 'STATE', 'OUTCOME', 'TRIES', 'DETAIL'], c.numbers.map((n) => [n.index, n.to, n.state, n.outcome, n.attempts, n.detail]))]);
        }),
      ),
  );

  for (const [verb, what] of [
    ['pause', 'Pause: no new number is dialled; calls in progress finish'],
    ['resume', 'Resume a paused campaign'],
    ['cancel', 'Cancel: numbers not dialled yet are cancelled; calls in progress finish'],
  ] as const) {
    campaigns.addCommand(
      withConnection(new Command(verb))
        .argument('<id>', 'campaign id')
        .description(what)
        .action(
          action(async (ctx, id: string) => {
            const c = await get<CampaignView>(ctx, 'POST', `/api/campaigns/${seg(id)}/${verb}`);
            ctx.print(c, () => summary(c));
          }),
        ),
    );
  }

  campaigns.addCommand(
    withConnection(new Command('export'))
      .argument('<id>', 'campaign id')
      .option('-o, --out <file>', 'write the CSV here (default: print it)')
      .description('Every number with its outcome, as CSV')
      .action(
        action(async (ctx, id: string, o: { out?: string }) => {
          const csv = await (await ctx.api.send('GET', `/api/campaigns/${seg(id)}/results.csv`)).text();
          if (o.out) {
            writeFileSync(o.out, csv);
            process.stderr.write(`Wrote ${o.out}\n`);
          } else process.stdout.write(csv);
        }),
      ),
  );
  return campaigns;
}
