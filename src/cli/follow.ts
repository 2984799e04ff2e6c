import { createInterface } from 'node:readline';
import type { ApiClient, CallDetail } from '../client/api-client.js';
import { renderEvent, type ViewLine } from './render-event.js';
import { money, paint } from './output.js';

const COLORS: Record<ViewLine['kind'], number> = { status: 36, callee: 33, agent: 32, tool: 35, warn: 31, info: 2 };

export interface FollowResult {
  /** True when the user chose to stop following (Ctrl-C, then no hang-up): the call goes on. */
  detached: boolean;
}

/**
 * After the call ends, the stream stays open until the recording and the carrier's price are in, which
 * can take the carrier minutes: the view waits this long for them, then shows the summary (the API
 * has both later).
 */
const RECORDS_WAIT_MS = 10_000;

/**
 * Follows a call's timeline live (`GET /api/calls/:id/events`) until the server ends the stream.
 * With `print`, each event worth seeing is written as a line (with --json nothing is: the result comes
 * at the end). Ctrl-C asks whether to hang up: yes hangs up and keeps following to the end; no keeps
 * following; a second Ctrl-C, or no answer to read (stdin closed), stops following and leaves the call.
 */
export async function followCall(api: ApiClient, id: string, o: { print: boolean; verbose?: boolean }): Promise<FollowResult> {
  const stop = new AbortController();
  let recordsTimer: NodeJS.Timeout | undefined;
  let detached = false;
  let t0: number | undefined;

  let question: ReturnType<typeof askHangUp> | undefined;
  let asked = false;
  const onSigint = () => {
    // A second Ctrl-C while the question is open (readline not in terminal mode) answers "detach".
    if (question) return question.cancel();
    asked = true;
    question = askHangUp();
    void question.answer.then(async (answer) => {
      question = undefined;
      if (answer === 'yes') {
        process.stderr.write('Hanging up…\n');
        try {
          await api.hangup(id);
        } catch (err) {
          process.stderr.write(`Could not hang up: ${(err as Error).message}\n`);
        }
      } else if (answer === 'detach') {
        detached = true;
        stop.abort();
      }
    });
  };
  process.on('SIGINT', onSigint);
  try {
    for await (const ev of api.events(id, { signal: stop.signal })) {
      if (ev.type === 'status' && ev.data?.status === 'ended') recordsTimer ??= setTimeout(() => stop.abort(), RECORDS_WAIT_MS);
      if (!o.print) continue;
      const line = renderEvent(ev, o.verbose);
      if (!line) continue;
      const at = Date.parse(ev.at);
      t0 ??= at;
      const stamp = paint(2, `[${((at - t0) / 1000).toFixed(1).padStart(5)}s]`);
      process.stdout.write(`${stamp} ${paint(COLORS[line.kind], line.text)}\n`);
    }
  } catch (err) {
    if (!stop.signal.aborted) throw err;
  } finally {
    clearTimeout(recordsTimer);
    process.off('SIGINT', onSigint);
    question?.cancel();
    // Once read, stdin would keep the process alive after the call: nothing more is asked.
    if (asked) process.stdin.destroy();
  }
  return { detached };
}

/** Asks on the terminal; an empty answer keeps following, a closed stdin means nobody can answer. */
function askHangUp(): { answer: Promise<'yes' | 'no' | 'detach'>; cancel(): void } {
  let cancel = () => {};
  const answer = new Promise<'yes' | 'no' | 'detach'>((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: Boolean(process.stdin.isTTY) });
    let done = false;
    const finish = (a: 'yes' | 'no' | 'detach') => {
      if (done) return;
      done = true;
      rl.close();
      resolve(a);
    };
    cancel = () => finish('detach');
    rl.on('close', () => finish('detach'));
    // readline takes over SIGINT while it is open: a second Ctrl-C stops following.
    rl.on('SIGINT', () => finish('detach'));
    rl.question('\nHang up the call? [y]es / [N]o, keep following (Ctrl-C again: stop following, the call goes on) ', (a) => finish(/^y(es)?$/i.test(a.trim()) ? 'yes' : 'no'));
  });
  return { answer, cancel: () => cancel() };
}

/** The end of a call, for the terminal: how it ended, its outcome when there is one, cost, files. */
export function renderSummary(call: CallDetail, baseUrl: string): string[] {
  const lines = ['', paint(1, `Call ${call.id}: ${call.status}${call.endReason ? ` (${call.endReason})` : ''}`)];
  if (call.error) lines.push(`  error: ${call.error}`);
  if (call.durationSec !== null) lines.push(`  duration: ${call.durationSec} s${call.answeredBy ? `, answered by ${call.answeredBy}` : ''}`);
  if (call.metadata && Object.keys(call.metadata).length) lines.push(`  metadata: ${Object.entries(call.metadata).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`);
  if (call.outcome !== undefined && call.outcome !== null) lines.push(paint(1, 'Outcome'), ...renderOutcome(call.outcome));
  const estimate = call.cost.lines.some((l) => l.source === 'estimate') ? ', the carrier line an estimate until its price is in' : '';
  lines.push(paint(1, `Cost ${money(call.cost.total, call.cost.currency)}`) + paint(2, ` (price table ${call.cost.priceTable}${estimate})`));
  const width = Math.max(0, ...call.cost.lines.map((l) => l.item.length));
  for (const l of call.cost.lines) lines.push(`  ${l.item.padEnd(width)} ${String(l.quantity).padStart(8)} ${l.unit.padEnd(8)} ${money(l.amount, call.cost.currency)}`);
  if (call.cost.unpriced.length) lines.push(`  unpriced: ${call.cost.unpriced.join(', ')}`);
  lines.push(paint(1, 'Files'));
  lines.push(`  transcript: callwright calls transcript ${call.id}   (${baseUrl}${call.transcriptUrl})`);
  lines.push(call.recording ? `  recording:  callwright calls recording ${call.id} -o call.mp3   (${baseUrl}${call.recording.url})` : `  recording:  none${call.status === 'ended' ? ' (yet)' : ''}`);
  return lines;
}

function renderOutcome(outcome: unknown): string[] {
  if (typeof outcome !== 'object' || outcome === null) return [`  ${String(outcome)}`];
  return Object.entries(outcome as Record<string, unknown>).map(([k, v]) => `  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
}
