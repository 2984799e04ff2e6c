/** Public types of the simulator: what tests script, configure and inspect. */
import type { Pacing } from '../shared/pacer.js';

export type { Pacing };

export interface AgentTurn {
  /**
   * Spoken reply: audio deltas + transcript deltas. `{{toolOutput}}` stands for the latest function output
   * the client sent, so a turn can relay what a tool returned (an owner's answer, say).
   */
  say?: string;
  /** A function call in the same response, emitted after the audio item. */
  call?: { name: string; arguments: Record<string, unknown> };
}

export interface RealtimeScenario {
  /** One per response, in order (greeting, auto-responses after user turns, responses after tool output). */
  turns: AgentTurn[];
  /**
   * Replies the model gives when a response.create carries `instructions` containing `match`
   * (case-insensitive): such a response says this instead of the next scripted turn, and the script does
   * not advance (e.g. a holding line asked for while a tool runs).
   */
  onInstructions?: Array<{ match: string; say: string }>;
  /** Transcript of the 1st, 2nd, ... committed user utterance; default "(inaudible)". */
  userTranscripts?: string[];
  /**
   * Transcribe each turn as the `userTranscripts` line whose audio it contains (the Twilio simulator's
   * scripted voice), not by order; a turn with none is "(inaudible)". See voice-prints.ts.
   */
  transcribeBySound?: boolean;
  /** Fault: the N-th response (1-based) is cut mid-audio by terminating the TCP socket (no close frame). 0 = right after session.created. */
  dropAfterResponses?: number;
  /** Fault: in the N-th response (1-based), mid-audio, send a `server_error` error event and close with 1011. 0 = right after session.created. */
  fatalErrorAfterResponses?: number;
  /** Overrides the simulator-wide pacing for this session. */
  pacing?: Pacing;
}

export interface OpenAIRealtimeSimOptions {
  /** Required Bearer token. */
  apiKey: string;
  /** Script per accepted WebSocket (0-based index). Default: a greeting and polite replies. */
  scenario?: (sessionIndex: number) => RealtimeScenario;
  /** Default 'burst' (as fast as possible, like the real API); 'realtime' = one delta per deltaMs. */
  pacing?: Pacing;
  /** Audio per delta; default 100 ms (800 mu-law bytes). */
  deltaMs?: number;
  /** Agent audio length per transcript character; default 60 ms. */
  msPerChar?: number;
  /** RMS of 16-bit samples over a 20 ms window above which input counts as speech; default 600. */
  vadRmsThreshold?: number;
  /** Speech needed before speech_started; default 60 ms. */
  vadMinSpeechMs?: number;
  /**
   * How long a cancelled response stays active before its response.done; default 0, which is still
   * after the client events already received (see README: a response.create sent right after a
   * response.cancel is refused).
   */
  cancelLatencyMs?: number;
  /** TCP port on 127.0.0.1; default 0 (ephemeral). */
  port?: number;
  /** Receives diagnostic lines (non-pcmu formats, skipped auto-responses, ...); they are also kept in session.warnings. */
  log?: (line: string) => void;
}

export type ResponseStatus = 'in_progress' | 'completed' | 'cancelled' | 'failed';

export interface ResponseRecord {
  id: string;
  /** The assistant message item, when the turn speaks. */
  itemId?: string;
  /** The function_call item, when the turn calls a tool. */
  callItemId?: string;
  callId?: string;
  /**
   * Final status. A response whose socket went away mid-stream (client disconnect or dropAfterResponses)
   * stays 'in_progress': it never finished.
   */
  status: ResponseStatus;
  audioMsSent: number;
  /** Transcript actually sent so far (partial when cancelled). */
  transcript: string;
  cancelReason?: 'turn_detected' | 'client_cancelled';
  /** `response.instructions` of the response.create that started it, if any. */
  instructions?: string;
  /** 'client' for response.create, 'vad' for an automatic response after a user turn. */
  trigger: 'client' | 'vad';
}

export interface TruncationRecord {
  itemId: string;
  audioEndMs: number;
  audioMsSentForItem: number;
  accepted: boolean;
}

export interface FunctionOutputRecord {
  callId: string;
  output: string;
  /** Date.now() when it arrived (tests order it against what the callee heard). */
  at: number;
}

export interface MessageRecord {
  itemId: string;
  role: 'user' | 'assistant' | 'system';
  text: string;
}

export interface ErrorRecord {
  type: string;
  code: string | null;
  message: string;
  param: string | null;
  /** The client event_id the error refers to, if the client sent one. */
  eventId: string | null;
}

/** A client event as received; `audio` of input_audio_buffer.append is replaced by its decoded byte length. */
export interface ReceivedEvent {
  type: string;
  [key: string]: unknown;
}
