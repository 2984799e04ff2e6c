/**
 * One accepted WebSocket: framing, JSON decoding, the "setup first, exactly once" gate, and closing with a
 * code. Everything after setup belongs to the conversation the connection attaches to, which may outlive it
 * (session resumption).
 */
import WebSocket, { type RawData } from 'ws';
import { handleClientMessage } from './handlers.js';
import { CLOSE_INTERNAL, CLOSE_INVALID, ProtocolError, closeReason, type ServerMessage } from './protocol.js';
import { parseClientMessage, type Setup } from './schemas.js';
import type { GeminiSimSession } from './session.js';
import type { CloseInfo } from './types.js';
import type { UserInput } from './user-input.js';

export interface ConnectionHost {
  /** Binds the connection to a new or resumed conversation; throws ProtocolError for a bad handle. */
  attach(conn: SimConnection, setup: Setup): void;
  /** The connection died before it belonged to a conversation. */
  onSetupFailed(conn: SimConnection, err: ProtocolError): void;
}

export class SimConnection {
  readonly closed: Promise<CloseInfo>;
  session: GeminiSimSession | null = null;
  /** 0-based position among its conversation's connections; -1 before setup. */
  index = -1;
  setup: Setup | null = null;
  input: UserInput | null = null;
  /** Superseded by a resumed connection: its messages are ignored and nothing more goes out on it. */
  detached = false;
  /** The close this simulator initiated (fault, protocol error, goAway deadline), with the untruncated reason. */
  serverClose: CloseInfo | null = null;
  private state: 'awaiting_setup' | 'open' | 'closing' | 'closed' = 'awaiting_setup';
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Settles when the last message sent has been handed to the kernel. */
  private lastWrite: Promise<void> = Promise.resolve();

  constructor(
    private readonly ws: WebSocket,
    readonly url: string,
    private readonly host: ConnectionHost,
    private readonly frames: 'binary' | 'text',
  ) {
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.state = 'closed';
        for (const t of this.timers) clearTimeout(t);
        this.timers.clear();
        resolve({ code, reason: reason.toString() });
        this.session?.onConnectionClosed(this);
      });
    });
    // A reset connection emits 'error' before 'close'; without a listener ws would rethrow it.
    ws.on('error', (err) => this.session?.warn(`connection ${this.index}: socket error: ${err.message}`));
    ws.on('message', (data) => this.onMessage(data));
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN && this.state !== 'closing';
  }

  /** False when nothing went out (closing, closed or superseded). */
  send(msg: ServerMessage): boolean {
    if (!this.isOpen || this.detached) return false;
    const json = JSON.stringify(msg);
    this.session?.recordSent(this.index, msg);
    const payload = this.frames === 'binary' ? Buffer.from(json, 'utf8') : json;
    this.lastWrite = new Promise((resolve) => this.ws.send(payload, { binary: this.frames === 'binary' }, () => resolve()));
    return true;
  }

  /** Closes with a proper close frame; the reason is cut to the 123 bytes a frame can carry. */
  close(code: number, reason: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    this.serverClose = { code, reason };
    this.clearTimers();
    this.ws.close(code, closeReason(reason));
  }

  /**
   * Ends the TCP connection without a close frame (the client sees 1006). By default what was already sent
   * is flushed first, so the client has received exactly what the records say went out; `flush: false` is
   * for shutdown, when the client may not be reading at all.
   */
  terminate({ flush = true }: { flush?: boolean } = {}): void {
    this.clearTimers();
    if (this.state !== 'closed') this.state = 'closing';
    if (flush) void this.lastWrite.then(() => this.ws.terminate());
    else this.ws.terminate();
  }

  fail(err: ProtocolError): void {
    this.session?.warn(`connection ${this.index}: closing with ${err.code}: ${err.message}`);
    this.close(err.code, err.message);
  }

  /** A timer that dies with the connection. */
  after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private onMessage(data: RawData): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    // Clients may use text or binary frames; the service reads both as UTF-8 JSON.
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.session?.recordReceived(this.index, '<invalid_json>', { raw: text.slice(0, 200) });
      this.reject(new ProtocolError(CLOSE_INVALID, 'Invalid JSON payload received. Unexpected token.'));
      return;
    }
    let parsed;
    try {
      parsed = parseClientMessage(json);
    } catch (err) {
      const kind = typeof json === 'object' && json !== null ? (Object.keys(json)[0] ?? '<invalid_message>') : '<invalid_message>';
      this.session?.recordReceived(this.index, kind, json);
      this.reject(err as ProtocolError);
      return;
    }
    if (this.state === 'awaiting_setup') {
      if (parsed.kind !== 'setup') {
        this.reject(new ProtocolError(CLOSE_INVALID, `The first message must be 'setup'; got '${parsed.kind}'.`));
        return;
      }
      try {
        this.setup = parsed.body;
        // Open before attaching: attach may already inject a fault that starts closing the socket.
        this.state = 'open';
        this.host.attach(this, parsed.body);
        this.session!.recordReceived(this.index, 'setup', json);
        this.session!.notify();
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        this.reject(err);
      }
      return;
    }
    const session = this.session!;
    session.recordReceived(this.index, parsed.kind, json);
    if (this.detached) {
      session.warn(`connection ${this.index} was superseded by a resumed connection; ignoring its ${parsed.kind}`);
      return;
    }
    try {
      if (parsed.kind === 'setup') throw new ProtocolError(CLOSE_INVALID, "'setup' may only be sent once, as the first message.");
      handleClientMessage(session, this, parsed);
    } catch (err) {
      if (err instanceof ProtocolError) this.fail(err);
      else {
        session.warn(`handler for ${parsed.kind} crashed: ${String(err)}`);
        this.close(CLOSE_INTERNAL, 'Internal error occurred.');
      }
    }
    session.notify();
  }

  private reject(err: ProtocolError): void {
    if (this.session) this.fail(err);
    else {
      this.host.onSetupFailed(this, err);
      this.close(err.code, err.message);
    }
  }
}
