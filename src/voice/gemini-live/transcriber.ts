import WebSocket from 'ws';
import { closeSocket } from '../close-socket.js';
import type { UsageReport } from '../engine.js';
import { buildAudioInput, buildAudioStreamEnd, buildTranscriberSetup, parseServerMessage, usageMeters, type ServerMessage } from './protocol.js';

export interface GeminiTranscriberOptions {
  /** The BidiGenerateContent WebSocket URL (the engine's). */
  url: string;
  apiKey: string;
  /** A Live transcription model (GEMINI_TRANSCRIBE_MODEL, e.g. gemini-3.5-transcribe-live). */
  model: string;
  silenceMs: number;
  connectTimeoutMs?: number;
  /** One finished utterance. */
  onText(text: string): void;
  onUsage(usage: UsageReport): void;
  /** Connecting failed or the socket broke: the words of what is playing stay unknown. */
  onError(message: string): void;
}

/**
 * A second Live connection that only transcribes: Google's Live transcription model is "a dedicated,
 * low-latency speech recognition pipeline rather than a conversational agent" (ai.google.dev, "Live
 * transcription with Gemini Live API"): TEXT responses, `inputAudioTranscription` as the audio streams,
 * and no model turn to answer it. The conversation's own session would answer every turn it hears (a
 * mailbox greeting too), so what plays before anyone may be answered is transcribed here instead.
 * Frames pushed before the socket is ready are kept and sent in order once it is.
 */
export class GeminiTranscriber {
  private ws?: WebSocket;
  private pending: string[] = [];
  private text = '';
  private closed = false;
  /** Closing: told when the last utterance's words are complete. */
  private flushed?: () => void;

  constructor(private readonly o: GeminiTranscriberOptions) {
    void this.connect();
  }

  push(base64Pcm16k: string): void {
    if (this.closed) return;
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(buildAudioInput(base64Pcm16k));
    // At most 10 s of 20 ms frames wait for the connection; older ones go (the transcript loses its start).
    else if (this.pending.push(base64Pcm16k) > 500) this.pending.shift();
  }

  /**
   * Stops transcribing. The audio stream is ended first (`audioStreamEnd` ends speech in progress), so the
   * words of an utterance cut short (a greeting that ran into its beep) still come, within `flushMs`.
   */
  async close(flushMs = 1500): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    const ws = this.ws;
    if (ws?.readyState === WebSocket.OPEN && flushMs > 0) {
      ws.send(buildAudioStreamEnd());
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, flushMs);
        this.flushed = () => {
          clearTimeout(t);
          resolve();
        };
        ws.once('close', () => this.flushed?.());
      });
    }
    this.flushed = undefined;
    this.flush();
    await closeSocket(ws, 'transcription no longer needed');
  }

  private connect(): Promise<void> {
    const ws = new WebSocket(this.o.url, { maxPayload: 4 * 1024 * 1024, headers: { 'x-goog-api-key': this.o.apiKey } });
    this.ws = ws;
    const timeoutMs = this.o.connectTimeoutMs ?? 10_000;
    const timer = setTimeout(() => fail(`no setupComplete within ${timeoutMs} ms`), timeoutMs);
    const fail = (why: string) => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      if (!this.closed) this.o.onError(`Gemini transcription (${this.o.model}): ${why}`);
    };
    return new Promise<void>((resolve) => {
      ws.once('unexpected-response', (_req, res) => (fail(`connection refused with HTTP ${res.statusCode}`), resolve()));
      ws.once('error', (err) => (fail(err.message), resolve()));
      ws.once('close', (code) => (fail(`closed during setup (${code})`), resolve()));
      ws.once('open', () => ws.send(buildTranscriberSetup({ model: this.o.model, silenceMs: this.o.silenceMs })));
      ws.once('message', (data) => {
        let msg: ServerMessage;
        try {
          msg = parseServerMessage(data.toString());
        } catch (err) {
          fail((err as Error).message);
          return resolve();
        }
        if (!msg.setupComplete) {
          fail('expected setupComplete');
          return resolve();
        }
        clearTimeout(timer);
        ws.removeAllListeners();
        ws.on('message', (d) => this.onMessage(d.toString()));
        ws.on('error', () => undefined);
        ws.on('close', (code) => {
          if (!this.closed) this.o.onError(`Gemini transcription (${this.o.model}): socket closed (${code})`);
        });
        for (const frame of this.pending) ws.send(buildAudioInput(frame));
        this.pending = [];
        resolve();
      });
    });
  }

  private onMessage(raw: string): void {
    let m: ServerMessage;
    try {
      m = parseServerMessage(raw);
    } catch {
      return;
    }
    if (m.inputTranscript) this.text += m.inputTranscript;
    // An utterance ends with a `finished` fragment (Gemini 3.x marks it: google/adk-python#6045) or a turnComplete.
    if (m.inputFinished || m.turnComplete) {
      this.flush();
      this.flushed?.();
    }
    if (m.usage) {
      const meters = usageMeters(m.usage);
      if (Object.keys(meters).length) this.o.onUsage({ provider: 'gemini', model: this.o.model, meters });
    }
  }

  private flush(): void {
    const text = this.text.trim();
    this.text = '';
    if (text) this.o.onText(text);
  }
}
