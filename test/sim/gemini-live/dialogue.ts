/**
 * What the model does: when a turn starts, what ends it, what interrupts it. A server turn (ended by
 * turnComplete) is one scripted turn, or several chained by tool calls. It can be interrupted only while
 * it is being generated: once generationComplete is out the service sends no `interrupted`, even though
 * the client may still be playing that audio; catching that barge-in is the client's job.
 */
import { pitchFor } from './audio.js';
import type { ActivityEvent } from './user-input.js';
import type { GeminiSimSession } from './session.js';
import { TurnRunner, splitWords, type TurnHost } from './turn-runner.js';
import { totals, turnUsage } from './usage.js';
import type { GeminiTurn, InterruptionCause, ToolCallRecord, TurnRecord, TurnTrigger } from './types.js';

/** What the model says once the script has run out: short, so stray turns don't dominate a test's timing. */
export const FALLBACK_TURN: GeminiTurn = { say: 'Okay.' };

export class Dialogue {
  private runner: TurnRunner | null = null;
  /** Between the start of a server turn and its turnComplete. */
  private turnOpen = false;
  /** The scripted turn currently streaming or waiting for its tool response. */
  private currentRecord: TurnRecord | null = null;
  private readonly pendingCalls = new Map<string, ToolCallRecord>();
  /** With NO_INTERRUPTION, a user turn that ends while the model talks is answered after turnComplete. */
  private queued: TurnTrigger | null = null;
  private callCounter = 0;
  constructor(private readonly s: GeminiSimSession) {}

  get speaking(): boolean {
    return this.turnOpen;
  }

  onUserActivity(ev: ActivityEvent): void {
    const conn = this.s.current!;
    if (ev.kind === 'start') {
      this.s.userTurns.push({ connection: conn.index, source: ev.source, startMs: ev.atMs });
      const noInterrupt = conn.setup?.realtimeInputConfig?.activityHandling === 'NO_INTERRUPTION';
      if (this.turnOpen && !noInterrupt) this.interrupt(ev.source === 'vad' ? 'speech' : 'activityStart', ev.atMs);
      return;
    }
    const userTurn = [...this.s.userTurns].reverse().find((t) => t.connection === conn.index && t.endMs === undefined);
    if (!userTurn) {
      this.s.warn(`activity end at ${ev.atMs} ms without a start; ignored`);
      return;
    }
    userTurn.endMs = ev.atMs;
    userTurn.transcript = this.s.nextUserTranscript();
    const transcribesOnly = this.transcribesOnly;
    if (conn.setup?.inputAudioTranscription) this.sendInputTranscription(userTurn.transcript, transcribesOnly || this.s.settings.inputTranscriptionFinished);
    // A transcription model is a speech-recognition pipeline, not an agent: it never answers (README).
    if (!transcribesOnly) this.reply('user');
  }

  /** A Live transcription model (`gemini-3.5-transcribe-live`): words out, no model turns. */
  get transcribesOnly(): boolean {
    return /-transcribe/.test(this.s.current?.setup?.model ?? '');
  }

  /** clientContent and realtimeInput.text: text interrupts whatever is being generated. */
  onText(cause: 'clientContent' | 'text', turnComplete: boolean): void {
    if (this.transcribesOnly) return this.s.warn(`${cause} sent to a transcription model; it does not answer text`, 'transcribe-text');
    if (this.turnOpen) this.interrupt(cause, null);
    if (turnComplete) this.reply(cause);
  }

  /** Returns the ids it did not know, for the caller to reject. */
  onToolResponse(responses: Array<{ id: string; name?: string; response?: Record<string, unknown> }>): string[] {
    const unknown: string[] = [];
    for (const r of responses) {
      const call = this.s.toolCalls.find((c) => c.id === r.id);
      const accepted = call !== undefined;
      this.s.toolResponses.push({ id: r.id, name: r.name, response: r.response, accepted, at: Date.now() });
      if (!call) {
        unknown.push(r.id);
        continue;
      }
      this.s.counters.inputTextChars += JSON.stringify(r.response ?? {}).length;
      if (call.status !== 'pending') {
        this.s.warn(`toolResponse for ${call.status} call ${call.id} ignored`);
        continue;
      }
      call.status = 'answered';
      this.pendingCalls.delete(call.id);
    }
    if (unknown.length === 0 && this.turnOpen && this.pendingCalls.size === 0 && this.currentRecord?.status === 'awaiting_tool') {
      this.currentRecord.status = 'complete';
      // Gemini continues on its own after a tool response; there is no response.create.
      this.startTurn('toolResponse');
    }
    return unknown;
  }

  /** A turn can relay what the latest tool response said (`{{toolOutput}}` in its text). */
  private withToolOutput(text: string): string {
    // `{{clientText}}`: the latest text the client sent as a turn (clientContent), e.g. an instruction to relay.
    if (text.includes('{{clientText}}')) text = text.replaceAll('{{clientText}}', this.s.clientContents.at(-1)?.text ?? '(no client text)');
    if (!text.includes('{{toolOutput}}')) return text;
    const last = [...this.s.toolResponses].reverse().find((r) => r.accepted)?.response;
    const value = last?.output ?? last?.result;
    return text.replaceAll('{{toolOutput}}', typeof value === 'string' ? value : last ? JSON.stringify(last) : '(no tool output)');
  }

