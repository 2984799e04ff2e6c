import WebSocket from 'ws';
import { closeSocket } from '../close-socket.js';
import type { AudioChunk } from '../../media/audio-chunk.js';
import type { EngineCapabilities, EngineEvent, EngineListener, EngineStartOptions, UsageReport, VoiceEngine } from '../engine.js';
import {
  buildAppend,
  buildDeleteItem,
  buildFunctionOutput,
  buildResponseCancel,
  buildResponseCreate,
  buildSessionUpdate,
  buildTruncate,
  buildTurnDetectionUpdate,
  isBenignError,
  isFatalError,
  parseServerEvent,
  PREFIX_PADDING_MS,
  type RealtimeUsage,
  type ServerEvent,
  type TranscriptionUsage,
} from './protocol.js';

export interface OpenAIRealtimeOptions {
  apiKey: string;
  /** wss://api.openai.com/v1/realtime, or a proxy/simulator. */
  url: string;
  model: string;
  voice: string;
  transcriptionModel: string;
  silenceMs: number;
  connectTimeoutMs?: number;
  onEvent: EngineListener;
}

/**
 * OpenAI Realtime over a plain WebSocket. The official SDK's OpenAIRealtimeWS forces wss:, which would
 * make the local simulator need TLS; the wire format is checked against the SDK's types in protocol.ts.
 */
export class OpenAIRealtimeEngine implements VoiceEngine {
  readonly name = 'openai';
  readonly capabilities: EngineCapabilities = {
    truncation: true,
    serverTurnDetection: true,
    autoReplyAfterTool: false,
    detectsSpeechDuringPlayback: true,
    cancelsInterruptedToolCalls: false,
    speaksWhileToolRuns: true,
    hearsBeforeAutoRespond: true,
    inputFormat: { encoding: 'pcmu', sampleRate: 8000 },
    outputFormat: { encoding: 'pcmu', sampleRate: 8000 },
  };

  private ws?: WebSocket;
  private closing = false;
  private closedEmitted = false;
  private activeResponseId?: string;
  /** Responses we cancelled: their late deltas are dropped here so the bridge never plays them. */
  private readonly cancelled = new Set<string>();
  private autoRespond = false;
  /**
   * Whether the server answers turns by itself, as its last session.updated said. It lags `autoRespond`
   * by a round trip: a turn the server ends inside that window is committed under the old setting.
   */
  private serverAutoRespond = false;
  /** A response.create is on its way (or waiting, `deferredReply`) and no response.created has answered it yet. */
  private replyRequested = false;
  /** What the last response.create asked for: asked again if it was refused for a response on its way out. */
  private lastReply?: { instructions?: string };
  /**
   * A reply waiting for cancelled responses to finish. The server holds a cancelled response active until
   * its response.done, and refuses a response.create meanwhile (conversation_already_has_active_response).
   */
  private deferredReply?: { instructions?: string };
  /**
   * Responses the server's turn detection started after automatic answers were switched off, under the
   * setting it had not read yet: cancelled, never told to the bridge, their items deleted once done.
   */
  private readonly unasked = new Set<string>();
  /** The server has echoed our response metadata: until then an untagged response may be ours, and is kept. */
  private echoesMetadata = false;
  /** Bytes of audio generated per item, counting deltas dropped after a cancel (for the heard fraction). */
  private readonly generatedBytes = new Map<string, number>();

  constructor(private readonly opts: OpenAIRealtimeOptions) {}

  private emit(e: EngineEvent): void {
    this.opts.onEvent(e);
  }

