/**
 * One call as Twilio plays it to the bridge under test, after the bridge's `POST Calls.json`: signed
 * status callbacks (initiated, ringing, in-progress), the TwiML fetch, the signed Media Stream upgrade
 * with the TwiML's <Parameter>s, the async AMD verdict (human), then a tagged 20 ms caller frame every
 * 20 ms (silence, or the line's noise around the tag: line-noise.ts) and a playout buffer for the bridge's audio that echoes each mark only when playback reaches it
 * (test/sim/twilio/playout.ts, the Twilio simulator's own). The callee hangs up with `stop` and the
 * `completed` callback; a `clear` drops the buffer and releases pending marks, as Twilio does.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { signature } from '../../test/sim/twilio/webhooks.js';
import { Playout } from '../../test/sim/twilio/playout.js';
import type { FrameReceiver, FrameSender } from './frame-log.js';
import { monoUs, TagScanner } from './tag.js';
import type { FrameTicker } from './ticker.js';
import type { LineNoise } from './line-noise.js';

const FRAME_BYTES = 160;

/** Where one call's life stood, in monoUs (0: not reached). */
export interface CallTimes {
  call: number;
  postUs: number;
  /** The first tagged agent frame reached the callee: the call is set up. */
  streamingUs: number;
  hangupUs: number;
  /** Stream closed and `completed` callback answered. */
  endDoneUs: number;
  endedByServer: boolean;
  clears: number;
  marksEchoed: number;
  error?: string;
}

export interface CarrierContext {
  accountSid: string;
  authToken: string;
  ticker: FrameTicker;
  inbound: FrameSender;
  outbound: FrameReceiver;
  /** The callee's line (--line-noise): noise around each caller frame's tag; none: exact silence. */
  lineNoise?: LineNoise;
}

const hex = (n: number) => randomBytes(n).toString('hex');

export class CarrierCall {
  readonly sid = 'CA' + hex(16);
  private readonly streamSid = 'MZ' + hex(16);
  private ws?: WebSocket;
  private readonly playout = new Playout();
  private readonly scanner = new TagScanner();
  private untick?: () => void;
  private answeredAtMs = 0;
  private wsClosed = false;
  private callbackDone = false;
  private onEndDone?: () => void;
  readonly ended: Promise<void>;

  constructor(
    readonly times: CallTimes,
    private readonly params: Record<string, string>,
    private readonly ctx: CarrierContext,
  ) {
    this.ended = new Promise((r) => (this.onEndDone = r));
  }

  private get base() {
    return { CallSid: this.sid, AccountSid: this.ctx.accountSid, From: this.params.From, To: this.params.To, Direction: 'outbound-api' };
  }

