/**
 * One accepted WebSocket: socket I/O, what tests inspect, and the session-level state (config, input buffer,
 * the active response). Per-event protocol behaviour lives in handlers.ts.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { type RawData } from 'ws';
import { decodeBase64Audio } from './audio.js';
import { defaultSession, effectiveTurnDetection, formatLabel, type EffectiveTurnDetection } from './config.js';
import { Conversation, type StoredItem } from './conversation.js';
import { handleClientEvent } from './handlers.js';
import { InputAudioBuffer } from './input-buffer.js';
import type { Pacing } from '../shared/pacer.js';
import { IdMinter, RealtimeRequestError, type ConversationItem, type ServerEventBody, type SessionObject } from './protocol.js';
import { ResponseRunner, type Fault, type ResponseHost } from './response.js';
import { instructedTurn, turnAt, userTranscriptAt, withToolOutput, DEFAULT_USER_TRANSCRIPT } from './scenario.js';
import { VoicePrints } from './voice-prints.js';
import type { ParsedClientEvent } from './schemas.js';
import type {
  ErrorRecord,
  FunctionOutputRecord,
  MessageRecord,
  RealtimeScenario,
  ReceivedEvent,
  ResponseRecord,
  TruncationRecord,
} from './types.js';
import { transcriptionUsage } from './usage.js';

export interface SessionSettings {
  pacing: Pacing;
  deltaMs: number;
  msPerChar: number;
  vadRmsThreshold: number;
  vadMinSpeechMs: number;
  cancelLatencyMs: number;
  log: (line: string) => void;
}

type ResponseParams = ParsedClientEvent<'response.create'>['response'];

/** A dropped connection is torn down after this long even if the client never closes its side. */
const DROP_LIMIT_MS = 5000;

export class SimSession implements ResponseHost {
  /** Model from the `?model=` query parameter. */
  readonly model: string;
  /** Merged session configuration, exactly as last sent in session.created / session.updated. */
  config: SessionObject;
  readonly received: ReceivedEvent[] = [];
  /**
   * Every server event sent, audio deltas replaced by their byte length (handy when a test fails). An event
   * the socket discarded unwritten (it closed under it) is taken out again: this is what left the process.
   */
  readonly sent: ReceivedEvent[] = [];
  readonly responses: ResponseRecord[] = [];
  readonly truncations: TruncationRecord[] = [];
  readonly functionOutputs: FunctionOutputRecord[] = [];
  /** Message items created by the client with conversation.item.create. */
  readonly messages: MessageRecord[] = [];
  readonly errorsSent: ErrorRecord[] = [];
  readonly warnings: string[] = [];
  /** Resolves once the socket is closed: the close frame's code, or 1006 if the TCP connection just ended. */
  readonly closed: Promise<{ code: number; reason: string }>;
  userTurns = 0;
  /** Scripted turns used so far (responses answering `onInstructions` do not count). */
  private scriptedTurns = 0;

  readonly ids: IdMinter;
  readonly conversation = new Conversation();
  readonly input: InputAudioBuffer;
  readonly conversationId: string;
  /** Item id announced in speech_started, reused when that speech is committed. */
  pendingUserItemId: string | null = null;
  active: ResponseRunner | null = null;

  private readonly listeners = new Set<() => void>();
  private readonly warnedOnce = new Set<string>();
  private isClosed = false;
  /** Transcription by sound (scenario.transcribeBySound), else transcripts go out in order. */
  readonly prints?: VoicePrints;
  /** A drop is under way: the connection counts as gone, nothing more is sent or handled. */
  private dropping = false;

