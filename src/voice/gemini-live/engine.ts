import WebSocket from 'ws';
import { closeSocket } from '../close-socket.js';
import type { EngineCapabilities, EngineEvent, EngineListener, EngineStartOptions, VoiceEngine } from '../engine.js';
import { AudioChunk } from '../../media/audio-chunk.js';
import { GeminiTranscriber } from './transcriber.js';
import { buildAudioInput, buildSetup, buildTextTurn, buildToolResponse, parseServerMessage, usageMeters, GeminiMessageError, type ServerMessage } from './protocol.js';

export interface GeminiLiveOptions {
  apiKey: string;
  /** Base URL: wss://generativelanguage.googleapis.com, or a proxy/simulator (ws:// allowed). */
  baseUrl: string;
  apiVersion: string;
  model: string;
  voice: string;
  silenceMs: number;
  /** The Live transcription model for `transcribeOnly` (GEMINI_TRANSCRIBE_MODEL; default gemini-3.5-transcribe-live). */
  transcribeModel?: string;
  connectTimeoutMs?: number;
  onEvent: EngineListener;
}

/** Caller audio kept from before the greeting gate: 3 s of 20 ms frames. */
const PRE_GATE_FRAMES = 150;
/** RMS (16-bit) above which buffered caller audio counts as speech. */
const SPEECH_RMS = 800;

function rmsPcm16(bytes: Uint8Array): number {
  const n = bytes.length >> 1;
  if (n === 0) return 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const s = view.getInt16(i * 2, true);
    sum += s * s;
  }
  return Math.sqrt(sum / n);
}

/** What the model is asked when the greeting gate opens (Gemini speaks only in answer to a turn). */
export const GREETING_CUE = '(The phone call has just been answered. Greet the person now, as your instructions say.)';

interface Turn {
  id: string;
  text: string;
  generatedBytes: number;
  done: boolean;
  transcriptSent: boolean;
  /** The bridge cut it off: its remaining audio is not played. */
  dropped: boolean;
}

/**
 * Gemini Live over the BidiGenerateContent WebSocket. Differences from OpenAI that the bridge sees only
 * through `capabilities`: PCM16 16 kHz in / 24 kHz out, no truncation, no "speech started" once the
 * model has finished generating (so the bridge listens for barge-in itself), and the model continues by
 * itself after a tool result. A goAway or a dropped socket is survived by resuming the session with the
 * last resumption handle.
 */
export class GeminiLiveEngine implements VoiceEngine {
  readonly name = 'gemini';
  readonly capabilities: EngineCapabilities = {
    truncation: false,
    serverTurnDetection: true,
    autoReplyAfterTool: true,
    detectsSpeechDuringPlayback: false,
    // Gemini withdraws a tool call only when the callee's speech interrupts the model, which this
    // session turns off (NO_INTERRUPTION: the bridge decides barge-in); so it withdraws none.
    cancelsInterruptedToolCalls: false,
    speaksWhileToolRuns: false,
    // So ask_owner is answered at once and the wait is kept with clientContent text turns (owner-wait.ts).
    holdsWithTextTurns: true,
    hearsBeforeAutoRespond: false,
    answersTurnsWhileReplying: true,
    inputFormat: { encoding: 'pcm16', sampleRate: 16000 },
    outputFormat: { encoding: 'pcm16', sampleRate: 24000 },
  };

  private ws?: WebSocket;
  private startOpts?: EngineStartOptions;
  private closing = false;
  private resumeHandle?: string;
  private reconnecting?: Promise<void>;
  private autoRespond = false;
  /** Caller audio from before the greeting gate opened (the latest few seconds), replayed when it opens. */
  private preGate: AudioChunk[] = [];
  private preGateSpeech = false;
  private turnSeq = 0;
  private turn?: Turn;
  private userText = '';
  private userSeq = 0;
  private readonly toolNames = new Map<string, string>();
  /** While set, caller audio goes to this transcription-only session instead (transcribeOnly). */
  private transcriber?: GeminiTranscriber;
  /** While set, caller audio is also transcribed here, on the side (listenAside). */
  private aside?: GeminiTranscriber;
  /** Calls the server withdrew: a late result for one is not sent (the server no longer has the call). */
  private readonly cancelledTools = new Set<string>();

  constructor(private readonly opts: GeminiLiveOptions) {}

  private emit(e: EngineEvent): void {
    this.opts.onEvent(e);
  }

