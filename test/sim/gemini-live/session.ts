/**
 * One conversation: what tests inspect, plus the state that survives session resumption (scenario position,
 * usage counters). Connections attach to it; the first one creates it, resumed ones continue it. The model's
 * behaviour lives in dialogue.ts, per-message handling in handlers.ts.
 */
import type { SimConnection } from './connection.js';
import { Dialogue } from './dialogue.js';
import type { Pacing } from '../shared/pacer.js';
import { CLOSE_INTERNAL, REASON_INTERNAL, durationJson, REASON_DEADLINE, type ServerMessage, type UsageMetadata } from './protocol.js';
import type { Setup } from './schemas.js';
import type { Fault } from './turn-runner.js';
import type {
  ClientContentRecord,
  CloseInfo,
  GeminiScenario,
  InterruptionRecord,
  ReceivedMessage,
  ResumptionRecord,
  SentMessage,
  ToolCallRecord,
  ToolResponseRecord,
  TurnRecord,
  UserTurnRecord,
} from './types.js';
import type { UsageCounters } from './usage.js';
import { UserInput } from './user-input.js';
import type { VadOptions } from '../shared/energy-vad.js';

export interface SessionSettings {
  pacing: Pacing;
  deltaMs: number;
  msPerChar: number;
  vad: VadOptions;
  goAwayGraceMs: number;
  inputTranscriptionFinished: boolean;
  log: (line: string) => void;
}

/** Where a resumption handle puts the conversation back: the state right after a turnComplete. */
export interface ResumeSnapshot {
  turnPointer: number;
  userTurnCount: number;
}

export interface SessionHost {
  mintHandle(session: GeminiSimSession, snapshot: ResumeSnapshot): string;
}

export interface ConnectionView {
  index: number;
  setup: Setup;
  /** The handle this connection resumed with, if any. */
  resumedWith?: string;
  closed: Promise<CloseInfo>;
  /** The close the simulator initiated, with the full (untruncated) reason; null if the client closed or it is open. */
  readonly serverClose: CloseInfo | null;
}

export const DEFAULT_USER_TRANSCRIPT = '(inaudible)';

export class GeminiSimSession {
  readonly received: ReceivedMessage[] = [];
  /** Every server message, audio replaced by its byte length (handy when a test fails). */
  readonly sent: SentMessage[] = [];
  readonly turns: TurnRecord[] = [];
  readonly interruptions: InterruptionRecord[] = [];
  readonly userTurns: UserTurnRecord[] = [];
  readonly toolCalls: ToolCallRecord[] = [];
  readonly toolResponses: ToolResponseRecord[] = [];
  readonly clientContents: ClientContentRecord[] = [];
  /** `realtimeInput.text` messages. */
  readonly textInputs: string[] = [];
  readonly resumptions: ResumptionRecord[] = [];
  readonly connections: ConnectionView[] = [];
  readonly warnings: string[] = [];

  readonly counters: UsageCounters = { inputAudioMs: 0, inputTextChars: 0, outputAudioMs: 0 };
  /** Every usageMetadata sent, in order, on every connection: one per turn, the conversation's bill is their sum. */
  readonly usageReports: UsageMetadata[] = [];
  /** Model audio tokens already reported as a response; from then on they are context (prompt side). */
  reportedResponseAudio = 0;
  readonly dialogue: Dialogue;
  current: SimConnection | null = null;
  /** Next scenario turn to play. */
  turnPointer = 0;
  /** Next user transcript to use. */
  userTurnCount = 0;
  /** Model turns started, for fault numbering (replays after resumption count again). */
  turnsStarted = 0;

  private readonly faultsFired = new Set<Fault>();
  private readonly listeners = new Set<() => void>();
  private readonly warnedOnce = new Set<string>();

  constructor(
    readonly index: number,
    readonly scenario: GeminiScenario,
    readonly settings: SessionSettings,
    private readonly host: SessionHost,
  ) {
    this.dialogue = new Dialogue(this);
  }

  /** Setup of the latest connection. */
  get setup(): Setup {
    return this.connections[this.connections.length - 1].setup;
  }

  /** Input audio received over the whole conversation, every connection, silence included. */
  get inputAudioMs(): number {
    return this.counters.inputAudioMs;
  }

  /** Close of the latest connection: the close frame's code, or 1006 if the TCP connection just ended. */
  get closed(): Promise<CloseInfo> {
    return this.connections[this.connections.length - 1].closed;
  }

  // ---- test helpers -------------------------------------------------------------------------------------

