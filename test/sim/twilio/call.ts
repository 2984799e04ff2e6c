/**
 * One outbound call's life: ringing, answer, AMD, recording and the webhooks that report them.
 * TwiML execution is delegated to TwimlRunner. Every way a call can end funnels through end(), so
 * the final webhooks go out exactly once and in Twilio's order: stream stop, completed, recording.
 */
import type { AnsweredBy, CallStatus, CalleeScript, CreateParams, DialRecord, HangupBy, HeardDigit, LogEntry, Mailbox, SimCall, SimStream } from './types.js';
import { AbortedError, newSid, sleep, whenAborted } from './util.js';
import type { WebhookRequest, WebhookResult, WebhookSender } from './webhooks.js';
import { Line, TICK_MS } from './line.js';
import { isMachine, runCallee } from './callee.js';
import { recordingMulaw } from './mp3.js';
import { TwimlRunner, type DocSource, type TwimlHost } from './twiml-runner.js';
import { parseTwiml } from './twiml.js';
import type { Conferences } from './conference.js';
import {
  amdParams,
  callParams,
  recordingParams,
  statusCallbackParams,
  statusEventWanted,
  streamStatusParams,
  type StatusEvent,
} from './callbacks.js';

export interface SimContext {
  baseUrl: string;
  accountSid: string;
  authToken: string;
  webhooks: WebhookSender;
  ringMs: number;
  idleHangupMs: number;
  saveRecording: (rec: StoredRecording) => void;
  /** How long a recording stays `processing` after the call ends, before it is `completed` (README). */
  recordingProcessingMs: number;
  log?: (msg: string) => void;
  /** The account's conference rooms. */
  conferences: Conferences;
  /** Who answers a number this call <Dial>s (the same script source as for created calls). */
  partyScript: (params: CreateParams) => CalleeScript;
}

export interface StoredRecording {
  sid: string;
  callSid: string;
  channels: 1 | 2;
  /** mu-law, callee (left) and agent as played (right), equal lengths. */
  left: Uint8Array;
  right: Uint8Array;
  /** The MP3, encoded once on the first `.mp3` download. */
  mp3?: Promise<Uint8Array>;
  durationSec: number;
  startTime: Date;
  dateCreated: Date;
}

export interface UpdateError {
  status: number;
  code: number;
  message: string;
}

const PRICE_PER_MINUTE = 0.014;

export class CallRunner implements SimCall {
  readonly sid = newSid('CA');
  status: CallStatus = 'queued';
  readonly log: LogEntry[] = [];
  readonly streams: SimStream[] = [];
  agentAudioBytesReceived = 0;

  get firstAgentAudioLineMs(): number | null {
    const t = this.line?.firstAgentPlayTick ?? -1;
    // Tick n plays [(n-1)*20, n*20) ms: its start is when the callee began to hear the agent.
    return t < 0 ? null : (t - 1) * TICK_MS;
  }

  get lastAgentAudioLineMs(): number | null {
    const t = this.line?.lastAgentPlayTick ?? -1;
    return t < 0 ? null : t * TICK_MS;
  }
  readonly done: Promise<void>;
  recordingSid?: string;
  /** The recording's status as the Call Recordings list shows it; undefined while there is none. */
  recordingStatus?: 'in-progress' | 'processing' | 'completed';
  /** How the recording was started: the Recording resource's `source`. */
  recordingSource?: 'OutboundAPI' | 'StartCallRecordingAPI';
  readonly answeredBy: AnsweredBy;
  hangupBy: HangupBy | null = null;
  readonly digitsPlayed: string[] = [];
  readonly dtmfHeard: HeardDigit[] = [];
  readonly dials: DialRecord[] = [];
  private mailboxFrom?: { tick: number; agentTicks: number };

  get mailbox(): Mailbox | null {
    const from = this.mailboxFrom;
    if (!from || !this.line) return null;
    return { recordingFromMs: from.tick * TICK_MS, agentMsOverGreeting: from.agentTicks * TICK_MS, agentMsRecorded: (this.line.agentPlayTicks - from.agentTicks) * TICK_MS };
  }

  readonly dateCreated = new Date();
  dateUpdated = new Date();
  startTime: Date | null = null;
  endTime: Date | null = null;
  durationSec: number | null = null;

