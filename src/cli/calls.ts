import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CallSummary, CreateCallRequest } from '../client/api-client.js';
import { action, money, paint, table, withConnection, type Context } from './output.js';
import { followCall, renderSummary } from './follow.js';
import { EXIT, UsageError, exitCodeForEnd } from './exit-codes.js';
import { CALL_STATUSES, END_REASONS } from '../calls/state.js';
import { SCHEDULED_CALL_STATUSES, type ScheduledCall } from '../shared/scheduled-call-types.js';
import { parseWhen } from './when.js';
import { ENGINE_NAMES, type EngineName } from '../voice/engine-names.js';

const collectVar = (v: string, acc: Record<string, string> = {}) => {
  const i = v.indexOf('=');
  if (i < 1) throw new InvalidArgumentError('expected name=value');
  return { ...acc, [v.slice(0, i)]: v.slice(i + 1) };
};

/** `--meta key=value`: numbers and true/false are sent as such, so the metadata reads back as given. */
const collectMeta = (v: string, acc: Record<string, string | number | boolean> = {}) => {
  const i = v.indexOf('=');
  if (i < 1) throw new InvalidArgumentError('expected key=value');
  const raw = v.slice(i + 1);
  const value = raw === 'true' ? true : raw === 'false' ? false : /^-?\d+(\.\d+)?$/.test(raw) && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  return { ...acc, [v.slice(0, i)]: value };
};

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number above 0');
  return n;
};

/** `callwright call <to> [instructions]`: place a call and follow it live to its end. */
export function callCommand(): Command {
  return withConnection(new Command('call'))
    .description('Place a call and follow it live: status, both sides\' words, tool calls, then outcome, cost and files. Ctrl-C asks whether to hang up.')
    .argument('<to>', 'the number to call, E.164 (e.g. +14155550123)')
    .argument('[instructions]', 'what the call is for (optional with --runbook: added as notes for this call)')
    .option('-c, --client <id>', 'the client the call is made for (their profile and documents)')
    .option('-r, --runbook <name>', 'follow a runbook (callwright runbooks list)')
    .option('--var <name=value>', 'a runbook variable (repeat for each)', collectVar)
    .addOption(new Option('-e, --engine <engine>', 'the voice engine (default: the server setting)').choices([...ENGINE_NAMES]))
    .option('--dtmf <keys>', 'keys to press once the callee first speaks, e.g. "1w204#" (w = half-second pause)')
    .option('--override-calling-hours <reason>', 'place the call even outside CALLING_HOURS; the reason is recorded on the call')
    .option('--at <when>', 'place it later: 2026-05-04T09:30:00+02:00, "2026-05-04 09:30" (local time) or +10m/+2h/+1d; prints the scheduled call and returns', (v) => parseWhen(v))
    .option('--meta <key=value>', 'your own label for the call, kept and returned with it (repeat for each)', collectMeta)
    .option('--idempotency-key <key>', 'a key of your own: running the same command again with it returns the same call instead of placing another')
    .option('-d, --detach', 'print the call id and return at once instead of following the call')
    .option('-v, --verbose', 'show every timeline event while following')
    .addHelpText('after', '\nExample:\n  callwright call +14155550123 "Order one chicken biryani for pickup at 7" --client raju\n  callwright call +14155550123 --runbook order-food-pickup --var order="one chicken biryani" --client raju')
    .action(
      action(async (ctx, to: string, instructions: string | undefined, o: { client?: string; runbook?: string; var?: Record<string, string>; engine?: EngineName; dtmf?: string; overrideCallingHours?: string; at?: string; meta?: Record<string, string | number | boolean>; idempotencyKey?: string; detach?: boolean; verbose?: boolean }) => {
        const body: CreateCallRequest = {
          to,
          ...(instructions !== undefined ? { instructions } : {}),
          ...(o.client ? { clientId: o.client } : {}),
          ...(o.runbook ? { runbook: o.runbook } : {}),
          ...(o.var ? { variables: o.var } : {}),
          ...(o.engine ? { provider: o.engine } : {}),
          ...(o.dtmf ? { dtmf: o.dtmf } : {}),
          ...(o.overrideCallingHours ? { overrideCallingHours: true, overrideReason: o.overrideCallingHours } : {}),
          ...(o.at ? { scheduledAt: o.at } : {}),
          ...(o.meta ? { metadata: o.meta } : {}),
        };
        const created = await ctx.api.createCall(body, { idempotencyKey: o.idempotencyKey });
        if (created.status === 'scheduled') {
          ctx.print(created, () => `Scheduled call ${created.id} to ${to} at ${localTime(created.scheduledAt!)}\nList: callwright calls scheduled   Cancel: callwright calls cancel ${created.id}`);
          return EXIT.ok;
        }
        if (o.detach) {
          ctx.print(created, () => created.id);
          return created.endReason ? exitCodeForEnd(created.endReason) : EXIT.ok;
        }
        if (!ctx.json) process.stdout.write(paint(1, `Call ${created.id}`) + paint(2, ` to ${to} (Ctrl-C to hang up or stop following)`) + '\n');
        return followToEnd(ctx, created.id, { verbose: o.verbose });
      }),
    );
}

