/** Public types of the simulator: what tests script, configure and inspect. */
import type { Pacing } from '../shared/pacer.js';
import type { UsageMetadata } from './protocol.js';

export type { Pacing, UsageMetadata };

export interface GeminiTurn {
  /** Spoken reply: 24 kHz PCM16 audio chunks plus outputTranscription words. */
  /**
   * `{{toolOutput}}` stands for the latest accepted tool response (its `output` or `result`, else its
   * JSON); `{{clientText}}` for the text of the latest clientContent turn.
   */
  say?: string;
  /** A function call sent after the audio; the next turn plays once the client answers it. */
  call?: { name: string; args: Record<string, unknown> };
}

export interface GeminiScenario {
  /** One per model turn, in order (greeting, replies to user turns, continuations after tool responses). */
  turns: GeminiTurn[];
  /**
   * What the model says to a `clientContent` turn whose text contains `match` (case-insensitive), instead of
   * the next scripted turn, which stays next: a client's instruction ("say you are still checking") is
   * answered whenever it comes, however many times.
   */
  onText?: Array<{ match: string; say: string }>;
  /** Input transcription of the 1st, 2nd, ... user utterance; default "(inaudible)". */
  userTranscripts?: string[];
  /** Fault: on the conversation's first connection, send goAway this long after setupComplete, then close. */
  goAwayAfterMs?: number;
  /** Fault: terminate the socket (no close frame) mid-audio of the N-th model turn (1-based; 0 = right after setupComplete). Once per conversation. */
  dropAfterTurns?: number;
  /** Fault: close with 1011 mid-audio of the N-th model turn (1-based; 0 = right after setupComplete). Once per conversation. */
  fatalAfterTurns?: number;
  /** Overrides the simulator-wide pacing for this conversation. */
  pacing?: Pacing;
  /** `thoughtsTokenCount` on every turn's usageMetadata (thinking models report it beside the response). */
  thoughtsTokensPerTurn?: number;
}

export interface GeminiLiveSimOptions {
  /** Accepted in `?key=` or the `x-goog-api-key` header. */
  apiKey: string;
  /** Script per new conversation (0-based); resumed connections keep their conversation's script. */
  scenario?: (sessionIndex: number) => GeminiScenario;
  /** Default 'burst' (faster than real time, like the real service); 'realtime' sends one chunk per deltaMs. */
  pacing?: Pacing;
  /** Audio per modelTurn message; default 100 ms (2400 samples, 4800 bytes). */
  deltaMs?: number;
  /** Model audio per character of the turn's text; default 60 ms. */
  msPerChar?: number;
  /** RMS of 16-bit samples over a 20 ms window above which input counts as speech; default 600. */
  vadRmsThreshold?: number;
  /** Speech needed before it counts as the start of activity; default 60 ms. */
  vadMinSpeechMs?: number;
  /** Time between goAway and the forced close; default 1000 ms (goAway.timeLeft says the same). */
  goAwayGraceMs?: number;
  /**
   * WebSocket frame type for server messages. Default 'binary': the real service sends its JSON in binary
   * frames (opcode 2), which breaks clients that only parse text frames. 'text' is there for comparison.
   */
  frames?: 'binary' | 'text';
  /**
   * Bad or missing key. Default 'close': the real service accepts the upgrade and closes the socket (1007 bad
   * key, 1008 missing key). 'http' refuses the upgrade with Google's REST statuses (400 / 403).
   */
  authFailure?: 'close' | 'http';
  /** Put `finished: true` on the last inputTranscription fragment. Default false: the real service leaves it unset. */
  inputTranscriptionFinished?: boolean;
  /** TCP port on 127.0.0.1; default 0 (ephemeral). */
  port?: number;
  /** Diagnostic lines (odd mime types, ignored messages, faults); also kept in session.warnings. */
  log?: (line: string) => void;
}

export type TurnStatus = 'speaking' | 'awaiting_tool' | 'complete' | 'interrupted';
export type TurnTrigger = 'user' | 'clientContent' | 'text' | 'toolResponse';

export interface TurnRecord {
  /** Position in scenario.turns (a turn replayed after resumption appears twice with the same index). */
  index: number;
  /** Which connection of the conversation streamed it (0-based). */
  connection: number;
  trigger: TurnTrigger;
  /**
   * 'speaking' until generationComplete; a turn whose socket died mid-stream stays 'speaking'.
   * 'awaiting_tool' after its toolCall, until the toolResponse.
   */
  status: TurnStatus;
  audioMsSent: number;
  /** Text of the words generated so far (what outputTranscription carried, or would have). */
  transcript: string;
  generationComplete: boolean;
  callId?: string;
}

export type InterruptionCause = 'speech' | 'activityStart' | 'clientContent' | 'text';

export interface InterruptionRecord {
  /** Scenario index of the interrupted turn. */
  turnIndex: number;
  cause: InterruptionCause;
  /** Audio of that turn sent before the interruption. */
  audioMsSent: number;
  /** Input timeline (ms of audio on that connection) where the interrupting speech started; null for text. */
  atInputMs: number | null;
  cancelledCallIds: string[];
}

export interface UserTurnRecord {
  connection: number;
  source: 'vad' | 'activity';
  startMs: number;
  /** Undefined while the user is still speaking. */
  endMs?: number;
  transcript?: string;
}

export interface ToolCallRecord {
  id: string;
  name: string;
  args: Record<string, unknown>;
  turnIndex: number;
  /** 'lost': the connection went away before an answer; resumption rewinds past it. */
  status: 'pending' | 'answered' | 'cancelled' | 'lost';
}

export interface ToolResponseRecord {
  id: string;
  name?: string;
  response?: Record<string, unknown>;
  /** False when the id matched no pending call (the connection is then closed). */
  accepted: boolean;
  /** Date.now() when it arrived (tests order it against what the callee heard). */
  at: number;
}

export interface ClientContentRecord {
  connection: number;
  turns: unknown[];
  turnComplete: boolean;
  /** All text parts joined, for easy asserts. */
  text: string;
}

export interface ResumptionRecord {
  handle: string;
  connection: number;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

/** A client message as received; base64 audio is replaced by its decoded byte length. */
export interface ReceivedMessage {
  connection: number;
  /** The top-level key, or '<invalid_json>' / '<invalid_message>'. */
  kind: string;
  message: Record<string, unknown>;
}

export interface SentMessage {
  connection: number;
  /** inlineData.data is replaced by its byte length. */
  message: Record<string, unknown>;
}

export interface RejectedConnection {
  url: string;
  /** HTTP status when the upgrade was refused; undefined when the socket was accepted and then closed. */
  status?: number;
  closeCode?: number;
  reason: string;
}
