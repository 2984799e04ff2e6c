/**
 * Twilio's side of one bidirectional Media Stream (<Connect><Stream>): the WebSocket client, the
 * JSON message protocol and the playout of the audio the server sends back. Media pacing is driven
 * from outside (the call's 20 ms line clock) so inbound media and playback share one clock.
 */
import { WebSocket, type RawData } from 'ws';
import type { MediaFormat, SimStream } from './types.js';
import { Playout } from './playout.js';
import { signature } from './webhooks.js';
import { newSid } from './util.js';

export interface StreamContext {
  accountSid: string;
  authToken: string;
  callSid: string;
  /** Announced in `start`; default Twilio's only format, mu-law 8 kHz mono. */
  mediaFormat?: MediaFormat;
  log: (type: string, fields?: Record<string, unknown>) => void;
  onAgentBytes: (n: number) => void;
}

export interface TickResult {
  frame: Uint8Array;
  played: number;
}

const CLOSE_GRACE_MS = 1000;

export class MediaStreamClient {
  readonly info: SimStream;
  readonly closed: Promise<'server' | 'sim'>;
  private ws: WebSocket | null = null;
  private seq = 0;
  private chunk = 0;
  private readonly playout = new Playout();
  private startedAt = 0;
  private resolveClosed!: (by: 'server' | 'sim') => void;
  private closingBySim = false;
  /** Set when the sim cut the TCP connection without a `stop` (fault injection). */
  dropped = false;
  private graceTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ctx: StreamContext,
    url: string,
    customParameters: Record<string, string>,
  ) {
    this.info = {
      streamSid: newSid('MZ'),
      url,
      customParameters,
      received: { media: 0, marks: 0, clears: 0 },
      sent: { media: 0 },
      invalid: [],
      clears: [],
      agentPlayedMs: 0,
      segmentPlayedMs: 0,
      marksEchoed: [],
      closedBy: null,
    };
    this.closed = new Promise((r) => (this.resolveClosed = r));
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN && !this.closingBySim;
  }

  /** Playout buffer state, for the callee's "has the agent finished talking" waits. */
  get bufferedBytes(): number {
    return this.playout.buffered;
  }

  get segmentActive(): boolean {
    return this.playout.segmentActive;
  }

  /** Opens the socket and sends `connected` + `start`; false if the server could not be reached. */
  open(): Promise<boolean> {
    return new Promise((resolve) => {
      const url = this.info.url;
      let ws: WebSocket;
      try {
        // Twilio signs the stream URL exactly as written in the TwiML, with no parameters.
        ws = new WebSocket(url, {
          headers: { 'X-Twilio-Signature': signature(this.ctx.authToken, url, {}) },
          perMessageDeflate: false,
          handshakeTimeout: 5000,
        });
      } catch (e) {
        this.ctx.log('stream-connect-failed', { url, error: (e as Error).message });
        this.info.closedBy = 'sim';
        this.resolveClosed('sim');
        return resolve(false);
      }
      this.ws = ws;
      let opened = false;
      ws.on('open', () => {
        opened = true;
        this.startedAt = performance.now();
        this.sendJson({ event: 'connected', protocol: 'Call', version: '1.0.0' });
        this.sendJson({
          event: 'start',
          sequenceNumber: this.nextSeq(),
          start: {
            accountSid: this.ctx.accountSid,
            streamSid: this.info.streamSid,
            callSid: this.ctx.callSid,
            tracks: ['inbound'],
            mediaFormat: this.ctx.mediaFormat ?? { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
            customParameters: this.info.customParameters,
          },
          streamSid: this.info.streamSid,
        });
        this.ctx.log('stream-started', { streamSid: this.info.streamSid, url });
        resolve(true);
      });
      ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
      ws.on('error', (e) => {
        if (!opened) this.ctx.log('stream-connect-failed', { url, error: e.message });
        else this.ctx.log('stream-error', { streamSid: this.info.streamSid, error: e.message });
      });
      ws.on('close', (code) => {
        if (this.graceTimer) clearTimeout(this.graceTimer);
        const by = this.closingBySim ? 'sim' : 'server';
        if (this.info.closedBy === null) this.info.closedBy = opened ? by : 'sim';
        if (opened) this.ctx.log('stream-closed', { streamSid: this.info.streamSid, by: this.info.closedBy, code });
        this.resolveClosed(this.info.closedBy);
        if (!opened) resolve(false);
      });
    });
  }

  /** One 20 ms step: send the callee's frame, play one frame of agent audio, echo reached marks. */
  tick(calleeFrame: Uint8Array): TickResult {
    if (!this.isOpen) return { frame: new Uint8Array(calleeFrame.length).fill(0xff), played: 0 };
    this.chunk++;
    this.info.sent.media++;
    this.sendJson({
      event: 'media',
      sequenceNumber: this.nextSeq(),
      media: {
        track: 'inbound',
        chunk: String(this.chunk),
        timestamp: String((this.chunk - 1) * 20),
        payload: Buffer.from(calleeFrame).toString('base64'),
      },
      streamSid: this.info.streamSid,
    });
    const r = this.playout.take();
    for (const m of r.marks) this.echoMark(m);
    this.syncCounters();
    return { frame: r.frame, played: r.played };
  }

  sendDtmf(digit: string): void {
    if (!this.isOpen) return;
    this.sendJson({
      event: 'dtmf',
      streamSid: this.info.streamSid,
      sequenceNumber: this.nextSeq(),
      dtmf: { track: 'inbound_track', digit },
    });
  }

  sendRaw(text: string): void {
    if (this.isOpen) this.ws!.send(text);
  }

  /** Orderly end from Twilio's side: `stop`, then a normal close. */
  stop(): Promise<void> {
    if (this.isOpen) {
      this.sendJson({
        event: 'stop',
        sequenceNumber: this.nextSeq(),
        streamSid: this.info.streamSid,
        stop: { accountSid: this.ctx.accountSid, callSid: this.ctx.callSid },
      });
      this.closeBySim(() => this.ws!.close(1000));
    }
    return this.closed.then(() => undefined);
  }

  /** Fault injection: the TCP connection vanishes without a `stop` or a close frame. */
  drop(): Promise<void> {
    if (this.isOpen) {
      this.dropped = true;
      this.closeBySim(() => this.ws!.terminate());
    }
    return this.closed.then(() => undefined);
  }

  /** Hard teardown when the simulator shuts down. */
  destroy(): void {
    if (this.ws && this.ws.readyState !== WebSocket.CLOSED) {
      this.closingBySim = true;
      this.ws.terminate();
    }
    if (!this.ws) this.resolveClosed('sim');
  }

  private closeBySim(close: () => void): void {
    this.closingBySim = true;
    this.info.closedBy = 'sim';
    close();
    // A server that never answers the close handshake must not keep the call alive.
    this.graceTimer = setTimeout(() => this.ws?.terminate(), CLOSE_GRACE_MS);
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8');
    if (isBinary) return this.invalid(text, 'binary frame');
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return this.invalid(text, 'not JSON');
    }
    if (typeof msg !== 'object' || msg === null) return this.invalid(text, 'not an object');
    const m = msg as { event?: unknown; streamSid?: unknown; media?: { payload?: unknown }; mark?: { name?: unknown } };
    if (m.streamSid !== this.info.streamSid) return this.invalid(text, 'wrong or missing streamSid');
    switch (m.event) {
      case 'media': {
        const payload = m.media?.payload;
        if (typeof payload !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(payload)) {
          return this.invalid(text, 'media without a base64 payload');
        }
        const bytes = Buffer.from(payload, 'base64');
        this.info.received.media++;
        this.playout.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
        this.ctx.onAgentBytes(bytes.length);
        return;
      }
      case 'mark': {
        const name = m.mark?.name;
        if (typeof name !== 'string') return this.invalid(text, 'mark without a name');
        this.info.received.marks++;
        if (this.playout.mark(name)) this.echoMark(name);
        return;
      }
      case 'clear': {
        this.info.received.clears++;
        const r = this.playout.clear();
        const rec = {
          atMs: Math.round(performance.now() - this.startedAt),
          segmentPlayedMs: r.segmentPlayedBytes / 8,
          playedMs: this.playout.totalPlayedBytes / 8,
          droppedMs: r.droppedBytes / 8,
        };
        this.info.clears.push(rec);
        this.ctx.log('clear', { streamSid: this.info.streamSid, ...rec, marks: r.marks });
        for (const name of r.marks) this.echoMark(name);
        this.syncCounters();
        return;
      }
      default:
        return this.invalid(text, `unsupported event ${JSON.stringify(m.event)}`);
    }
  }

  private echoMark(name: string): void {
    if (!this.isOpen) return;
    this.sendJson({ event: 'mark', sequenceNumber: this.nextSeq(), streamSid: this.info.streamSid, mark: { name } });
    this.info.marksEchoed.push(name);
    this.ctx.log('mark-echoed', { streamSid: this.info.streamSid, name });
  }

  private invalid(raw: string, reason: string): void {
    // 31951 is Twilio's "Stream - Protocol - Invalid Message"; the stream stays up, as on Twilio.
    this.info.invalid.push(raw);
    this.ctx.log('stream-invalid-message', { streamSid: this.info.streamSid, code: 31951, reason, raw: raw.slice(0, 500) });
  }

  private syncCounters(): void {
    this.info.agentPlayedMs = this.playout.totalPlayedBytes / 8;
    this.info.segmentPlayedMs = this.playout.segmentPlayedBytes / 8;
  }

  private nextSeq(): string {
    return String(++this.seq);
  }

  private sendJson(msg: unknown): void {
    this.ws!.send(JSON.stringify(msg));
  }
}
