import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CallRow } from '../store/calls-repo.js';
import { renderTranscriptText } from '../records/transcript.js';
import { recordFolders, storedName, writeRecordFile } from '../records/record-files.js';
import type { EndReason } from './state.js';
import { CallRequestError } from './call-request.js';
import type { CallRuntime } from './call-runtime.js';
import type { AfterCallRecords } from './after-call-records.js';

/** Ending a call, once, whoever asks: the user, the agent, the carrier, a limit, a failure. */
export class CallEnding {
  private transcriptsDir: Promise<unknown> | undefined;

  constructor(private readonly rt: CallRuntime, private readonly records: AfterCallRecords) {}

  /** User-requested hang-up. */
  async hangup(callId: string): Promise<CallRow> {
    const { d } = this.rt;
    const call = await d.calls.get(callId);
    if (!call) throw new CallRequestError(404, undefined, 'call not found');
    if (call.status === 'ended' || this.rt.ending.has(callId)) throw new CallRequestError(409, undefined, `call has already ended (${call.endReason ?? 'ending'})`);
    await this.end(callId, 'user-hangup');
    return (await d.calls.get(callId))!;
  }

  /**
   * Ends a call, once: silence the session at once, hang up at the carrier (unless the carrier already
   * ended it), stop the session, write the records. Every later cause joins the first end, so the reason
   * recorded is whoever ended the call first. Never rejects.
   */
  end(callId: string, reason: EndReason, opts: { detail?: string; hangup?: boolean } = {}): Promise<void> {
    const pending = this.rt.ending.get(callId);
    if (pending) return pending;
    // A live call's row is in memory: its end starts at once. Another's (restart recovery, a late callback) is read first.
    const kept = this.rt.d.calls.kept(callId);
    if (kept?.status === 'ended') return Promise.resolve();
    const live = this.rt.live.get(callId);
    live?.session.beginEnd();
    const run = async () => {
      const call = kept ?? (await this.rt.d.calls.get(callId));
      if (!call || call.status === 'ended') return;
      await this.runEnd(callId, reason, opts.detail, opts.hangup ?? true);
    };
    const p = run().catch((err) => {
      this.rt.d.log.error({ event: 'call.endFailed', callId, err: (err as Error).message }, 'ending the call failed');
    });
    this.rt.ending.set(callId, p);
    void p.finally(() => {
      this.rt.ending.delete(callId);
      this.records.dropEarly(callId);
    });
    return p;
  }

  private async runEnd(callId: string, reason: EndReason, detail: string | undefined, hangup: boolean): Promise<void> {
    const { d } = this.rt;
    this.rt.record(callId, 'end.requested', { reason, ...(detail ? { detail } : {}) });
    const live = this.rt.live.get(callId);
    if (live) {
      clearTimeout(live.maxTimer);
      clearTimeout(live.streamTimer);
      clearInterval(live.costTimer);
    }
    // The cost for the log's "call ended" line: usage and carrier minutes so far (the carrier's own price comes later).
    const atEnd = await d.calls.get(callId);
    const costUsd = Math.round(this.rt.ledger.cost(callId, atEnd?.answeredAt ?? null, Date.now()) * 1e4) / 1e4;
    this.rt.ledger.forget(callId);
    const carrierCallId = atEnd?.carrierCallId;
    if (hangup && carrierCallId && d.carrier) {
      try {
        await d.carrier.hangup(carrierCallId);
      } catch (err) {
        this.rt.record(callId, 'error', { source: d.carrier.name, fatal: false, code: 'hangup_failed', message: (err as Error).message });
      }
    }
    if (live) {
      this.rt.live.delete(callId);
      await live.session.shutdown();
    }
    for (const listener of this.rt.endListeners) listener(callId);
    const before = (await d.calls.get(callId))!;
    d.calls.update(callId, { status: 'ended', endReason: reason, endedAt: new Date().toISOString(), ...(detail && !before.error ? { error: detail } : {}) });
    this.rt.record(callId, 'status', { status: 'ended', reason });
    const transcriptText = await this.writeTranscript(callId);
    const ended = await d.calls.get(callId);
    const durationSec = ended?.answeredAt && ended.endedAt ? Math.round((Date.parse(ended.endedAt) - Date.parse(ended.answeredAt)) / 1000) : 0;
    d.log.info({ event: 'call.ended', callId, reason, durationSec, costUsd }, 'call ended');
    this.records.startSettling(callId, transcriptText);
  }

  /** Writes TRANSCRIPTS_DIR/<id>.txt (default DATA_DIR/transcripts); returns the text written (undefined when the write failed). */
  async writeTranscript(callId: string): Promise<string | undefined> {
    const { d } = this.rt;
    try {
      const dir = recordFolders(d.settings).transcripts;
      // Once per process, not once per call (each was a syscall and a promise at every call's end); if
      // the folder is removed meanwhile, the failed write below makes the next call create it again.
      this.transcriptsDir ??= mkdir(dir, { recursive: true, mode: 0o700 });
      await this.transcriptsDir;
      const path = join(dir, `${callId}.txt`);
      const call = (await d.calls.get(callId))!;
      const text = renderTranscriptText(call, await d.timeline.list(callId), call.clientName ?? undefined);
      await writeRecordFile(path, text);
      d.calls.update(callId, { transcriptPath: storedName(path) });
      return text;
    } catch (err) {
      this.transcriptsDir = undefined;
      this.rt.record(callId, 'error', { source: 'records', fatal: false, code: 'transcript_write_failed', message: (err as Error).message });
      return undefined;
    }
  }
}
