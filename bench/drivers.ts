/**
 * Lean load drivers for the concurrent-call benchmark. They speak the same wire protocols as the
 * simulators in test/sim (Twilio REST + signed webhooks + Media Streams; OpenAI Realtime) but do only
 * what a measurement needs, so that the driver's own cost stays small next to the server's.
 *
 * Every audio frame carries a 32-bit id in its first bytes; the receiving driver looks up when that id
 * was sent, which gives the server's added latency per frame in each direction (same clock, same
 * process). Mu-law passes through the server untouched on the OpenAI path, so the id survives.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import WebSocket, { WebSocketServer } from 'ws';
import twilio from 'twilio';

export const FRAME_BYTES = 160;
export const FRAME_MS = 20;

/**
 * Send times live in shared memory so that the two drivers can run on their own threads: the side that
 * sends a frame writes its time in a slot, the side that receives it reads the same slot. Times are
 * `timeOrigin + now()`, which both threads share.
 *
 * On the mu-law path the server passes audio through untouched, so each frame carries its slot number in
 * its first bytes. On the Gemini path the audio is resampled and no bytes survive; there every 20 ms in
 * still gives exactly one 20 ms message out, in order, so the n-th frame sent on a call is the n-th
 * received on it, and the slot is (call, n).
 */
export const SLOTS_PER_CALL = 1 << 13;
export const MAX_CALLS = 256;
const RING = SLOTS_PER_CALL * MAX_CALLS;

export interface SharedMeter {
  /** [0]: recording flag; [1..2]: sent counts (inbound, outbound) while recording. */
  control: Int32Array;
  inboundSentAt: Float64Array;
  outboundSentAt: Float64Array;
}

export function createSharedMeter(): SharedMeter {
  return {
    control: new Int32Array(new SharedArrayBuffer(4 * 4)),
    inboundSentAt: new Float64Array(new SharedArrayBuffer(8 * RING)),
    outboundSentAt: new Float64Array(new SharedArrayBuffer(8 * RING)),
  };
}

const now = () => performance.timeOrigin + performance.now();

/** One direction of traffic as seen by one driver: it stamps what it sends or times what it receives. */
export class DirectionMeter {
  private nextId = 1;
  private readonly ordinals = new Uint32Array(MAX_CALLS);
  received = 0;
  latenciesMs: number[] = [];

  constructor(private readonly shared: SharedMeter, private readonly dir: 'inbound' | 'outbound') {}

  private get ring() {
    return this.dir === 'inbound' ? this.shared.inboundSentAt : this.shared.outboundSentAt;
  }

  private mark(slot: number): void {
    // Negative times mark frames sent outside the measured window.
    const recording = Atomics.load(this.shared.control, 0) === 1;
    this.ring[slot] = recording ? now() : -1;
    if (recording) Atomics.add(this.shared.control, this.dir === 'inbound' ? 1 : 2, 1);
  }

  private take(slot: number): void {
    const t = this.ring[slot];
    if (t > 0) {
      this.ring[slot] = 0;
      this.received++;
      this.latenciesMs.push(now() - t);
    }
  }

  /** Mu-law path: the slot travels inside the frame. */
  stamp(frame: Buffer): void {
    let id = this.nextId++ % RING;
    if (id === 0) id = this.nextId++ % RING;
    writeTag(frame, id);
    this.mark(id);
  }

  receive(frame: Buffer): void {
    const id = readTag(frame);
    if (id > 0 && id < RING) this.take(id);
  }

  /** Transcoded path: the n-th frame of a call. */
  stampOrdinal(call: number): void {
    this.mark(call * SLOTS_PER_CALL + (this.ordinals[call]++ % SLOTS_PER_CALL));
  }

  receiveOrdinal(call: number): void {
    this.take(call * SLOTS_PER_CALL + (this.ordinals[call]++ % SLOTS_PER_CALL));
  }
}

const hex = (n: number) => randomBytes(n).toString('hex');

/**
 * The id as 8 mu-law bytes of the quietest segment (0xF0 | nibble: at most 120 of 32767), so a tagged
 * frame of silence stays silence to the server's sound classifier. Written as 4 raw bytes, the id was a
 * full-scale click every 20 ms: a 50 Hz buzz the hold detector took for music, and after 3 s it put the
 * call on hold (agent cut, caller audio no longer sent to the engine), which lost frames in both directions.
 */
