/**
 * HTTP listener and WebSocket upgrade. Authentication and URL checks happen before the upgrade, as with the
 * real endpoint, so a misconfigured client sees an HTTP status, never a WebSocket session.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { defaultScenario } from './scenario.js';
import { SimSession, type SessionSettings } from './session.js';
import type { OpenAIRealtimeSimOptions, RealtimeScenario } from './types.js';

const PATH = '/v1/realtime';

export interface RejectedUpgrade {
  status: number;
  code: string;
  url: string;
}

function apiError(message: string, code: string, param: string | null = null) {
  return { error: { message, type: 'invalid_request_error', param, code } };
}

export class RealtimeSimServer {
  readonly sessions: SimSession[] = [];
  readonly rejectedUpgrades: RejectedUpgrade[] = [];
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private readonly settings: SessionSettings;
  private readonly scenarioFor: (sessionIndex: number) => RealtimeScenario;
  private readonly sessionListeners = new Set<() => void>();
  private port = 0;

  constructor(private readonly opts: OpenAIRealtimeSimOptions) {
    if (!opts.apiKey) throw new Error('startOpenAIRealtimeSim: apiKey is required');
    this.scenarioFor = opts.scenario ?? (() => defaultScenario());
    this.settings = {
      pacing: opts.pacing ?? 'burst',
      deltaMs: opts.deltaMs ?? 100,
      msPerChar: opts.msPerChar ?? 60,
      vadRmsThreshold: opts.vadRmsThreshold ?? 600,
      vadMinSpeechMs: opts.vadMinSpeechMs ?? 60,
      cancelLatencyMs: opts.cancelLatencyMs ?? 0,
      log: opts.log ?? (() => {}),
    };
    this.http = createServer((req, res) => {
      // Plain HTTP to the WebSocket endpoint: the real edge answers 426-ish errors; tests only need "not a session".
      const body = JSON.stringify(apiError('This endpoint only accepts WebSocket upgrades.', 'upgrade_required'));
      res.writeHead(req.url?.startsWith(PATH) ? 426 : 404, { 'content-type': 'application/json' }).end(body);
    });
    this.http.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}${PATH}`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.opts.port ?? 0, '127.0.0.1', () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const addr = this.http.address();
    if (addr && typeof addr === 'object') this.port = addr.port;
  }

  onSessionsChanged(listener: () => void): () => void {
    this.sessionListeners.add(listener);
    return () => this.sessionListeners.delete(listener);
  }

  async close(): Promise<void> {
    // Polite close first so a product under test sees a normal shutdown, then force whatever is left.
    const open = this.sessions.map(async (s) => {
      s.disconnect(1001, 'simulator shutting down');
      const timer = new Promise<'timeout'>((r) => {
        const t = setTimeout(() => r('timeout'), 250);
        void s.closed.then(() => clearTimeout(t));
      });
      if ((await Promise.race([s.closed, timer])) === 'timeout') s.drop();
      await s.closed;
    });
    await Promise.all(open);
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private reject(socket: Duplex, req: IncomingMessage, status: number, body: ReturnType<typeof apiError>): void {
    this.rejectedUpgrades.push({ status, code: body.error.code, url: req.url ?? '' });
    const text = JSON.stringify(body);
    const reason = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found' }[status] ?? 'Error';
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
      () => socket.destroy(),
    );
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== PATH) {
      this.reject(socket, req, 404, apiError(`Invalid URL (GET ${url.pathname})`, 'not_found'));
      return;
    }
    const auth = req.headers.authorization;
    if (auth !== `Bearer ${this.opts.apiKey}`) {
      const message = auth
        ? 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.'
        : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
      this.reject(socket, req, 401, apiError(message, 'invalid_api_key'));
      return;
    }
    const model = url.searchParams.get('model');
    if (!model) {
      this.reject(socket, req, 400, apiError("Missing required parameter: 'model'.", 'missing_required_parameter', 'model'));
      return;
    }
    // The beta header switches the real server to the beta protocol, whose event names differ; this simulator
    // only speaks GA, so accepting it would test the product against the wrong protocol.
    const beta = req.headers['openai-beta'];
    if (typeof beta === 'string' && beta.includes('realtime=v1')) {
      this.reject(socket, req, 400, apiError("The simulator only speaks the GA Realtime protocol; drop the 'OpenAI-Beta: realtime=v1' header.", 'beta_protocol_not_simulated'));
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const index = this.sessions.length;
      const session = new SimSession(index, ws, model, req.headers, this.scenarioFor(index), this.settings, socket);
      this.sessions.push(session);
      for (const l of [...this.sessionListeners]) l();
    });
  }
}