  private async webhook(url: string | undefined, params: Record<string, string>): Promise<string> {
    if (!url) throw new Error('the bridge gave no URL for this webhook');
    const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature(this.ctx.authToken, url, params) }, body: new URLSearchParams(params).toString() });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`webhook ${new URL(url).pathname} -> ${r.status} ${text.slice(0, 200)}`);
    return text;
  }

  async run(): Promise<void> {
    const p = this.params;
    // A call hung up while it is still being set up (a short churn life on a slow machine) goes no further.
    for (const CallStatus of ['initiated', 'ringing']) await this.webhook(p.StatusCallback, { ...this.base, CallStatus });
    if (this.times.hangupUs) return;
    const twiml = await this.webhook(p.Url, { ...this.base, CallStatus: 'in-progress' });
    this.answeredAtMs = Date.now();
    await this.webhook(p.StatusCallback, { ...this.base, CallStatus: 'in-progress' });
    if (this.times.hangupUs) return;
    const streamUrl = /<Stream[^>]*\surl="([^"]+)"/.exec(twiml)?.[1];
    if (!streamUrl) throw new Error(`no <Stream url> in the TwiML: ${twiml.slice(0, 200)}`);
    const custom: Record<string, string> = {};
    for (const m of twiml.matchAll(/<Parameter name="([^"]+)" value="([^"]*)"\s*\/>/g)) custom[m[1]] = m[2].replace(/&amp;/g, '&').replace(/&quot;/g, '"');
    const ws = new WebSocket(streamUrl.replace(/&amp;/g, '&'), { headers: { 'X-Twilio-Signature': signature(this.ctx.authToken, streamUrl, {}) } });
    this.ws = ws;
    await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));
    ws.on('error', () => undefined);
    if (this.times.hangupUs) return void ws.close(1000);
    ws.on('message', (data) => this.onMessage(String(data)));
    ws.on('close', () => {
      this.wsClosed = true;
      if (!this.times.hangupUs) {
        this.times.error ??= 'the bridge closed the media stream';
        this.times.endedByServer = true;
        void this.hangup();
      }
      this.checkEnd();
    });
    const streamSid = this.streamSid;
    ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    ws.send(JSON.stringify({ event: 'start', sequenceNumber: '1', streamSid, start: { streamSid, accountSid: this.ctx.accountSid, callSid: this.sid, tracks: ['inbound'], customParameters: custom, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } }));
    let seq = 2;
    let chunk = 0;
    const t0 = Date.now();
    this.untick = this.ctx.ticker.add((lateMs) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      const frame = Buffer.alloc(FRAME_BYTES, 0xff);
      this.ctx.inbound.stamp(frame, this.times.call, lateMs);
      chunk++;
      this.ctx.lineNoise?.fill(frame, this.times.call, chunk);
      ws.send(`{"event":"media","sequenceNumber":"${seq++}","media":{"track":"inbound","chunk":"${chunk}","timestamp":"${Date.now() - t0}","payload":"${frame.toString('base64')}"},"streamSid":"${streamSid}"}`);
      for (const name of this.playout.take().marks) this.echo(name);
    });
    await this.webhook(p.AsyncAmdStatusCallback, { ...this.base, AnsweredBy: 'human', MachineDetectionDuration: '600' });
  }

  private echo(name: string): void {
    this.times.marksEchoed++;
    this.ws?.send(`{"event":"mark","sequenceNumber":"0","streamSid":"${this.streamSid}","mark":{"name":${JSON.stringify(name)}}}`);
  }

  // The bridge's messages are compact JSON; the common ones are told apart without a full parse, so the
  // load generator's own cost (and jitter) stays small. Anything else is parsed.
  private onMessage(raw: string): void {
    if (raw.includes('"event":"media"')) {
      const at = raw.indexOf('"payload":"') + 11;
      const audio = Buffer.from(raw.slice(at, raw.indexOf('"', at)), 'base64');
      this.scanner.scan(audio, this.tagged);
      this.playout.push(audio);
    } else if (raw.includes('"event":"mark"')) {
      const name = (JSON.parse(raw) as { mark?: { name?: string } }).mark?.name;
      if (name !== undefined && this.playout.mark(name)) this.echo(name);
    } else if (raw.includes('"event":"clear"')) {
      this.times.clears++;
      for (const name of this.playout.clear().marks) this.echo(name);
    }
  }

  private readonly tagged = (tag: Parameters<FrameReceiver['take']>[0]) => {
    if (!this.times.streamingUs) this.times.streamingUs = monoUs();
    this.ctx.outbound.take(tag);
  };

  /** The callee hangs up (or the bridge ended the call): `stop`, close, then the `completed` callback. */
  async hangup(): Promise<void> {
    if (this.times.hangupUs) return;
    this.times.hangupUs = monoUs();
    this.untick?.();
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ event: 'stop', sequenceNumber: '0', streamSid: this.streamSid, stop: { accountSid: this.ctx.accountSid, callSid: this.sid } }));
      ws.close(1000);
    } else this.wsClosed = true;
    const duration = this.answeredAtMs ? Math.round((Date.now() - this.answeredAtMs) / 1000) : 0;
    try {
      await this.webhook(this.params.StatusCallback, { ...this.base, CallStatus: 'completed', CallDuration: String(duration) });
    } catch (err) {
      this.times.error ??= String(err);
    }
    this.callbackDone = true;
    this.checkEnd();
  }

  /** A call that never got going: its end is now. */
  abandon(error: string): void {
    this.times.error ??= error;
    void this.hangup();
    this.wsClosed = true;
    this.checkEnd();
  }

  private checkEnd(): void {
    if (this.times.endDoneUs || !this.wsClosed || !this.callbackDone) return;
    this.times.endDoneUs = monoUs();
    this.onEndDone?.();
  }
}