const TAG_BYTES = 8;
function writeTag(frame: Buffer, id: number): void {
  for (let i = 0; i < TAG_BYTES; i++) frame[i] = 0xf0 | ((id >>> (28 - 4 * i)) & 0xf);
}
function readTag(frame: Buffer): number {
  if (frame.length < TAG_BYTES) return 0;
  let id = 0;
  for (let i = 0; i < TAG_BYTES; i++) {
    if ((frame[i]! & 0xf0) !== 0xf0) return 0;
    id = id * 16 + (frame[i]! & 0xf);
  }
  return id;
}

/** Each call's frames start at a staggered phase, then repeat at a fixed interval until stopped. */
class FrameClock {
  private readonly timers = new Set<NodeJS.Timeout>();
  stopped = false;

  every20ms(phaseMs: number, tick: () => void): void {
    this.every(FRAME_MS, phaseMs, tick);
  }

  every(intervalMs: number, phaseMs: number, tick: () => void): void {
    const start = setTimeout(() => this.timers.add(setInterval(() => !this.stopped && tick(), intervalMs)), phaseMs);
    this.timers.add(start);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
  }
}

// ---------------------------------------------------------------------------------------------
/** A Twilio stand-in: Calls API, signed webhooks and one Media Stream per call, frames every 20 ms. */
export interface TwilioDriverOptions {
  accountSid: string;
  authToken: string;
  send: DirectionMeter;
  recv: DirectionMeter;
  staggerMs: () => number;
  /** Match frames by their order on the call (transcoded path) instead of by an id inside them. */
  ordinal: boolean;
}

/** Bench calls dial +1415555NNNN, NNNN = 1000 + the call's index, so both drivers can tell calls apart. */
export const benchNumber = (i: number) => `+1415555${String(1000 + i)}`;
const callIndexOf = (to: string) => Number(to.slice(-4)) - 1000;

export class TwilioDriver {
  readonly url: string;
  private readonly server: http.Server;
  private readonly sockets = new Set<WebSocket>();
  private readonly clock = new FrameClock();
  streaming = 0;
  callsCreated = 0;
  errors: string[] = [];