  /** Resolves when `predicate` holds, re-checked after every message in either direction and on close. */
  waitUntil(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`gemini session ${this.index}: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
    });
  }

  /** Fault on demand: end the current connection's TCP stream without a close frame. */
  drop(): void {
    this.current?.terminate();
  }

  /** Close the current connection from the server side with a close frame. */
  disconnect(code = 1000, reason = ''): void {
    this.current?.close(code, reason);
  }

  // ---- connection lifecycle -----------------------------------------------------------------------------

  attach(conn: SimConnection, setup: Setup, resumed?: { handle: string; snapshot: ResumeSnapshot }): void {
    const previous = this.current;
    if (previous && previous !== conn) {
      // The service lets a client open the replacement before closing the old socket (goAway handover);
      // the old one goes quiet rather than being closed under the client's feet.
      previous.detached = true;
      this.dialogue.onConnectionLost();
    }
    conn.session = this;
    conn.index = this.connections.length;
    conn.input = new UserInput(this.settings.vad, setup);
    this.current = conn;
    const view: ConnectionView = {
      index: conn.index,
      setup,
      closed: conn.closed,
      get serverClose() {
        return conn.serverClose;
      },
    };
    if (resumed) view.resumedWith = resumed.handle;
    this.connections.push(view);
    if (resumed) {
      this.turnPointer = resumed.snapshot.turnPointer;
      this.userTurnCount = resumed.snapshot.userTurnCount;
      this.resumptions.push({ handle: resumed.handle, connection: conn.index });
    } else {
      this.counters.inputTextChars += textOf(setup.systemInstruction?.parts).length;
    }
    this.checkSetup(setup);
    conn.send({ setupComplete: {} });
    if (conn.index === 0 && this.scenario.goAwayAfterMs !== undefined) this.scheduleGoAway(conn, this.scenario.goAwayAfterMs);
    const fault = this.takeFault(0);
    if (fault) this.injectFault(fault);
  }

  onConnectionClosed(conn: SimConnection): void {
    if (conn === this.current) this.dialogue.onConnectionLost();
    this.notify();
  }

  // ---- used by the dialogue and handlers ----------------------------------------------------------------

  send(msg: ServerMessage): boolean {
    return this.current?.send(msg) ?? false;
  }

  /** The fault for the N-th model turn (1-based; 0 = at setup), at most once per kind per conversation. */
  takeFault(turnNumber: number): Fault | undefined {
    const fault: Fault | undefined =
      this.scenario.dropAfterTurns === turnNumber ? 'drop' : this.scenario.fatalAfterTurns === turnNumber ? 'fatal' : undefined;
    if (!fault || this.faultsFired.has(fault)) return undefined;
    this.faultsFired.add(fault);
    return fault;
  }

  injectFault(fault: Fault): void {
    const conn = this.current;
    if (!conn) return;
    if (fault === 'drop') {
      this.warn(`fault: dropping connection ${conn.index} without a close frame`);
      conn.terminate();
    } else {
      this.warn(`fault: closing connection ${conn.index} with 1011`);
      conn.close(CLOSE_INTERNAL, REASON_INTERNAL);
    }
  }

  /** Issues a resumption handle for the state right now (only called between turns). */
  issueHandle(): void {
    if (!this.current?.setup?.sessionResumption) return;
    const newHandle = this.host.mintHandle(this, { turnPointer: this.turnPointer, userTurnCount: this.userTurnCount });
    this.send({ sessionResumptionUpdate: { newHandle, resumable: true } });
  }

  nextUserTranscript(): string {
    return this.scenario.userTranscripts?.[this.userTurnCount++] ?? DEFAULT_USER_TRANSCRIPT;
  }

  recordReceived(connection: number, kind: string, json: unknown): void {
    const message = (typeof json === 'object' && json !== null ? redactInput(json as Record<string, unknown>) : { value: json }) as Record<string, unknown>;
    this.received.push({ connection, kind, message });
  }

  recordSent(connection: number, msg: ServerMessage): void {
    this.sent.push({ connection, message: redactOutput(msg) });
    this.notify();
  }

  warn(line: string, onceKey?: string): void {
    if (onceKey) {
      if (this.warnedOnce.has(onceKey)) return;
      this.warnedOnce.add(onceKey);
    }
    this.warnings.push(line);
    this.settings.log(`[gemini-sim #${this.index}] ${line}`);
  }

  notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  // ---- internals ----------------------------------------------------------------------------------------

  private scheduleGoAway(conn: SimConnection, afterMs: number): void {
    const grace = this.settings.goAwayGraceMs;
    conn.after(afterMs, () => {
      conn.send({ goAway: { timeLeft: durationJson(grace) } });
      // At the deadline the service cuts the connection like a session that hit its time limit.
      conn.after(grace, () => conn.close(CLOSE_INTERNAL, REASON_DEADLINE));
    });
  }

  private checkSetup(setup: Setup): void {
    if (!setup.model.startsWith('models/')) {
      this.warn(`setup.model '${setup.model}' lacks the 'models/' prefix the SDK always adds`, 'model-prefix');
    }
    const modalities = setup.generationConfig?.responseModalities;
    if (modalities && !modalities.includes('AUDIO')) {
      this.warn(`responseModalities is ${JSON.stringify(modalities)}; the simulator always answers with AUDIO`, 'modalities');
    }
  }
}

export function textOf(parts: Array<{ text?: string }> | undefined): string {
  return (parts ?? []).map((p) => p.text ?? '').join('');
}

function b64Length(data: unknown): unknown {
  return typeof data === 'string' ? Buffer.byteLength(data, 'base64') : data;
}

/** realtimeInput audio (and video) data -> decoded byte length; everything else as sent. */
function redactInput(json: Record<string, unknown>): Record<string, unknown> {
  const ri = json.realtimeInput as Record<string, unknown> | undefined;
  if (typeof ri !== 'object' || ri === null) return json;
  const blob = (b: unknown) => (typeof b === 'object' && b !== null ? { ...b, data: b64Length((b as { data?: unknown }).data) } : b);
  const copy: Record<string, unknown> = { ...ri };
  for (const key of ['audio', 'video']) if (key in copy) copy[key] = blob(copy[key]);
  if (Array.isArray(copy.mediaChunks)) copy.mediaChunks = copy.mediaChunks.map(blob);
  return { realtimeInput: copy };
}

function redactOutput(msg: ServerMessage): Record<string, unknown> {
  if (!('serverContent' in msg) || !msg.serverContent.modelTurn) return msg as Record<string, unknown>;
  const parts = msg.serverContent.modelTurn.parts.map((p) => ({ inlineData: { ...p.inlineData, data: b64Length(p.inlineData.data) } }));
  return { ...msg, serverContent: { ...msg.serverContent, modelTurn: { parts } } };
}