  private readonly createdAt = performance.now();
  /** Aborted when the call ends: cancels ringing and AMD waits. */
  private readonly life = new AbortController();
  /** Aborted only when the simulator closes: cancels in-flight webhooks too. */
  private readonly hard = new AbortController();
  private line: Line | null = null;
  private twiml: TwimlRunner | null = null;
  /** A redirect that arrived before the call was answered replaces the initial document. */
  private earlyDoc: DocSource | null = null;
  private statusSeq = 0;
  private statusChain: Promise<unknown> = Promise.resolve();
  private readonly pending = new Set<Promise<unknown>>();
  private calleeStarted = false;
  private resolveDone!: () => void;
  private ended = false;
  private resolveGreeting!: () => void;
  private readonly greetingDone = new Promise<void>((r) => (this.resolveGreeting = r));
  private syncAmdParams: Record<string, string> = {};

  constructor(
    private readonly ctx: SimContext,
    readonly params: CreateParams,
    private readonly script: CalleeScript,
  ) {
    this.answeredBy = script.answeredBy ?? 'human';
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  get accountSid(): string {
    return this.ctx.accountSid;
  }

  get price(): string | null {
    if (this.durationSec === null) return null;
    const minutes = Math.max(1, Math.ceil(this.durationSec / 60));
    return (-(minutes * PRICE_PER_MINUTE)).toFixed(4);
  }

  get amdEnabled(): boolean {
    return !!this.params.MachineDetection;
  }

  private get identity() {
    return { accountSid: this.ctx.accountSid, callSid: this.sid, params: this.params };
  }

  start(): void {
    // Usually after the REST response has gone out; with `createResponseDelayMs` the call goes on while
    // the response is held back, as on Twilio when the API is slow or the callee answers at once.
    setImmediate(() => void this.track(this.run()));
  }

  /** The response to `POST Calls.json` is leaving now (after `delayMs` held back). */
  noteCreateResponse(delayMs: number): void {
    this.addLog('rest-create-response', { delayMs });
  }

  /** REST `POST Calls/{sid}.json`. */
  update(form: URLSearchParams): UpdateError | null {
    const status = form.get('Status');
    const twiml = form.get('Twiml');
    const url = form.get('Url');
    this.addLog('rest-update', { fields: Object.fromEntries(form) });
    if (status === 'completed' || status === 'canceled') {
      if (this.ended) return null;
      if (this.status === 'queued' || this.status === 'ringing') this.end('api', 'canceled');
      // Twilio ignores `canceled` for a call that is already in progress.
      else if (status === 'completed') this.end('api');
      return null;
    }
    if (twiml === null && url === null) return null;
    if (this.ended) return { status: 400, code: 21220, message: 'Call is not in-progress. Cannot redirect.' };
    let doc: DocSource;
    if (twiml !== null) {
      try {
        parseTwiml(twiml);
      } catch (e) {
        return { status: 400, code: 12100, message: `Document parse failure: ${(e as Error).message}` };
      }
      doc = { twiml };
    } else doc = { url: url!, method: form.get('Method') ?? 'POST' };
    if (this.twiml) this.twiml.replace(doc);
    else this.earlyDoc = doc;
    return null;
  }

  /**
   * REST `POST Calls/{sid}/Recordings.json`: starts recording a call in progress (dual channels unless
   * `mono`), reported to RecordingStatusCallback like a recording asked for at dial time.
   */
  startRecording(form: URLSearchParams): UpdateError | { sid: string } {
    this.addLog('rest-recording-create', { fields: Object.fromEntries(form) });
    if (this.ended || this.status !== 'in-progress') return { status: 400, code: 21220, message: 'Call is not in-progress. Cannot create recording.' };
    if (this.recordingSid) return { status: 400, code: 21220, message: 'Requested resource is already being recorded.' };
    const events = form.getAll('RecordingStatusCallbackEvent').flatMap((v) => v.split(/[\s,]+/).filter(Boolean));
    Object.assign(this.params, {
      RecordingChannels: form.get('RecordingChannels') ?? 'mono',
      RecordingStatusCallback: form.get('RecordingStatusCallback') ?? undefined,
      RecordingStatusCallbackMethod: form.get('RecordingStatusCallbackMethod') ?? undefined,
      RecordingStatusCallbackEvent: events,
    });
    this.recordingSid = newSid('RE');
    this.recordingStatus = 'in-progress';
    this.recordingSource = 'StartCallRecordingAPI';
    return { sid: this.recordingSid };
  }

  /** The first TwiML fetch of an inbound call happens while it rings (Twilio sends CallStatus=ringing). */
  private firstFetchStatus(): string {
    if (this.params.Direction === 'inbound' && !this.fetchedOnce) {
      this.fetchedOnce = true;
      return 'ringing';
    }
    return 'in-progress';
  }
  private fetchedOnce = false;

  /** Simulator shutdown: stop everything at once, deliver nothing more. */
  shutdown(): void {
    this.hard.abort();
    this.life.abort();
    this.twiml?.abort()?.destroy();
    this.line?.stop();
    if (!this.ended) {
      this.ended = true;
      this.hangupBy = 'sim-closed';
    }
    this.resolveDone();
  }

  private async run(): Promise<void> {
    try {
      this.statusEvent('initiated');
      this.setStatus('ringing');
      this.statusEvent('ringing');
      // An inbound call rings at our number while Twilio fetches its TwiML: nothing to wait for.
      if (this.params.Direction !== 'inbound') await sleep(this.ctx.ringMs, this.life.signal);
      if (this.script.result) return this.end('not-answered', this.script.result);
      await this.answer();
    } catch (e) {
      if (e instanceof AbortedError) return;
      this.addLog('sim-error', { error: (e as Error).stack ?? String(e) });
      this.end('webhook-failed', 'failed');
    }
  }

  private async answer(): Promise<void> {
    this.setStatus('in-progress');
    this.startTime = new Date();
    const line = new Line((d) => {
      this.dtmfHeard.push({ ...d, recognisedAt: Date.now() });
      this.addLog('dtmf-heard', { digit: d.digit, startMs: d.startMs, endMs: d.endMs });
    });
    this.line = line;
    line.start();
    this.addLog('answered', { answeredBy: this.answeredBy });
    this.statusEvent('answered');
    if (this.params.Record === 'true') {
      this.recordingSid = newSid('RE');
      this.recordingStatus = 'in-progress';
      this.recordingSource = 'OutboundAPI';
      if (this.params.RecordingStatusCallbackEvent.includes('in-progress')) void this.recordingEvent('in-progress');
    }
    const timeLimit = Number(this.params.TimeLimit);
    if (timeLimit > 0) void line.waitMs(timeLimit * 1000).then((ok) => ok && this.end('time-limit'));
    if (this.amdEnabled) {
      if (this.params.AsyncAmd === 'true') {
        void this.amdDecision(line).then((ms) => ms !== null && this.sendAsyncAmd(ms));
      } else {
        // Synchronous AMD holds the TwiML until the decision, so the callee starts talking unheard.
        this.startCallee();
        const ms = await this.amdDecision(line);
        if (ms === null) return;
        this.syncAmdParams = { AnsweredBy: this.answeredBy, MachineDetectionDuration: String(ms) };
      }
    }
    this.twiml = new TwimlRunner(this.twimlHost(line));
    const initial: DocSource =
      this.earlyDoc ??
      (this.params.Twiml ? { twiml: this.params.Twiml } : { url: this.params.Url!, method: this.params.Method ?? 'POST' });
    await this.twiml.run(initial);
  }

  private twimlHost(line: Line): TwimlHost {
    return {
      accountSid: this.ctx.accountSid,
      authToken: this.ctx.authToken,
      callSid: this.sid,
      line,
      mediaFormat: this.script.mediaFormat,
      isEnded: () => this.ended,
      log: (type, fields) => this.addLog(type, fields),
      fetchTwiml: (url, method, extra) =>
        this.webhook({ kind: 'twiml', url, method, params: { ...callParams(this.identity, this.firstFetchStatus()), ...this.syncAmdParams, ...extra } }),
      dialNumber: (to, opts, signal) => this.dialNumber(line, to, opts, signal),
      conferences: this.ctx.conferences,
      end: (by, status) => this.end(by, status),
      startCallee: () => this.startCallee(),
      onStreamCreated: (info) => this.streams.push(info),
      onAgentBytes: (n) => (this.agentAudioBytesReceived += n),
      onDigitsPlayed: (d) => this.digitsPlayed.push(d),
      streamEvent: (spec, streamSid, event, error) => {
        if (!spec.statusCallback) return;
        const params = streamStatusParams(this.identity, streamSid, spec.name, event, error);
        void this.track(this.webhook({ kind: 'stream-status', url: spec.statusCallback, method: spec.statusCallbackMethod, params }));
      },
    };
  }

  /**
   * <Dial>number</Dial>: a child call to a simulated party (the sim's script for that number). It rings
   * for `ringMs` (at most the Dial's timeout); a script `result` (busy, no-answer, failed) is the
   * DialCallStatus; otherwise the party answers and stays on the line for its `idleHangupMs`, unless
   * the parent call hangs up or is given new TwiML first.
   */
  private async dialNumber(line: Line, to: string, opts: { callerId?: string; timeoutSec: number }, signal: AbortSignal): Promise<import('./twiml-runner.js').DialOutcome | 'aborted'> {
    const from = opts.callerId ?? this.params.From;
    const script = this.ctx.partyScript({ To: to, From: from, StatusCallbackEvent: [], RecordingStatusCallbackEvent: [], raw: { To: to, From: from } });
    const rec: DialRecord = { to, callerId: opts.callerId ?? null, childSid: newSid('CA'), status: 'ringing', answeredAtMs: null, endedAtMs: null };
    this.dials.push(rec);
    const at = () => Math.round(performance.now() - this.createdAt);
    try {
      await sleep(Math.min(this.ctx.ringMs, opts.timeoutSec * 1000), signal);
    } catch {
      Object.assign(rec, { status: 'canceled', endedAtMs: at() });
      return 'aborted';
    }
    if (script.result) {
      Object.assign(rec, { status: script.result, endedAtMs: at() });
      return { status: script.result, durationSec: 0 };
    }
    Object.assign(rec, { status: 'in-progress', answeredAtMs: at() });
    line.bridged = true;
    this.addLog('dial-answered', { to, childSid: rec.childSid });
    const t0 = performance.now();
    let aborted = false;
    try {
      await sleep(script.idleHangupMs ?? this.ctx.idleHangupMs, signal);
    } catch {
      aborted = true;
    }
    Object.assign(rec, { status: 'completed', endedAtMs: at() });
    if (aborted) return 'aborted';
    return { status: 'completed', durationSec: Math.round((performance.now() - t0) / 1000), childSid: rec.childSid };
  }

  /** Media time (ms from answer) at which AMD decides; null if the call ended first. */
  private async amdDecision(line: Line): Promise<number | null> {
    const explicit = this.script.amdDelayMs;
    if (explicit === undefined && isMachine(this.script)) {
      // A machine is recognised once its greeting (and beep) is over, like DetectMessageEnd.
      await Promise.race([this.greetingDone, whenAborted(this.life.signal)]);
      return this.ended ? null : line.elapsedMs;
    }
    const ok = await line.waitMs(explicit ?? 600);
    return ok && !this.ended ? line.elapsedMs : null;
  }

  private sendAsyncAmd(ms: number): void {
    this.addLog('amd', { answeredBy: this.answeredBy, durationMs: ms });
    const url = this.params.AsyncAmdStatusCallback;
    if (!url) return;
    const params = amdParams(this.identity, this.answeredBy, ms);
    void this.track(this.webhook({ kind: 'amd', url, method: this.params.AsyncAmdStatusCallbackMethod, params }));
  }

  private startCallee(): void {
    if (this.calleeStarted || !this.line || this.ended) return;
    this.calleeStarted = true;
    this.addLog('callee-started');
    void runCallee(
      this.script,
      {
        line: this.line,
        log: (type, fields) => this.addLog(type, fields),
        hangup: () => this.end('callee'),
        dropSocket: () => void this.twiml?.stream?.drop(),
        sendRaw: (t) => this.twiml?.stream?.sendRaw(t),
        sendDtmf: (d) => this.twiml?.stream?.sendDtmf(d),
        onGreetingDone: () => {
          // A machine with a greeting records from here on (a greetingMs: 0 machine is not a mailbox).
          if (this.line && this.script.greetingMs !== 0) this.mailboxFrom = { tick: this.line.lastCalleeAudioTick, agentTicks: this.line.agentPlayTicksAtLastCalleeAudio };
          this.resolveGreeting();
        },
        onRecording: () => {
          if (this.line) this.mailboxFrom = { tick: this.line.lastCalleeAudioTick, agentTicks: this.line.agentPlayTicksAtLastCalleeAudio };
        },
      },
      this.ctx.idleHangupMs,
    ).catch((e: unknown) => this.addLog('sim-error', { where: 'callee', error: String(e) }));
  }

  /** The single exit: stop media, then the completed callback, then the recording callback. */
  private end(by: HangupBy, status: CallStatus = 'completed'): void {
    if (this.ended) return;
    this.ended = true;
    this.hangupBy = by;
    this.setStatus(status);
    this.endTime = new Date();
    if (this.startTime) this.durationSec = Math.ceil((this.endTime.getTime() - this.startTime.getTime()) / 1000);
    if (this.recordingStatus === 'in-progress') this.recordingStatus = 'processing';
    this.addLog('call-ended', { status, hangupBy: by, durationSec: this.durationSec });
    this.life.abort();
    const stream = this.twiml?.abort() ?? null;
    void this.track(this.finish(stream));
    void this.settle();
  }

  private async finish(stream: { stop(): Promise<void> } | null): Promise<void> {
    if (stream) await stream.stop();
    this.line?.stop();
    this.statusEvent('completed');
    const line = this.line;
    const recorded = line?.takeRecorded();
    if (!this.recordingSid || !line || !recorded) return;
    // Twilio processes a recording for a moment after the call; only then is it `completed`, listed as
    // such and reported (README, "Recording states").
    if (this.ctx.recordingProcessingMs > 0) {
      const closed = await sleep(this.ctx.recordingProcessingMs, this.hard.signal).then(() => false, () => true);
      if (closed) return;
    }
    const { left, right } = recordingMulaw(recorded.left, recorded.right);
    this.ctx.saveRecording({
      sid: this.recordingSid,
      callSid: this.sid,
      channels: this.recordingChannels,
      left,
      right,
      durationSec: Math.round(line.elapsedMs / 1000),
      startTime: line.startedAtDate,
      dateCreated: new Date(),
    });
    this.recordingStatus = 'completed';
    // Twilio reports the recording only after the call's own completion callback.
    await this.statusChain;
    const events = this.params.RecordingStatusCallbackEvent;
    if (events.length === 0 || events.includes('completed')) await this.recordingEvent('completed');
  }

  private get recordingChannels(): 1 | 2 {
    return this.params.RecordingChannels === 'mono' ? 1 : 2;
  }

  private async settle(): Promise<void> {
    // Webhooks may schedule further webhooks, so drain until nothing is left.
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    this.resolveDone();
  }

  private recordingEvent(status: 'in-progress' | 'completed'): Promise<unknown> {
    const url = this.params.RecordingStatusCallback;
    if (!url || !this.recordingSid || !this.line) return Promise.resolve();
    const params = recordingParams(this.identity, {
      sid: this.recordingSid,
      url: `${this.ctx.baseUrl}/2010-04-01/Accounts/${this.ctx.accountSid}/Recordings/${this.recordingSid}`,
      status,
      startTime: this.line.startedAtDate,
      durationSec: Math.round(this.line.elapsedMs / 1000),
      channels: this.recordingChannels,
    });
    return this.track(this.webhook({ kind: 'recording', url, method: this.params.RecordingStatusCallbackMethod, params }));
  }

  private statusEvent(event: StatusEvent): void {
    if (!statusEventWanted(this.params, event)) return;
    const final =
      event === 'completed'
        ? { durationSec: this.durationSec, answeredBy: this.amdEnabled && this.startTime ? this.answeredBy : undefined }
        : undefined;
    const params = statusCallbackParams(this.identity, event, this.status, this.statusSeq++, final);
    const req: WebhookRequest = { kind: 'status', url: this.params.StatusCallback!, method: this.params.StatusCallbackMethod, params };
    // Callbacks of one call are delivered in order, so the product never sees "completed" before "ringing".
    this.statusChain = this.statusChain.then(() => this.webhook(req, event));
    void this.track(this.statusChain);
  }

  private async webhook(req: WebhookRequest, event?: string): Promise<WebhookResult | null> {
    try {
      return await this.ctx.webhooks.send(req, this.hard.signal, (a) =>
        this.addLog('webhook', { ...a, ...(event ? { event } : {}) }),
      );
    } catch (e) {
      if (!(e instanceof AbortedError)) this.addLog('sim-error', { where: 'webhook', error: String(e) });
      return null;
    }
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p)).catch(() => undefined);
    return p;
  }

  private setStatus(s: CallStatus): void {
    this.status = s;
    this.dateUpdated = new Date();
  }

  private addLog(type: string, fields: Record<string, unknown> = {}): void {
    const entry: LogEntry = { atMs: Math.round(performance.now() - this.createdAt), type, ...fields };
    this.log.push(entry);
    this.ctx.log?.(`[twilio-sim ${this.sid.slice(0, 8)}] +${entry.atMs}ms ${type} ${compact(fields)}`);
  }
}

function compact(fields: Record<string, unknown>): string {
  const s = JSON.stringify(fields);
  return s.length > 300 ? s.slice(0, 300) + '…' : s;
}