  private constructor(server: http.Server, private readonly o: TwilioDriverOptions) {
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  static async start(o: TwilioDriverOptions): Promise<TwilioDriver> {
    let driver!: TwilioDriver;
    const server = http.createServer((req, res) => driver.handle(req, res));
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    driver = new TwilioDriver(server, o);
    return driver;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(body));
      const url = req.url ?? '';
      if (req.method === 'POST' && /\/Calls\.json$/.test(url)) {
        const sid = 'CA' + hex(16);
        this.callsCreated++;
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ sid, status: 'queued', to: params.To, from: params.From, price: null, price_unit: 'USD' }));
        void this.runCall(sid, params).catch((err) => this.errors.push(String(err)));
        return;
      }
      const m = /\/Calls\/(CA[0-9a-f]{32})\.json$/.exec(url);
      if (m) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ sid: m[1], status: 'completed', price: null, price_unit: 'USD', duration: null }));
        return;
      }
      res.writeHead(404).end('{}');
    });
  }

  private async webhook(url: string, params: Record<string, string>): Promise<string> {
    const signature = twilio.getExpectedTwilioSignature(this.o.authToken, url, params);
    const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature }, body: new URLSearchParams(params).toString() });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`webhook ${new URL(url).pathname} -> ${r.status} ${text}`);
    return text;
  }

  private async runCall(sid: string, p: Record<string, string>): Promise<void> {
    const call = callIndexOf(p.To);
    const base = { CallSid: sid, AccountSid: this.o.accountSid, From: p.From, To: p.To, Direction: 'outbound-api' };
    for (const CallStatus of ['initiated', 'ringing']) await this.webhook(p.StatusCallback, { ...base, CallStatus });
    const twiml = await this.webhook(p.Url, { ...base, CallStatus: 'in-progress' });
    await this.webhook(p.StatusCallback, { ...base, CallStatus: 'in-progress' });
    const streamUrl = /<Stream url="([^"]+)"/.exec(twiml)![1];
    const custom: Record<string, string> = {};
    for (const mm of twiml.matchAll(/<Parameter name="([^"]+)" value="([^"]+)"\/>/g)) custom[mm[1]] = mm[2];
    const ws = new WebSocket(streamUrl, { headers: { 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(this.o.authToken, streamUrl, {}) } });
    this.sockets.add(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const streamSid = 'MZ' + hex(16);
    ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    ws.send(JSON.stringify({ event: 'start', sequenceNumber: '1', streamSid, start: { streamSid, accountSid: this.o.accountSid, callSid: sid, tracks: ['inbound'], customParameters: custom, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } }));
    let gotAudio = false;
    // The server's own frame layout is known (see media-stream.ts), so the driver slices strings instead
    // of parsing JSON: the cheaper the driver, the less of its own jitter ends up in the measurement.
    ws.on('message', (data) => {
      const raw = String(data);
      if (raw.startsWith('{"event":"media"')) {
        if (!gotAudio) {
          gotAudio = true;
          this.streaming++;
        }
        if (this.o.ordinal) this.o.recv.receiveOrdinal(call);
        else {
          const at = raw.indexOf('"payload":"') + 11;
          this.o.recv.receive(Buffer.from(raw.slice(at, raw.indexOf('"', at)), 'base64'));
        }
      } else if (raw.startsWith('{"event":"mark"')) {
        // Playback is not modelled: echo at once, which keeps the server's playout bookkeeping short.
        const at = raw.indexOf('"name":"') + 8;
        ws.send(`{"event":"mark","sequenceNumber":"0","streamSid":"${streamSid}","mark":{"name":"${raw.slice(at, raw.indexOf('"', at))}"}}`);
      }
    });
    await this.webhook(p.AsyncAmdStatusCallback, { ...base, AnsweredBy: 'human', MachineDetectionDuration: '600' });
    let seq = 2;
    let chunk = 0;
    const t0 = performance.now();
    const sendFrame = () => {
      if (ws.readyState !== WebSocket.OPEN) return;
      const frame = Buffer.alloc(FRAME_BYTES, 0xff);
      if (this.o.ordinal) this.o.send.stampOrdinal(call);
      else this.o.send.stamp(frame);
      chunk++;
      ws.send(`{"event":"media","sequenceNumber":"${seq++}","media":{"track":"inbound","chunk":"${chunk}","timestamp":"${Math.round(performance.now() - t0)}","payload":"${frame.toString('base64')}"},"streamSid":"${streamSid}"}`);
    };
    this.clock.every20ms(this.o.staggerMs(), sendFrame);
  }

  stopSending(): void {
    this.clock.stop();
  }

  async close(): Promise<void> {
    this.stopSending();
    for (const ws of this.sockets) ws.terminate();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

// ---------------------------------------------------------------------------------------------
/** An OpenAI Realtime stand-in: once asked for a response, it speaks without pause, 20 ms per delta, in real time. */
export class RealtimeDriver {
  readonly url: string;
  private readonly wss: WebSocketServer;
  private readonly clock = new FrameClock();
  sessions = 0;

  private constructor(wss: WebSocketServer, port: number, private readonly o: { send: DirectionMeter; recv: DirectionMeter; staggerMs: () => number }) {
    this.wss = wss;
    this.url = `ws://127.0.0.1:${port}/v1/realtime`;
    wss.on('connection', (ws) => this.session(ws));
  }

  static async start(o: { send: DirectionMeter; recv: DirectionMeter; staggerMs: () => number }): Promise<RealtimeDriver> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    return new RealtimeDriver(wss, (wss.address() as { port: number }).port, o);
  }

  private session(ws: WebSocket): void {
    this.sessions++;
    let n = 0;
    const ev = (o: object) => ws.send(JSON.stringify({ event_id: `ev_${n++}`, ...o }));
    ev({ type: 'session.created', session: { type: 'realtime', id: 'sess_' + hex(8) } });
    ws.on('message', (data) => {
      const raw = String(data);
      if (raw.startsWith('{"type":"input_audio_buffer.append"')) {
        const b64 = raw.slice(raw.indexOf('"audio":"') + 9, raw.lastIndexOf('"'));
        this.o.recv.receive(Buffer.from(b64, 'base64'));
        return;
      }
      const msg = JSON.parse(raw);
      if (msg.type === 'session.update') ev({ type: 'session.updated', session: msg.session });
      else if (msg.type === 'response.create') this.speak(ws, ev);
    });
    ws.on('close', () => undefined);
  }

  private speak(ws: WebSocket, ev: (o: object) => void): void {
    const responseId = 'resp_' + hex(8);
    const itemId = 'item_' + hex(8);
    ev({ type: 'response.created', response: { id: responseId, status: 'in_progress' } });
    this.clock.every20ms(this.o.staggerMs(), () => {
      if (ws.readyState !== WebSocket.OPEN) return;
      const frame = Buffer.alloc(FRAME_BYTES, 0x7f);
      this.o.send.stamp(frame);
      ws.send(`{"type":"response.output_audio.delta","event_id":"e","response_id":"${responseId}","item_id":"${itemId}","output_index":0,"content_index":0,"delta":"${frame.toString('base64')}"}`);
    });
  }

  stopSending(): void {
    this.clock.stop();
  }

  async close(): Promise<void> {
    this.stopSending();
    for (const c of this.wss.clients) c.terminate();
    await new Promise((r) => this.wss.close(r));
  }
}