  private url(): string {
    const base = this.opts.baseUrl.replace(/\/+$/, '');
    return `${base}/ws/google.ai.generativelanguage.${this.opts.apiVersion}.GenerativeService.BidiGenerateContent`;
  }

  async start(start: EngineStartOptions): Promise<void> {
    this.startOpts = start;
    this.autoRespond = start.autoRespond;
    this.ws = await this.connect();
  }

  /** Opens a socket and completes the setup handshake; resumes the conversation when a handle exists. */
  private connect(): Promise<WebSocket> {
    const s = this.startOpts!;
    // The key goes in a header, not the `?key=` query: URLs end up in proxy and access logs.
    const ws = new WebSocket(this.url(), { maxPayload: 16 * 1024 * 1024, headers: { 'x-goog-api-key': this.opts.apiKey } });
    return new Promise<WebSocket>((resolve, reject) => {
      const timeoutMs = this.opts.connectTimeoutMs ?? 10_000;
      const timer = setTimeout(() => fail(new Error(`Gemini Live: no setupComplete within ${timeoutMs} ms`)), timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(err);
      };
      ws.once('unexpected-response', (_req, res) => fail(new Error(`Gemini Live: connection refused with HTTP ${res.statusCode}`)));
      ws.once('error', (err) => fail(new Error(`Gemini Live: ${err.message}`)));
      ws.once('close', (code, reason) => fail(new Error(`Gemini Live closed during setup (${code} ${reason.toString().slice(0, 100)})`)));
      ws.once('open', () => ws.send(buildSetup({ model: this.opts.model, instructions: s.instructions, voice: s.voice ?? this.opts.voice, tools: s.tools, silenceMs: this.opts.silenceMs, resumeHandle: this.resumeHandle })));
      ws.once('message', (data) => {
        let msg: ServerMessage;
        try {
          msg = parseServerMessage(data.toString());
        } catch (err) {
          return fail(err as Error);
        }
        if (!msg.setupComplete) return fail(new Error('Gemini Live: expected setupComplete'));
        clearTimeout(timer);
        ws.removeAllListeners();
        ws.on('message', (d) => this.onMessage(d.toString()));
        ws.on('error', (err) => this.emit({ type: 'error', error: { fatal: false, code: 'socket_error', message: err.message } }));
        ws.on('close', (code, reason) => this.onClose(ws, code, reason.toString()));
        resolve(ws);
      });
    });
  }

  private send(msg: string): void {
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(msg);
  }

  pushAudio(frame: AudioChunk): void {
    if (this.transcriber) return this.transcriber.push(frame.base64);
    this.aside?.push(frame.base64);
    if (!this.autoRespond) {
      // Until the greeting gate opens nothing is sent: Gemini answers every turn it hears, and the
      // callee may be an answering machine. What a person said meanwhile ("Hello?") is kept, to be
      // heard once the gate opens.
      this.preGate.push(frame);
      if (this.preGate.length > PRE_GATE_FRAMES) this.preGate.shift();
      return;
    }
    if (this.reconnecting) return;
    this.send(buildAudioInput(frame.base64));
  }

  /**
   * Asks the model to speak. For the greeting: if the callee already said something before the gate
   * opened, that speech (replayed on opening) makes the model answer by itself, and a second cue would
   * make it speak twice.
   */
  generateReply(opts?: { instructions?: string }): void {
    if (!opts?.instructions && this.preGateSpeech) {
      this.preGateSpeech = false;
      return;
    }
    this.send(buildTextTurn(opts?.instructions ?? GREETING_CUE));
  }

  setAutoRespond(on: boolean): void {
    this.autoRespond = on;
    if (!on) return;
    this.listenAside(false);
    // Only speech still in the kept window is replayed: speech that has scrolled out of it (a long
    // opening, then a late verdict) would leave the model with nothing to answer, so it gets the cue.
    this.preGateSpeech = this.preGate.some((f) => rmsPcm16(f.bytes) > SPEECH_RMS);
    for (const frame of this.preGate) this.send(buildAudioInput(frame.base64));
    this.preGate = [];
  }

  /**
   * The conversation's session answers every turn it hears, so audio that must only be understood (a
   * machine's opening, under a machine verdict) goes to a second, transcription-only session; the kept
   * opening goes first, so its words are complete. The conversation never hears any of it: when it is
   * asked to speak, the bridge tells it what it needs to know.
   */
  transcribeOnly(on: boolean): void {
    if (!on) {
      void this.transcriber?.close();
      this.transcriber = undefined;
      return;
    }
    if (this.transcriber || this.closing) return;
    // The side transcriber heard only part of what the whole one will: its words would come twice.
    this.listenAside(false);
    let seq = 0;
    this.transcriber = this.openTranscriber((text) => this.emit({ type: 'user.transcript', itemId: `gtx_${++seq}`, text }));
    for (const frame of this.preGate) this.transcriber.push(frame.base64);
    this.preGate = [];
    this.preGateSpeech = false;
  }