  /** The current connection went away, or a resumed one replaced it: nothing more goes out for this turn. */
  onConnectionLost(): void {
    this.runner?.abort();
    this.runner = null;
    for (const call of this.pendingCalls.values()) call.status = 'lost';
    this.pendingCalls.clear();
    this.turnOpen = false;
    this.currentRecord = null;
    this.queued = null;
  }

  private reply(trigger: TurnTrigger): void {
    if (this.turnOpen) {
      this.s.warn(`${trigger} turn ended while the model was talking (NO_INTERRUPTION); replying after turnComplete`);
      this.queued = trigger;
      return;
    }
    this.startTurn(trigger);
  }

  /** The scenario's answer to the latest clientContent text, when one of its `onText` rules matches it. */
  private textRule(): GeminiTurn | undefined {
    const text = (this.s.clientContents.at(-1)?.text ?? '').toLowerCase();
    const rule = this.s.scenario.onText?.find((r) => text.includes(r.match.toLowerCase()));
    return rule && { say: rule.say };
  }

  private startTurn(trigger: TurnTrigger): void {
    const conn = this.s.current!;
    const onText = trigger === 'clientContent' ? this.textRule() : undefined;
    // A turn answering a client instruction (scenario.onText) leaves the script where it was.
    const index = onText ? this.s.turnPointer : this.s.turnPointer++;
    const turn = onText ?? this.s.scenario.turns[index] ?? FALLBACK_TURN;
    const turnNumber = ++this.s.turnsStarted;
    const record: TurnRecord = { index, connection: conn.index, trigger, status: 'speaking', audioMsSent: 0, transcript: '', generationComplete: false };
    this.s.turns.push(record);
    this.turnOpen = true;
    this.currentRecord = record;
    const host: TurnHost = {
      send: (msg) => this.s.send(msg),
      injectFault: (fault) => this.s.injectFault(fault),
      onAudioSent: (ms) => {
        this.s.counters.outputAudioMs += ms;
      },
    };
    const runner = new TurnRunner(host, {
      text: this.withToolOutput(turn.say ?? ''),
      record,
      pacing: this.s.scenario.pacing ?? this.s.settings.pacing,
      deltaMs: this.s.settings.deltaMs,
      msPerChar: this.s.settings.msPerChar,
      transcribe: conn.setup?.outputAudioTranscription !== undefined,
      pitchHz: pitchFor(turnNumber),
      fault: this.s.takeFault(turnNumber),
    });
    this.runner = runner;
    runner
      .run()
      .then((done) => {
        if (done && this.runner === runner) this.afterContent(turn, record);
      })
      .catch((err: unknown) => this.s.warn(`turn ${index} crashed: ${String(err)}`));
  }

  private afterContent(turn: GeminiTurn, record: TurnRecord): void {
    this.runner = null;
    if (turn.call) {
      const id = `call-${this.s.index}-${++this.callCounter}`;
      const call: ToolCallRecord = { id, name: turn.call.name, args: turn.call.args, turnIndex: record.index, status: 'pending' };
      this.s.toolCalls.push(call);
      this.pendingCalls.set(id, call);
      record.callId = id;
      record.status = 'awaiting_tool';
      this.s.send({ toolCall: { functionCalls: [{ id, name: call.name, args: call.args }] } });
      return;
    }
    record.generationComplete = true;
    record.status = 'complete';
    this.s.send({ serverContent: { generationComplete: true } });
    this.completeServerTurn();
  }

  private interrupt(cause: InterruptionCause, atInputMs: number | null): void {
    const record = this.currentRecord!;
    this.runner?.abort();
    this.runner = null;
    record.status = 'interrupted';
    const cancelled = [...this.pendingCalls.keys()];
    this.s.interruptions.push({ turnIndex: record.index, cause, audioMsSent: record.audioMsSent, atInputMs, cancelledCallIds: cancelled });
    this.s.send({ serverContent: { interrupted: true } });
    if (cancelled.length > 0) {
      for (const call of this.pendingCalls.values()) call.status = 'cancelled';
      this.pendingCalls.clear();
      this.s.send({ toolCallCancellation: { ids: cancelled } });
    }
    // An interrupted turn goes interrupted -> turnComplete, with no generationComplete (SDK docs).
    this.completeServerTurn();
  }

  private completeServerTurn(): void {
    const t = totals(this.s.counters);
    const usage = turnUsage(t, this.s.reportedResponseAudio, this.s.scenario.thoughtsTokensPerTurn ?? 0);
    this.s.usageReports.push(usage);
    this.s.send({ serverContent: { turnComplete: true }, usageMetadata: usage });
    this.s.reportedResponseAudio = t.responseAudio;
    this.turnOpen = false;
    this.currentRecord = null;
    this.s.issueHandle();
    const queued = this.queued;
    this.queued = null;
    if (queued) this.startTurn(queued);
  }

  /**
   * Input transcription arrives in pieces (first word, second word, the rest) so a client that keeps only
   * the last fragment, instead of joining them, fails its tests.
   */
  private sendInputTranscription(text: string, markFinished: boolean): void {
    const words = splitWords(text);
    const fragments = words.length <= 2 ? words : [words[0], words[1], words.slice(2).join('')];
    fragments.forEach((fragment, i) => {
      const last = i === fragments.length - 1;
      const t = last && markFinished ? { text: fragment, finished: true } : { text: fragment };
      this.s.send({ serverContent: { inputTranscription: t } });
    });
  }
}