// ---------------------------------------------------------------------------------------------
/**
 * A Gemini Live stand-in: after setup, once greeted (clientContent), it speaks without pause in chunks
 * of 24 kHz PCM16 at real-time pace, and never finishes its turn. Gemini's chunks vary in size; 40 ms is
 * used here (each becomes one 40 ms media message with its mark, so frames still match by order).
 */
export const GEMINI_CHUNK_MS = 40;
export class GeminiDriver {
  readonly url: string;
  private readonly wss: WebSocketServer;
  private readonly clock = new FrameClock();
  sessions = 0;

  private constructor(wss: WebSocketServer, port: number, private readonly o: { send: DirectionMeter; recv: DirectionMeter; staggerMs: () => number }) {
    this.wss = wss;
    this.url = `http://127.0.0.1:${port}`;
    wss.on('connection', (ws) => this.session(ws));
  }

  static async start(o: { send: DirectionMeter; recv: DirectionMeter; staggerMs: () => number }): Promise<GeminiDriver> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    return new GeminiDriver(wss, (wss.address() as { port: number }).port, o);
  }

  private session(ws: WebSocket): void {
    this.sessions++;
    let call = -1;
    let speaking = false;
    // A speech-like 24 kHz signal (so the resampler does real work).
    const samples = 24 * GEMINI_CHUNK_MS;
    const chunk = Buffer.alloc(2 * samples);
    for (let i = 0; i < samples; i++) chunk.writeInt16LE(Math.round(6000 * Math.sin((2 * Math.PI * 220 * i) / 24000) + 2000 * Math.sin((2 * Math.PI * 1800 * i) / 24000)), i * 2);
    const b64 = chunk.toString('base64');
    ws.on('message', (data) => {
      const raw = String(data);
      if (raw.startsWith('{"realtimeInput"')) {
        if (call >= 0) this.o.recv.receiveOrdinal(call);
        return;
      }
      const msg = JSON.parse(raw);
      if (msg.setup) {
        const text: string = msg.setup.systemInstruction?.parts?.[0]?.text ?? '';
        call = Number(/Benchmark call (\d+)\./.exec(text)?.[1] ?? -1);
        ws.send(JSON.stringify({ setupComplete: {} }));
      } else if (msg.clientContent && !speaking) {
        speaking = true;
        this.clock.every(GEMINI_CHUNK_MS, this.o.staggerMs(), () => {
          if (ws.readyState !== WebSocket.OPEN || call < 0) return;
          this.o.send.stampOrdinal(call);
          ws.send(`{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm;rate=24000","data":"${b64}"}}]}}}`);
        });
      }
    });
  }

  stopSending(): void {
    this.clock.stop();
  }

  async close(): Promise<void> {
    this.stopSending();
    for (const c of this.wss.clients) c.terminate();
    await new Promise((r) => this.wss.close(r));
  }
}