  /**
   * A long opening (longer than a "Hello?") before the greeting: its words are transcribed on the side,
   * from the kept frames on, while the kept opening stays as it is for the conversation to hear if a
   * person turns out to be there. Off: closed without waiting for late words (the opening is over for the
   * bridge: a greeting, a verdict or a mode took over).
   */
  listenAside(on: boolean, forgetOpening?: boolean): void {
    if (!on) {
      const aside = this.aside;
      // Unset first: words it still flushes while closing are the past opening's, no longer wanted.
      this.aside = undefined;
      void aside?.close(0);
      if (forgetOpening) {
        this.preGate = [];
        this.preGateSpeech = false;
      }
      return;
    }
    if (this.aside || this.transcriber || this.autoRespond || this.closing) return;
    const aside = this.openTranscriber((text) => {
      if (this.aside === aside) this.emit({ type: 'aside.transcript', text });
    });
    this.aside = aside;
    for (const frame of this.preGate) aside.push(frame.base64);
  }

  private openTranscriber(onText: (text: string) => void): GeminiTranscriber {
    return new GeminiTranscriber({
      url: this.url(),
      apiKey: this.opts.apiKey,
      model: this.opts.transcribeModel ?? 'gemini-3.5-transcribe-live',
      silenceMs: this.opts.silenceMs,
      connectTimeoutMs: this.opts.connectTimeoutMs,
      onText,
      onUsage: (usage) => this.emit({ type: 'usage', usage }),
      onError: (message) => this.emit({ type: 'error', error: { fatal: false, code: 'transcription_failed', message } }),
    });
  }

  /** No cancel message exists: the rest of the current turn's audio is dropped here instead. */
  interrupt(): void {
    if (this.turn && !this.turn.done) this.turn.dropped = true;
  }

  truncate(): void {
    // Not supported by Gemini (capabilities.truncation is false).
  }

  deleteItem(): void {
    // Not supported by Gemini.
  }

  sendToolResult(callId: string, output: string): void {
    if (this.cancelledTools.delete(callId)) return;
    const name = this.toolNames.get(callId) ?? 'unknown';
    this.toolNames.delete(callId);
    this.send(buildToolResponse(callId, name, output));
  }

  async close(): Promise<void> {
    this.closing = true;
    this.transcribeOnly(false);
    this.listenAside(false);
    await closeSocket(this.ws, 'call ended');
  }

  // ---- server messages ------------------------------------------------------------------------
  private onMessage(raw: string): void {
    let m: ServerMessage;
    try {
      m = parseServerMessage(raw);
    } catch (err) {
      this.emit({ type: 'error', error: { fatal: false, code: 'bad_server_message', message: (err as GeminiMessageError).message } });
      return;
    }
    if (m.inputTranscript) {
      this.userText += m.inputTranscript;
      // The final text waits for the end of the model's turn; a barge-in cannot (docs/barge-in.md).
      this.emit({ type: 'user.words', text: m.inputTranscript });
    }
    if (m.audio.length) {
      const turn = this.currentTurn();
      for (const b64 of m.audio) {
        const chunk = AudioChunk.fromBase64(b64);
        turn.generatedBytes += chunk.length;
        if (!turn.dropped && !turn.done) this.emit({ type: 'agent.audio', responseId: turn.id, itemId: turn.id, audio: chunk });
      }
    }
    if (m.outputTranscript) this.currentTurn().text += m.outputTranscript;
    if (m.inputFinished) this.flushUserText();
    if (m.interrupted) {
      // The model heard the callee and stopped generating.
      this.emit({ type: 'user.speechStarted' });
      this.finishTurn('cancelled');
    }
    if (m.toolCalls.length) {
      // The model holds its turn open until it has the tool's result; what it said before the call is
      // a finished utterance (the goodbye before end_call, say), and anything after is a new turn.
      const turnId = this.turn?.id ?? `gturn_${this.turnSeq}`;
      // A turn that is only a tool call is a model turn too: the callee's words come first (a phone
      // menu's key is chosen on them).
      this.flushUserText();
      this.finishTurn('completed');
      for (const c of m.toolCalls) {
        this.toolNames.set(c.id, c.name);
        this.emit({ type: 'tool.call', responseId: turnId, callId: c.id, name: c.name, arguments: JSON.stringify(c.args ?? {}) });
      }
    }
    if (m.toolCallCancellations.length) {
      for (const id of m.toolCallCancellations) {
        this.toolNames.delete(id);
        this.cancelledTools.add(id);
      }
      this.emit({ type: 'tool.cancelled', callIds: m.toolCallCancellations });
    }
    if (m.generationComplete) this.markGenerated();
    if (m.turnComplete) this.finishTurn('completed');
    if (m.usage) this.onUsage(m.usage);
    if (m.resumption?.resumable) this.resumeHandle = m.resumption.handle;
    if (m.goAwayTimeLeft !== undefined) void this.resume(`goAway (time left ${m.goAwayTimeLeft})`);
  }

