/**
 * Test double of the product's Twilio-facing side: an HTTP server for webhooks and a WebSocket
 * server for Media Streams on 127.0.0.1, recording everything and checking every signature with
 * the official twilio helper, so the simulator is judged by the same code the product uses.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import { validateRequest } from 'twilio/lib/webhooks/webhooks.js';

export interface Hit {
  at: number;
  method: string;
  path: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  params: Record<string, string>;
  signatureValid: boolean;
  status: number;
}

export interface Reply {
  status?: number;
  body?: string;
  contentType?: string;
}

type Route = (hit: Hit) => Reply | Promise<Reply>;

export class FakeSocket {
  readonly messages: Array<Record<string, any> & { at: number }> = [];
  readonly raw: string[] = [];
  closedAt: number | null = null;
  closeCode: number | null = null;
  private listeners: Array<() => void> = [];

  constructor(
    readonly ws: WebSocket,
    readonly path: string,
    readonly signatureValid: boolean,
  ) {
    ws.on('message', (data) => {
      const text = data.toString();
      this.raw.push(text);
      this.messages.push({ ...JSON.parse(text), at: performance.now() });
      this.notify();
    });
    ws.on('close', (code) => {
      this.closedAt = performance.now();
      this.closeCode = code;
      this.notify();
    });
  }

  get streamSid(): string {
    return this.messages.find((m) => m.event === 'start')?.streamSid;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** Sends agent audio as Twilio-style media messages in 20 ms-sized chunks (all at once). */
  sendAudio(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i += 160) {
      this.send({
        event: 'media',
        streamSid: this.streamSid,
        media: { payload: Buffer.from(bytes.subarray(i, i + 160)).toString('base64') },
      });
    }
  }

  events(name: string): Array<Record<string, any> & { at: number }> {
    return this.messages.filter((m) => m.event === name);
  }

  waitFor<T>(check: () => T | undefined | false | null, timeoutMs = 5000, what = 'condition'): Promise<T> {
    return new Promise((resolve, reject) => {
      const done = (): boolean => {
        const v = check();
        if (v) {
          clearTimeout(timer);
          this.listeners = this.listeners.filter((l) => l !== listener);
          resolve(v);
          return true;
        }
        return false;
      };
      const listener = (): void => void done();
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== listener);
        reject(new Error(`socket: timed out waiting for ${what}`));
      }, timeoutMs);
      if (!done()) this.listeners.push(listener);
    });
  }

  waitEvent(name: string, pred: (m: Record<string, any>) => boolean = () => true, timeoutMs = 5000) {
    return this.waitFor(() => this.messages.find((m) => m.event === name && pred(m)), timeoutMs, `event ${name}`);
  }

  waitClosed(timeoutMs = 5000): Promise<number> {
    return this.waitFor(() => (this.closedAt !== null ? this.closedAt : null), timeoutMs, 'close');
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}

export class FakeProduct {
  readonly hits: Hit[] = [];
  readonly sockets: FakeSocket[] = [];
  routes = new Map<string, Route>();
  url = '';
  wsUrl = '';
  onSocket: (s: FakeSocket) => void = () => undefined;
  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  private readonly wss = new WebSocketServer({ noServer: true });
  private listeners: Array<() => void> = [];

  constructor(private readonly authToken: string) {
    this.server.on('upgrade', (req, socket, head) => {
      const path = req.url ?? '/';
      const sig = String(req.headers['x-twilio-signature'] ?? '');
      const valid = validateRequest(this.authToken, sig, `${this.wsUrl}${path}`, {});
      if (path.startsWith('/reject')) {
        socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const s = new FakeSocket(ws, path, valid);
        this.sockets.push(s);
        this.onSocket(s);
        this.notify();
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    const port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${port}`;
    this.wsUrl = `ws://127.0.0.1:${port}`;
    return this;
  }

  /** TwiML that connects the call to a stream on this server. */
  streamTwiml(path = '/media', params: Record<string, string> = {}, after = ''): string {
    const p = Object.entries(params)
      .map(([k, v]) => `<Parameter name="${k}" value="${v}"/>`)
      .join('');
    return `<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="${this.wsUrl}${path}">${p}</Stream></Connect>${after}</Response>`;
  }

  hitsTo(path: string): Hit[] {
    return this.hits.filter((h) => h.path === path);
  }

  waitHit(pred: (h: Hit) => boolean, timeoutMs = 5000, what = 'webhook'): Promise<Hit> {
    return this.waitFor(() => this.hits.find(pred), timeoutMs, what);
  }

  waitSocket(index = 0, timeoutMs = 5000): Promise<FakeSocket> {
    return this.waitFor(() => this.sockets[index], timeoutMs, `socket #${index}`);
  }

  waitFor<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const listener = (): void => {
        const v = check();
        if (v !== undefined) {
          clearTimeout(timer);
          this.listeners = this.listeners.filter((l) => l !== listener);
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== listener);
        reject(new Error(`product: timed out waiting for ${what}`));
      }, timeoutMs);
      this.listeners.push(listener);
      listener();
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.ws.terminate();
    this.wss.close();
    await new Promise<void>((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0];
    const params = Object.fromEntries(new URLSearchParams(body));
    const sig = String(req.headers['x-twilio-signature'] ?? '');
    const hit: Hit = {
      at: performance.now(),
      method: req.method ?? '',
      path,
      url: `${this.url}${req.url}`,
      headers: req.headers,
      params,
      signatureValid: validateRequest(this.authToken, sig, `${this.url}${req.url}`, params),
      status: 200,
    };
    const route = this.routes.get(path);
    const reply: Reply = route ? await route(hit) : { status: 200, body: '' };
    hit.status = reply.status ?? 200;
    this.hits.push(hit);
    res.writeHead(hit.status, { 'Content-Type': reply.contentType ?? 'text/xml' });
    res.end(reply.body ?? '');
    this.notify();
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}