  async start(start: EngineStartOptions): Promise<void> {
    this.autoRespond = start.autoRespond;
    const url = new URL(this.opts.url);
    url.searchParams.set('model', this.opts.model);
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${this.opts.apiKey}` }, maxPayload: 16 * 1024 * 1024 });
    this.ws = ws;
    ws.binaryType = 'nodebuffer';

    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`OpenAI Realtime: no session.updated within ${this.opts.connectTimeoutMs ?? 10000} ms`)), this.opts.connectTimeoutMs ?? 10000);
      const fail = (err: Error) => {
        clearTimeout(timer);
        ws.removeAllListeners('message');
        ws.terminate();
        reject(err);
      };
      ws.once('unexpected-response', (_req, res) => fail(new Error(`OpenAI Realtime: connection refused with HTTP ${res.statusCode}`)));
      ws.once('error', (err) => fail(new Error(`OpenAI Realtime: ${err.message}`)));
      ws.once('open', () => {
        ws.send(
          JSON.stringify(
            buildSessionUpdate({
              instructions: start.instructions,
              voice: start.voice ?? this.opts.voice,
              transcriptionModel: this.opts.transcriptionModel,
              silenceMs: this.opts.silenceMs,
              autoRespond: start.autoRespond,
              tools: start.tools,
            }),
          ),
        );
      });
      const onSetup = (data: WebSocket.RawData) => {
        let ev: ServerEvent;
        try {
          ev = parseServerEvent(data.toString());
        } catch {
          return;
        }
        if (ev.type === 'session.updated') {
          this.serverAutoRespond = ev.autoRespond ?? start.autoRespond;
          clearTimeout(timer);
          ws.off('message', onSetup);
          ws.removeAllListeners('error');
          ws.removeAllListeners('unexpected-response');
          resolve();
        } else if (ev.type === 'error') {
          fail(new Error(`OpenAI Realtime rejected the session: ${ev.code}: ${ev.message}`));
        }
      };
      ws.on('message', onSetup);
    });

    ws.on('message', (data) => this.onMessage(data.toString()));
    ws.on('error', (err) => this.emit({ type: 'error', error: { fatal: false, code: 'socket_error', message: err.message } }));
    ws.on('close', (code, reason) => {
      if (this.closedEmitted) return;
      this.closedEmitted = true;
      this.emit({ type: 'closed', expected: this.closing, reason: `socket closed (${code}${reason.length ? ` ${reason.toString().slice(0, 80)}` : ''})` });
    });
  }

  private send(event: object | string): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(typeof event === 'string' ? event : JSON.stringify(event));
  }

  pushAudio(frame: AudioChunk): void {
    this.send(buildAppend(frame));
  }

  generateReply(opts?: { instructions?: string }): void {
    this.replyRequested = true;
    const reply = { instructions: opts?.instructions };
    if (this.cancelled.size > 0) {
      this.deferredReply = reply;
      return;
    }
    this.lastReply = reply;
    this.send(buildResponseCreate(reply.instructions));
  }

  setAutoRespond(on: boolean): void {
    if (on === this.autoRespond) return;
    this.autoRespond = on;
    this.send(buildTurnDetectionUpdate({ transcriptionModel: this.opts.transcriptionModel, silenceMs: this.opts.silenceMs, autoRespond: on }));
  }

  interrupt(): void {
    const id = this.activeResponseId;
    if (!id) return;
    this.cancelled.add(id);
    this.activeResponseId = undefined;
    this.send(buildResponseCancel(id));
  }

  truncate(itemId: string, playedMs: number): void {
    this.send(buildTruncate(itemId, playedMs));
  }

  deleteItem(itemId: string): void {
    this.send(buildDeleteItem(itemId));
  }

  sendToolResult(callId: string, output: string, opts: { reply: boolean }): void {
    this.send(buildFunctionOutput(callId, output));
    if (opts.reply) this.generateReply();
  }

  async close(): Promise<void> {
    this.closing = true;
    await closeSocket(this.ws, 'call ended');
  }

  private onMessage(raw: string): void {
    let ev: ServerEvent;
    try {
      ev = parseServerEvent(raw);
    } catch (err) {
      this.emit({ type: 'error', error: { fatal: false, code: 'bad_server_event', message: (err as Error).message } });
      return;
    }
    switch (ev.type) {
      case 'response.output_audio.delta':
        this.generatedBytes.set(ev.itemId, (this.generatedBytes.get(ev.itemId) ?? 0) + ev.audio.length);
        if (this.cancelled.has(ev.responseId)) return;
        this.emit({ type: 'agent.audio', responseId: ev.responseId, itemId: ev.itemId, audio: ev.audio });
        return;
      case 'input_audio_buffer.speech_started':
        // Where speech was detected: audio_start_ms reaches back by the prefix padding (less only when
        // speech began within the padding of the session's first audio, which then reads a little short).
        this.emit({ type: 'user.speechStarted', itemId: ev.itemId, audioMs: ev.audioMs === undefined ? undefined : ev.audioMs + PREFIX_PADDING_MS });
        return;
      case 'session.updated':
        this.serverAutoRespond = ev.autoRespond ?? this.autoRespond;
        return;
      case 'input_audio_buffer.speech_stopped':
        // Automatic answers were switched on (the greeting was let go while the callee still spoke), but the
        // server ended this turn before it read that: it commits the turn without answering, and the
        // callee, having said "Hello?", waits in silence. The turn is answered here instead, once.
        if (this.autoRespond && !this.serverAutoRespond && !this.activeResponseId && !this.replyRequested) this.generateReply();
        this.emit({ type: 'user.speechStopped', audioMs: ev.audioMs });
        return;
      case 'transcription.completed':
        if (ev.transcript.trim()) this.emit({ type: 'user.transcript', itemId: ev.itemId, text: ev.transcript.trim() });
        if (ev.usage) this.emit({ type: 'usage', usage: this.transcriptionUsage(ev.usage) });
        return;
      case 'response.created':
        if (ev.asked) this.echoesMetadata = true;
        else if (!this.autoRespond && this.echoesMetadata) {
          // The server ended a turn before it read "no automatic answers" and answered it: nobody asked for
          // this, and a reply of ours (a wrap-up's goodbye) was refused for it. Stopped before a word is
          // played; the refused reply is asked again once it is done.
          this.unasked.add(ev.responseId);
          this.cancelled.add(ev.responseId);
          this.send(buildResponseCancel(ev.responseId));
          return;
        }
        this.replyRequested = false;
        this.activeResponseId = ev.responseId;
        this.emit({ type: 'agent.responseStarted', responseId: ev.responseId });
        return;
      case 'response.output_audio_transcript.done': {
        if (this.unasked.has(ev.responseId)) return void this.generatedBytes.delete(ev.itemId);
        const audioMs = (this.generatedBytes.get(ev.itemId) ?? 0) / 8;
        this.generatedBytes.delete(ev.itemId);
        this.emit({ type: 'agent.transcript', responseId: ev.responseId, itemId: ev.itemId, text: ev.transcript, audioMs });
        return;
      }
      case 'response.function_call_arguments.done':
        if (this.cancelled.has(ev.responseId)) return;
        this.emit({ type: 'tool.call', responseId: ev.responseId, callId: ev.callId, name: ev.name, arguments: ev.arguments });
        return;
      case 'response.done': {
        if (this.activeResponseId === ev.responseId) this.activeResponseId = undefined;
        this.cancelled.delete(ev.responseId);
        if (ev.usage) this.emit({ type: 'usage', usage: this.responseUsage(ev.usage) });
        const unasked = this.unasked.delete(ev.responseId);
        // Never heard, so not part of the conversation the model goes on from (deleted before a reply is asked).
        if (unasked) for (const itemId of ev.outputItemIds) this.send(buildDeleteItem(itemId));
        if (this.cancelled.size === 0 && this.deferredReply) {
          const reply = this.deferredReply;
          this.deferredReply = undefined;
          this.generateReply(reply);
        }
        if (unasked) return;
        const status = (['completed', 'cancelled', 'failed', 'incomplete'] as const).find((x) => x === ev.status) ?? 'failed';
        if (status === 'failed' && ev.error) this.emit({ type: 'error', error: { fatal: false, code: 'response_failed', message: ev.error, eventType: 'response.done' } });
        this.emit({ type: 'agent.responseDone', responseId: ev.responseId, status });
        return;
      }
      case 'error':
        // A response.create refused because a response we cancelled has not finished yet is asked again
        // when it has; one refused for a reply still running answers the request.
        if (ev.code === 'conversation_already_has_active_response' && this.cancelled.size > 0 && this.lastReply) {
          this.deferredReply ??= this.lastReply;
          return;
        }
        this.replyRequested = false;
        if (isBenignError(ev.code)) return;
        this.emit({ type: 'error', error: { fatal: isFatalError(ev.errorType, ev.code), code: ev.code, message: ev.message, eventType: 'error' } });
        return;
      default:
        return;
    }
  }

  private responseUsage(u: RealtimeUsage): UsageReport {
    const inText = u.input_token_details?.text_tokens ?? 0;
    const inAudio = u.input_token_details?.audio_tokens ?? 0;
    // Cached tokens are a subset of input tokens: bill them at the cached rate and the rest at full rate.
    const cachedText = u.input_token_details?.cached_tokens_details?.text_tokens ?? 0;
    const cachedAudio = u.input_token_details?.cached_tokens_details?.audio_tokens ?? 0;
    return {
      provider: 'openai',
      model: this.opts.model,
      meters: {
        text_input: Math.max(0, inText - cachedText),
        text_cached_input: cachedText,
        audio_input: Math.max(0, inAudio - cachedAudio),
        audio_cached_input: cachedAudio,
        text_output: u.output_token_details?.text_tokens ?? 0,
        audio_output: u.output_token_details?.audio_tokens ?? 0,
        // Reasoning models (gpt-realtime-2.x) count their reasoning in output_tokens, outside the text and
        // audio details; it is billed as text output.
        thinking_output: Math.max(0, (u.output_tokens ?? 0) - (u.output_token_details?.text_tokens ?? 0) - (u.output_token_details?.audio_tokens ?? 0)),
      },
    };
  }

  private transcriptionUsage(u: TranscriptionUsage): UsageReport {
    if (u.type === 'duration') return { provider: 'openai', model: this.opts.transcriptionModel, meters: { audio_seconds: u.seconds ?? 0 } };
    return {
      provider: 'openai',
      model: this.opts.transcriptionModel,
      meters: {
        audio_input: u.input_token_details?.audio_tokens ?? u.input_tokens ?? 0,
        text_input: u.input_token_details?.text_tokens ?? 0,
        text_output: u.output_tokens ?? 0,
      },
    };
  }
}