  private currentTurn(): Turn {
    if (!this.turn || this.turn.transcriptSent) {
      // A new model turn means the callee's turn is over: emit what they said first.
      this.flushUserText();
      this.turn = { id: `gturn_${++this.turnSeq}`, text: '', generatedBytes: 0, done: false, transcriptSent: false, dropped: false };
      this.emit({ type: 'agent.responseStarted', responseId: this.turn.id });
    }
    return this.turn;
  }

  private flushUserText(): void {
    const text = this.userText.trim();
    this.userText = '';
    if (text) this.emit({ type: 'user.transcript', itemId: `guser_${++this.userSeq}`, text });
  }

  /** All of the turn's audio has been generated (it may still be playing at the carrier). */
  private markGenerated(): void {
    const t = this.turn;
    if (!t || t.done) return;
    t.done = true;
    this.emit({ type: 'agent.responseDone', responseId: t.id, status: t.dropped ? 'cancelled' : 'completed' });
  }

  private finishTurn(status: 'completed' | 'cancelled' | 'incomplete'): void {
    const t = this.turn;
    if (!t || t.transcriptSent) return;
    if (!t.done) {
      t.done = true;
      this.emit({ type: 'agent.responseDone', responseId: t.id, status: t.dropped && status === 'completed' ? 'cancelled' : status });
    }
    t.transcriptSent = true;
    // 24 kHz PCM16: 48 bytes per millisecond.
    this.emit({ type: 'agent.transcript', responseId: t.id, itemId: t.id, text: t.text.trim(), audioMs: t.generatedBytes / 48 });
  }

  private onUsage(u: Parameters<typeof usageMeters>[0]): void {
    // Each usageMetadata is one turn's usage, billed as reported (not a running total: see usageMeters).
    const meters = usageMeters(u);
    if (Object.keys(meters).length) this.emit({ type: 'usage', usage: { provider: 'gemini', model: this.opts.model, meters } });
  }

  // ---- resumption -----------------------------------------------------------------------------
  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws || this.closing) {
      if (ws === this.ws && this.closing) this.emit({ type: 'closed', expected: true, reason: `socket closed (${code})` });
      return;
    }
    void this.resume(`socket closed (${code}${reason ? ` ${reason.slice(0, 80)}` : ''})`);
  }

  /** Reconnects with the resumption handle; the conversation continues where it was. */
  private resume(why: string): Promise<void> {
    if (this.reconnecting) return this.reconnecting;
    if (this.closing) return Promise.resolve();
    const old = this.ws;
    const startedAt = Date.now();
    this.reconnecting = (async () => {
      // A turn cut by the drop is over: what it said so far is kept, the rest will not come.
      this.finishTurn('incomplete');
      if (!this.resumeHandle) {
        this.emit({ type: 'closed', expected: false, reason: `${why}; no resumption handle` });
        return;
      }
      try {
        const ws = await this.connect();
        this.ws = ws;
        if (old && old.readyState !== WebSocket.CLOSED) {
          old.removeAllListeners();
          old.on('error', () => undefined);
          old.close(1000, 'resumed on a new connection');
        }
        if (this.closing) {
          ws.close(1000, 'call ended');
          return;
        }
        this.emit({ type: 'session.resumed', reason: why, gapMs: Date.now() - startedAt });
      } catch (err) {
        this.emit({ type: 'closed', expected: false, reason: `${why}; resuming failed: ${(err as Error).message}` });
      }
    })().finally(() => {
      this.reconnecting = undefined;
    });
    return this.reconnecting;
  }
}