  constructor(
    readonly index: number,
    private readonly ws: WebSocket,
    model: string,
    readonly headers: IncomingHttpHeaders,
    readonly scenario: RealtimeScenario,
    private readonly settings: SessionSettings,
    /** The TCP connection under the WebSocket, for the drop fault. */
    private readonly tcp: Duplex,
  ) {
    this.model = model;
    this.ids = new IdMinter(index);
    this.conversationId = this.ids.next('conv');
    this.config = defaultSession(this.ids.next('sess'), model, Math.floor(Date.now() / 1000));
    this.input = new InputAudioBuffer({ rmsThreshold: settings.vadRmsThreshold, minSpeechMs: settings.vadMinSpeechMs });
    this.prints = scenario.transcribeBySound ? new VoicePrints(scenario.userTranscripts ?? []) : undefined;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.isClosed = true;
        this.active?.abort();
        this.active = null;
        resolve({ code, reason: reason.toString() });
        this.notify();
      });
    });
    // A reset connection emits 'error' before 'close'; without a listener ws would rethrow it.
    ws.on('error', (err) => this.warn(`socket error: ${err.message}`));
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.send({ type: 'session.created', session: this.config });
    const fault = this.faultFor(0);
    if (fault) this.injectFault(fault, null);
  }

  /** Total input audio appended over the session, in ms (bytes / 8). */
  get inputAudioMs(): number {
    return this.input.totalMs;
  }

  // ---- test helpers -------------------------------------------------------------------------------------

  /** Resolves when `predicate` holds, re-checked after every event in either direction and on close. */
  waitUntil(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`session ${this.index}: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
    });
  }

  /** Resolves with the first received client event of `type` (already received ones count). */
  async waitForReceived(type: string, timeoutMs = 5000): Promise<ReceivedEvent> {
    await this.waitUntil(() => this.received.some((e) => e.type === type), timeoutMs, `client event ${type}`);
    return this.received.find((e) => e.type === type)!;
  }

  /** Fault on demand: end the TCP connection without a close frame. */
  drop(): void {
    this.active?.abort();
    this.dropConnection();
  }

  /** Close from the server side with a proper close frame. */
  disconnect(code = 1000, reason = ''): void {
    this.active?.abort();
    this.ws.close(code, reason);
  }

  // ---- ResponseHost -------------------------------------------------------------------------------------

  send(body: ServerEventBody): void {
    if (this.ws.readyState !== WebSocket.OPEN || this.dropping) return;
    const event = { ...body, event_id: this.ids.next('event') };
    const rec: ReceivedEvent = { ...event };
    if (event.type === 'response.output_audio.delta') rec.delta = Buffer.byteLength(event.delta, 'base64');
    this.sent.push(rec);
    this.ws.send(JSON.stringify(event), (err) => {
      if (!err) return;
      const i = this.sent.lastIndexOf(rec);
      if (i >= 0) this.sent.splice(i, 1);
    });
    this.notify();
  }

  injectFault(fault: Fault, runner: ResponseRunner | null): void {
    runner?.abort();
    if (fault === 'drop') {
      this.warn('fault: dropping the connection without a close frame');
      this.dropConnection();
      return;
    }
    if (runner) runner.record.status = 'failed';
    this.warn('fault: fatal server_error, closing with 1011');
    this.sendError(
      new RealtimeRequestError(null, 'The server had an error while processing your request. Sorry about that!', null, 'server_error'),
      null,
    );
    this.ws.close(1011, 'server_error');
  }

  onFinished(runner: ResponseRunner): void {
    if (this.active === runner) this.active = null;
  }

  // ---- used by handlers ---------------------------------------------------------------------------------

  turnDetection(): EffectiveTurnDetection | null {
    return effectiveTurnDetection(this.config);
  }

  sendError(err: RealtimeRequestError, clientEventId: string | null): void {
    const record: ErrorRecord = { type: err.errorType, code: err.code, message: err.message, param: err.param, eventId: clientEventId };
    this.errorsSent.push(record);
    this.send({ type: 'error', error: { type: record.type, code: record.code, message: record.message, param: record.param, event_id: clientEventId } });
  }

  warn(line: string, onceKey?: string): void {
    if (onceKey) {
      if (this.warnedOnce.has(onceKey)) return;
      this.warnedOnce.add(onceKey);
    }
    this.warnings.push(line);
    this.settings.log(`[openai-sim #${this.index}] ${line}`);
  }

  startResponse(trigger: 'client' | 'vad', params?: ResponseParams): ResponseRecord {
    const responseIndex = this.responses.length;
    const record: ResponseRecord = { id: this.ids.next('resp'), status: 'in_progress', audioMsSent: 0, transcript: '', trigger };
    if (params?.instructions !== undefined) record.instructions = params.instructions;
    this.responses.push(record);
    const modality = params?.output_modalities?.[0] ?? this.config.output_modalities?.[0] ?? 'audio';
    const cfgOut = this.config.audio?.output;
    const format = params?.audio?.output?.format ?? cfgOut?.format;
    if (modality === 'audio' && format?.type !== 'audio/pcmu') {
      this.warn(`output format is ${formatLabel(format)}, but the simulator always streams audio/pcmu`, 'output-format');
    }
    const voice = params?.audio?.output?.voice ?? cfgOut?.voice ?? 'alloy';
    const runner = new ResponseRunner(this, {
      turn: withToolOutput(instructedTurn(this.scenario, params?.instructions) ?? turnAt(this.scenario, this.scriptedTurns++), this.functionOutputs.at(-1)?.output),
      record,
      responseIndex,
      pacing: this.scenario.pacing ?? this.settings.pacing,
      deltaMs: this.settings.deltaMs,
      msPerChar: this.settings.msPerChar,
      modality,
      audioOutput: { format, voice: typeof voice === 'string' ? voice : voice.id },
      maxOutputTokens: params?.max_output_tokens ?? this.config.max_output_tokens ?? 'inf',
      conversationId: this.conversationId,
      metadata: params?.metadata ?? null,
      cancelLatencyMs: this.settings.cancelLatencyMs,
      context: {
        instructionsChars: (params?.instructions ?? this.config.instructions ?? '').length,
        conversationTextChars: this.conversation.textChars(),
        inputAudioMs: this.input.totalMs,
      },
      fault: this.faultFor(responseIndex + 1),
    });
    this.active = runner;
    runner.run().catch((err: unknown) => this.warn(`response ${record.id} crashed: ${String(err)}`));
    return record;
  }

  /** Turns the buffered audio up to `atMs` into a user message item, with transcription if configured. */
  commitUserAudio(itemId: string, audioMs: number): void {
    const transcript = this.prints ? (this.prints.take() ?? DEFAULT_USER_TRANSCRIPT) : userTranscriptAt(this.scenario, this.userTurns);
    this.userTurns++;
    const item: ConversationItem = {
      id: itemId,
      object: 'realtime.item',
      type: 'message',
      status: 'completed',
      role: 'user',
      content: [{ type: 'input_audio', transcript: null as unknown as string }],
    };
    // Input token accounting counts the transcript as the text equivalent of the turn.
    const stored: StoredItem = { id: itemId, kind: 'message', role: 'user', text: transcript, audioMs, sentAudioMs: 0, wire: item };
    const previousItemId = this.conversation.insert(stored);
    this.send({ type: 'input_audio_buffer.committed', item_id: itemId, previous_item_id: previousItemId });
    this.send({ type: 'conversation.item.added', previous_item_id: previousItemId, item });
    this.send({ type: 'conversation.item.done', previous_item_id: previousItemId, item });
    if (!this.config.audio?.input?.transcription) return;
    stored.wire = { ...item, content: [{ type: 'input_audio', transcript }] };
    this.send({ type: 'conversation.item.input_audio_transcription.delta', item_id: itemId, content_index: 0, delta: transcript });
    this.send({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: itemId,
      content_index: 0,
      transcript,
      usage: transcriptionUsage(audioMs, transcript, this.config.audio?.input?.transcription?.model),
    });
  }

  // ---- internals ----------------------------------------------------------------------------------------

  private faultFor(responseNumber: number): Fault | undefined {
    if (this.scenario.dropAfterResponses === responseNumber) return 'drop';
    if (this.scenario.fatalErrorAfterResponses === responseNumber) return 'fatal';
    return undefined;
  }

  /**
   * The connection ends without a close frame, but only after everything already sent: a FIN behind the
   * buffered data. `ws.terminate()` would discard what ws and the socket still buffer, and closing a socket
   * with unread input makes the kernel send a RST and drop what it has not transmitted yet; under load either
   * lost the last events, which the session had counted as sent. From here on nothing is sent or handled.
   */
  private dropConnection(): void {
    if (this.dropping) return;
    this.dropping = true;
    this.tcp.end();
    const limit = setTimeout(() => this.ws.terminate(), DROP_LIMIT_MS);
    void this.closed.then(() => clearTimeout(limit));
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.isClosed || this.dropping) return;
    if (isBinary) this.warn('client sent a binary frame; the real API expects text frames', 'binary');
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.received.push({ type: '<invalid_json>', raw: text.slice(0, 200) });
      this.sendError(new RealtimeRequestError('invalid_json', "Invalid JSON in client event: the payload could not be parsed. Expected a JSON object with a 'type' field."), null);
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || typeof (parsed as { type?: unknown }).type !== 'string') {
      this.received.push({ type: '<invalid_event>', raw: text.slice(0, 200) });
      this.sendError(new RealtimeRequestError('missing_required_parameter', "Missing required parameter: 'type'.", 'type'), null);
      return;
    }
    const event = parsed as { type: string; event_id?: unknown; audio?: unknown };
    const rec: ReceivedEvent = { ...event };
    if (event.type === 'input_audio_buffer.append' && typeof event.audio === 'string') {
      rec.audio = decodeBase64Audio(event.audio)?.length ?? -1;
    }
    this.received.push(rec);
    const eventId = typeof event.event_id === 'string' ? event.event_id : null;
    try {
      handleClientEvent(this, event);
    } catch (err) {
      if (err instanceof RealtimeRequestError) {
        this.sendError(err, eventId);
      } else {
        this.warn(`handler for ${event.type} crashed: ${String(err)}`);
        this.sendError(new RealtimeRequestError('server_error', 'The server had an error while processing your request.', null, 'server_error'), eventId);
      }
    }
    this.notify();
  }
}