/** Follows a call to its end and prints the summary; the exit code says how it ended. */
async function followToEnd(ctx: Context, id: string, o: { verbose?: boolean }): Promise<number> {
  const { detached } = await followCall(ctx.api, id, { print: !ctx.json, verbose: o.verbose });
  const call = await ctx.api.getCall(id);
  if (detached && call.status !== 'ended') {
    ctx.print({ ...call, detached: true }, () => `\nStopped following; the call goes on. Follow it again: callwright calls show ${id} --follow   Hang up: callwright calls hangup ${id}`);
    return EXIT.interrupted;
  }
  ctx.print(call, () => renderSummary(call, ctx.connection.baseUrl));
  return exitCodeForEnd(call.endReason);
}

export function callsCommand(): Command {
  const calls = new Command('calls').description('List, show, hang up and download calls');

  calls.addCommand(
    withConnection(new Command('list'))
      .description('Calls, newest first')
      .addOption(new Option('--status <status>', 'only calls in this status (live: any before ended)').choices([...CALL_STATUSES, 'live']))
      .addOption(new Option('--end-reason <reason>', 'only calls that ended for this reason').choices(END_REASONS))
      .option('-c, --client <id>', "only this client's calls")
      .option('-q, --query <text>', 'text to find in the number, client or instructions')
      .option('-n, --limit <n>', 'how many (1-100, default 20)', positiveInt)
      .option('--cursor <cursor>', 'the next page (nextCursor of the previous page)')
      .action(
        action(async (ctx, o: { status?: string; endReason?: string; client?: string; query?: string; limit?: number; cursor?: string }) => {
          const r = await ctx.api.listCalls({ status: o.status, endReason: o.endReason, clientId: o.client, q: o.query, limit: o.limit, cursor: o.cursor });
          ctx.print(r, () => {
            if (!r.calls.length) return 'No calls.';
            const rows = r.calls.map((c: CallSummary) => [c.id, c.createdAt.slice(0, 19).replace('T', ' '), c.to, c.clientId, c.status, c.endReason, c.durationSec === null ? '' : `${c.durationSec}s`, c.cost ? money(c.cost.total, c.cost.currency) : '']);
            const out = table(['ID', 'CREATED (UTC)', 'TO', 'CLIENT', 'STATUS', 'END REASON', 'DURATION', 'COST'], rows);
            return r.nextCursor ? `${out}\nMore: callwright calls list --cursor ${r.nextCursor}` : out;
          });
        }),
      ),
  );

  calls.addCommand(
    withConnection(new Command('show'))
      .description('One call: status, transcript, tool calls, outcome, cost')
      .argument('<id>', 'the call id')
      .option('-f, --follow', 'follow the call live until it ends (replays what happened so far)')
      .option('-v, --verbose', 'with --follow: show every timeline event')
      .action(
        action(async (ctx, id: string, o: { follow?: boolean; verbose?: boolean }) => {
          if (o.follow) return followToEnd(ctx, id, o);
          const call = await ctx.api.getCall(id);
          ctx.print(call, () => [
            `${paint(1, `Call ${call.id}`)} to ${call.to}${call.clientName ? ` for ${call.clientName}` : ''} (${call.provider})`,
            `Instructions: ${call.instructions}`,
            ...(call.callingHoursOverride ? [paint(33, `Calling hours overridden: ${(call.callingHoursOverride as { reason?: string }).reason ?? '(no reason given)'}`)] : []),
            ...call.transcript.map((t) => `${paint(2, `[${String(t.offsetSec).padStart(4)}s]`)} ${t.speaker === 'agent' ? 'Agent: ' : 'Callee:'} ${t.interrupted ? `${t.interrupted.heardText} — [cut off]` : t.text}`),
            ...call.toolCalls.map((t) => paint(35, `tool: ${t.name}(${JSON.stringify(t.arguments)})${t.result !== undefined ? ` -> ${t.result}` : ''}`)),
            ...renderSummary(call, ctx.connection.baseUrl),
          ]);
        }),
      ),
  );

  calls.addCommand(
    withConnection(new Command('hangup'))
      .description('Hang up a live call')
      .argument('<id>', 'the call id')
      .action(
        action(async (ctx, id: string) => {
          const r = await ctx.api.hangup(id);
          ctx.print(r, () => `Call ${r.id}: ${r.status}${r.endReason ? ` (${r.endReason})` : ''}`);
        }),
      ),
  );

  calls.addCommand(
    withConnection(new Command('transcript'))
      .description("A call's transcript as plain text")
      .argument('<id>', 'the call id')
      .option('-o, --output <file>', 'write it to this file instead of printing it')
      .action(
        action(async (ctx, id: string, o: { output?: string }) => {
          const text = await ctx.api.transcriptText(id);
          if (o.output) {
            await writeFile(o.output, text);
            ctx.print({ id, file: o.output, bytes: Buffer.byteLength(text) }, () => `Saved ${o.output}`);
          } else if (ctx.json) ctx.print({ id, transcript: text }, () => text);
          else process.stdout.write(text.endsWith('\n') ? text : text + '\n');
        }),
      ),
  );

  calls.addCommand(
    withConnection(new Command('recording'))
      .description("Download a call's recording (MP3)")
      .argument('<id>', 'the call id')
      .option('-o, --output <file>', 'the file to write (default call-<id>.mp3; "-" for stdout)')
      .action(
        action(async (ctx, id: string, o: { output?: string }) => {
          const res = await ctx.api.recording(id);
          const file = o.output ?? `call-${id}.mp3`;
          const body = Readable.fromWeb(res.body! as import('node:stream/web').ReadableStream);
          if (file === '-') {
            if (process.stdout.isTTY) throw new UsageError('refusing to write audio to a terminal; use -o <file>');
            await pipeline(body, process.stdout);
            return;
          }
          await pipeline(body, createWriteStream(file));
          ctx.print({ id, file }, () => `Saved ${file}`);
        }),
      ),
  );

  calls.addCommand(
    withConnection(new Command('scheduled'))
      .description('Scheduled calls still waiting, the next first (--status for the others: placed, missed, refused, ...)')
      .addOption(new Option('--status <status>', 'scheduled calls in this status (default: scheduled)').choices([...SCHEDULED_CALL_STATUSES, 'all']))
      .action(
        action(async (ctx, o: { status?: string }) => {
          const status = o.status === 'all' ? undefined : (o.status ?? 'scheduled');
          const r = await ctx.api.listScheduledCalls({ status });
          ctx.print(r, () => {
            if (!r.scheduledCalls.length) return status === 'scheduled' ? 'No calls are scheduled.' : 'No scheduled calls.';
            const rows = r.scheduledCalls.map((c: ScheduledCall) => [c.id, localTime(c.scheduledAt), c.to, c.clientId, c.status, c.callId ? `call ${c.callId}` : (c.reason ?? firstLine(c.instructions))]);
            return table(['ID', 'AT (LOCAL)', 'TO', 'CLIENT', 'STATUS', 'CALL / REASON / FOR'], rows);
          });
        }),
      ),
  );

  calls.addCommand(
    withConnection(new Command('cancel'))
      .description('Cancel a scheduled call that has not dialled yet')
      .argument('<id>', 'the scheduled call id (callwright calls scheduled)')
      .action(
        action(async (ctx, id: string) => {
          const r = await ctx.api.cancelScheduledCall(id);
          ctx.print(r, () => `Scheduled call ${r.id} to ${r.to} at ${localTime(r.scheduledAt)}: cancelled`);
        }),
      ),
  );

  return calls;
}

/** A time as this machine's local date and time, with its offset, e.g. "2026-05-04 09:30 (+02:00)". */
function localTime(iso: string): string {
  const d = new Date(iso);
  const off = -d.getTimezoneOffset();
  const p = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())} (${off >= 0 ? '+' : '-'}${p(off / 60)}:${p(off % 60)})`;
}

const firstLine = (s: string) => (s.split('\n')[0] ?? '').slice(0, 60);
