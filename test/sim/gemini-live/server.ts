/**
 * HTTP listener, WebSocket upgrade, authentication, and the registry of conversations and resumption
 * handles. A wrong path is refused at HTTP level (404) as Google's front end does; a bad key is, by
 * default, accepted and then closed, which is what the Live endpoint does.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { SimConnection, type ConnectionHost } from './connection.js';
import { CLOSE_GOING_AWAY, CLOSE_INVALID, CLOSE_POLICY, ProtocolError, REASON_BAD_KEY, REASON_NO_KEY, closeReason } from './protocol.js';
import type { Setup } from './schemas.js';
import { GeminiSimSession, type ResumeSnapshot, type SessionHost, type SessionSettings } from './session.js';
import type { GeminiLiveSimOptions, GeminiScenario, RejectedConnection } from './types.js';

/** `//ws/...` too: the SDK joins a base URL that ends in '/' with a path that starts with one. */
const PATH_RE = /^\/+ws\/google\.ai\.generativelanguage\.(v1|v1beta|v1alpha)\.GenerativeService\.BidiGenerateContent$/;
export const WS_PATH = '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent';

export function defaultScenario(): GeminiScenario {
  return {
    turns: [
      { say: 'Hello! This is your assistant. How can I help you today?' },
      { say: 'Sure, I can help with that.' },
      { say: 'Thank you, that is all I needed. Have a great day!' },
    ],
  };
}

function googleError(code: number, status: string, message: string, reason?: string) {
  const error: Record<string, unknown> = { code, message, status };
  if (reason) error.details = [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'googleapis.com' }];
  return { error };
}

export class GeminiSimServer implements ConnectionHost, SessionHost {
  readonly sessions: GeminiSimSession[] = [];
  readonly rejected: RejectedConnection[] = [];
  /** Upgrades accepted with a valid key, whatever happened next. */
  connectionCount = 0;
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private readonly settings: SessionSettings;
  private readonly frames: 'binary' | 'text';
  private readonly scenarioFor: (sessionIndex: number) => GeminiScenario;
  private readonly live = new Set<SimConnection>();
  private readonly handles = new Map<string, { session: GeminiSimSession; snapshot: ResumeSnapshot }>();
  private readonly sessionListeners = new Set<() => void>();
  private handleCounter = 0;
  private port = 0;

  constructor(private readonly opts: GeminiLiveSimOptions) {
    if (!opts.apiKey) throw new Error('startGeminiLiveSim: apiKey is required');
    this.scenarioFor = opts.scenario ?? (() => defaultScenario());
    this.frames = opts.frames ?? 'binary';
    this.settings = {
      pacing: opts.pacing ?? 'burst',
      deltaMs: opts.deltaMs ?? 100,
      msPerChar: opts.msPerChar ?? 60,
      vad: { rmsThreshold: opts.vadRmsThreshold ?? 600, minSpeechMs: opts.vadMinSpeechMs ?? 60 },
      goAwayGraceMs: opts.goAwayGraceMs ?? 1000,
      inputTranscriptionFinished: opts.inputTranscriptionFinished ?? false,
      log: opts.log ?? (() => {}),
    };
    this.http = createServer((req, res) => {
      const body = JSON.stringify(googleError(404, 'NOT_FOUND', `Method not found or not a WebSocket upgrade: ${req.method} ${req.url}`));
      res.writeHead(404, { 'content-type': 'application/json; charset=UTF-8' }).end(body);
    });
    this.http.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}${WS_PATH}`;
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
    await Promise.all(
      [...this.live].map(async (conn) => {
        conn.close(CLOSE_GOING_AWAY, 'simulator shutting down');
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), 250)));
        if ((await Promise.race([conn.closed, late])) === 'late') conn.terminate({ flush: false });
        clearTimeout(timer);
        await conn.closed;
      }),
    );
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  // ---- ConnectionHost / SessionHost ---------------------------------------------------------------------

  attach(conn: SimConnection, setup: Setup): void {
    const handle = setup.sessionResumption?.handle;
    if (handle !== undefined) {
      const entry = this.handles.get(handle);
      if (!entry) throw new ProtocolError(CLOSE_INVALID, `Session resumption handle '${handle}' is invalid or has expired.`);
      entry.session.attach(conn, setup, { handle, snapshot: entry.snapshot });
      return;
    }
    const index = this.sessions.length;
    const session = new GeminiSimSession(index, this.scenarioFor(index), this.settings, this);
    this.sessions.push(session);
    session.attach(conn, setup);
    for (const l of [...this.sessionListeners]) l();
  }

  onSetupFailed(conn: SimConnection, err: ProtocolError): void {
    this.rejected.push({ url: conn.url, closeCode: err.code, reason: err.message });
  }

  mintHandle(session: GeminiSimSession, snapshot: ResumeSnapshot): string {
    const handle = `h-${++this.handleCounter}`;
    this.handles.set(handle, { session, snapshot });
    return handle;
  }

  // ---- upgrade ------------------------------------------------------------------------------------------

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    // Not `new URL(req.url, base)`: it reads a leading '//ws/...' as a host name.
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const pathname = q === -1 ? raw : raw.slice(0, q);
    if (!PATH_RE.test(pathname)) {
      this.refuse(socket, req, 404, googleError(404, 'NOT_FOUND', `Method not found: ${pathname}`));
      return;
    }
    const header = req.headers['x-goog-api-key'];
    const key = new URLSearchParams(q === -1 ? '' : raw.slice(q + 1)).get('key') ?? (typeof header === 'string' ? header : null);
    if (key !== this.opts.apiKey) {
      this.rejectKey(req, socket, head, key);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      this.connectionCount++;
      const conn = new SimConnection(ws, req.url ?? '', this, this.frames);
      this.live.add(conn);
      void conn.closed.then(() => this.live.delete(conn));
    });
  }

  private rejectKey(req: IncomingMessage, socket: Duplex, head: Buffer, key: string | null): void {
    const missing = key === null || key === '';
    if (this.opts.authFailure === 'http') {
      // Google's REST answers: 403 for no credentials, 400 INVALID_ARGUMENT for a bad key.
      const body = missing
        ? googleError(403, 'PERMISSION_DENIED', REASON_NO_KEY)
        : googleError(400, 'INVALID_ARGUMENT', REASON_BAD_KEY, 'API_KEY_INVALID');
      this.refuse(socket, req, body.error.code as number, body);
      return;
    }
    const code = missing ? CLOSE_POLICY : CLOSE_INVALID;
    const reason = missing ? REASON_NO_KEY : REASON_BAD_KEY;
    this.rejected.push({ url: req.url ?? '', closeCode: code, reason });
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      ws.on('error', () => {});
      ws.close(code, closeReason(reason));
    });
  }

  private refuse(socket: Duplex, req: IncomingMessage, status: number, body: object): void {
    this.rejected.push({ url: req.url ?? '', status, reason: JSON.stringify(body) });
    const text = JSON.stringify(body);
    const phrase = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found' }[status] ?? 'Error';
    socket.end(
      `HTTP/1.1 ${status} ${phrase}\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
      () => socket.destroy(),
    );
  }
}
