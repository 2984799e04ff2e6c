import type { AudioChunk } from '../media/audio-chunk.js';

/**
 * The seam between a call and a speech-to-speech AI. The bridge talks only to this interface and
 * branches on `capabilities`, never on which engine it is; a new engine is a new folder under voice/.
 */

export type AudioFormat =
  | { encoding: 'pcmu'; sampleRate: 8000 }
  | { encoding: 'pcm16'; sampleRate: number };

export interface EngineCapabilities {
  /** The engine can drop the unheard tail of an item so its context matches what the callee heard. */
  truncation: boolean;
  /** The engine detects turns itself and emits user.speechStarted/Stopped. */
  serverTurnDetection: boolean;
  /** After a tool result the engine continues by itself; otherwise the bridge must ask for a reply. */
  autoReplyAfterTool: boolean;
  /**
   * The engine reports the callee starting to speak at any moment, even after it has finished
   * generating (OpenAI's server VAD). When false, the bridge listens for barge-in on the caller audio.
   */
  detectsSpeechDuringPlayback: boolean;
  /**
   * The engine withdraws a tool call the callee interrupts (emits `tool.cancelled`) and then expects no
   * result for it: Gemini holds its turn open while it waits for a result, and speech during that turn
   * ends the turn and cancels the call. When true, a result finished after a barge-in waits for that
   * cancellation before it is sent.
   */
  cancelsInterruptedToolCalls: boolean;
  /**
   * The engine is sent the caller audio, and reports user.speechStarted/Stopped, while auto-replies are
   * off (before the greeting). When false (Gemini hears nothing until the greeting gate opens, since it
   * answers every turn it hears), the bridge finds the end of the callee's first words with its own VAD.
   */
  hearsBeforeAutoRespond: boolean;
  /**
   * The engine can be asked for a reply while one of its tool calls is still open (OpenAI: a
   * response.create needs no function output first). Gemini holds its turn open until the result, and
   * new input then cancels the call, so the bridge says no holding lines there. Absent: false.
   */
  speaksWhileToolRuns?: boolean;
  /**
   * A tool call must not stay open while the bridge keeps the callee company: a long wait (ask_owner) is
   * answered at once ("asked, wait"), holding lines are asked for as text turns, and the eventual answer
   * comes as a text turn to relay. Gemini Live: a BLOCKING call is cancelled by any new input, and
   * clientContent text turns are how a client makes the model speak meanwhile (docs/ask-owner.md#engines).
   * Absent: false (the tool call stays open until the answer).
   */
  holdsWithTextTurns?: boolean;
  /**
   * A callee turn that ends while the engine is replying is answered by the engine once that reply is
   * done (Gemini with `NO_INTERRUPTION`). When false (OpenAI with `interrupt_response: false`), such a
   * turn gets no reply of its own, so after cutting the agent for it the bridge asks for one.
   */
  answersTurnsWhileReplying?: boolean;
  inputFormat: AudioFormat;
  outputFormat: AudioFormat;
}

/** A tool as the engine sees it: name, description and JSON Schema of its arguments. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface EngineStartOptions {
  instructions: string;
  tools: ToolSpec[];
  voice?: string;
  /** Whether the engine may answer a finished user turn by itself. Off until the greeting gate opens. */
  autoRespond: boolean;
}

/** Token counts of one billed unit (a response or a transcription), priced later by records/pricing. */
export interface UsageReport {
  provider: string;
  model: string;
  /** meter name -> quantity, e.g. { 'audio_input': 120, 'audio_cached_input': 40 } */
  meters: Record<string, number>;
}

export interface EngineError {
  /** Fatal errors end the call; others are recorded and the call goes on. */
  fatal: boolean;
  code: string;
  message: string;
  /** The wire event type that caused it, when known. */
  eventType?: string;
}

/**
 * `audioMs`: where in the caller audio the engine heard it, in ms from a point fixed for the call (the
 * first frame it was sent), when the engine knows. How long the callee spoke is measured by these, not by
 * when the events arrived: a detector's events can come late, or in a burst, on a loaded machine.
 */
export type EngineEvent =
  | { type: 'user.speechStarted'; itemId?: string; audioMs?: number }
  | { type: 'user.speechStopped'; audioMs?: number }
  | { type: 'user.transcript'; itemId: string; text: string }
  /**
   * A fragment of the callee's words as the engine transcribes them, before the final user.transcript
   * (Gemini streams these while its turn is still open). The bridge judges short barge-ins by them.
   */
  | { type: 'user.words'; text: string }
  /** Words of the opening transcribed on the side (listenAside): not part of the conversation. */
  | { type: 'aside.transcript'; text: string }
  | { type: 'agent.responseStarted'; responseId: string }
  | { type: 'agent.audio'; responseId: string; itemId: string; audio: AudioChunk }
  /** Final transcript of an agent item; audioMs is all audio generated for it (some may have been dropped). */
  | { type: 'agent.transcript'; responseId: string; itemId: string; text: string; audioMs: number }
  | { type: 'agent.responseDone'; responseId: string; status: 'completed' | 'cancelled' | 'failed' | 'incomplete' }
  | { type: 'tool.call'; responseId: string; callId: string; name: string; arguments: string }
  /**
   * The engine withdrew tool calls it had made (Gemini's toolCallCancellation, sent when the callee
   * interrupts during a function call): their side effects must not happen and no result is expected.
   */
  | { type: 'tool.cancelled'; callIds: string[] }
  | { type: 'usage'; usage: UsageReport }
  | { type: 'error'; error: EngineError }
  | { type: 'closed'; expected: boolean; reason: string }
  /** The connection was lost or recycled and the session was resumed; the conversation goes on. */
  | { type: 'session.resumed'; reason: string; gapMs: number }
  /**
   * Where a reply to a callee turn spent its time (the cascade's TurnLatencyReport), recorded as it is
   * on the timeline as `turn.latency`.
   */
  | { type: 'turn.latency'; report: Record<string, unknown> };

export type EngineListener = (event: EngineEvent) => void;

export interface VoiceEngine {
  readonly name: string;
  readonly capabilities: EngineCapabilities;
  /** Connects and configures the session; resolves once the engine is ready for audio. */
  start(opts: EngineStartOptions): Promise<void>;
  /** One frame of caller audio in `capabilities.inputFormat`. */
  pushAudio(frame: AudioChunk): void;
  /** Asks for a reply now (the greeting, or after a tool result). */
  generateReply(opts?: { instructions?: string }): void;
  setAutoRespond(on: boolean): void;
  /**
   * While on, caller audio pushed is only transcribed (user.transcript) and never answered, so the bridge
   * can learn what a machine says without the engine replying to it (a screener or a mailbox greeting).
   * Engines that hear before auto-replies are on (`hearsBeforeAutoRespond`) need none; absent otherwise:
   * the engine cannot, and hears nothing then.
   */
  transcribeOnly?(on: boolean): void;
  /**
   * For engines that hear nothing before the greeting: the caller audio is also transcribed on the side
   * (aside.transcript), while the conversation keeps what it would replay as before. It lets the bridge
   * recognise a call-screening assistant in a long opening whose machine verdict comes only once the
   * prompt is over. Off with `forgetOpening`: the kept opening is dropped, never replayed (the bridge
   * tells the conversation what it needs of it).
   */
  listenAside?(on: boolean, forgetOpening?: boolean): void;
  /** Cancels the in-flight response, if any. */
  interrupt(): void;
  /** Cuts an item's audio to what was heard (requires capabilities.truncation). */
  truncate(itemId: string, playedMs: number): void;
  /** Removes an item the callee never heard. */
  deleteItem(itemId: string): void;
  sendToolResult(callId: string, output: string, opts: { reply: boolean }): void;
  /**
   * Optional: the bridge sent the first audio of a response's item to the carrier. An engine that reports
   * per-turn latency ends its breakdown here (only the bridge knows when audio left for the callee).
   */
  audioSent?(responseId: string): void;
  close(): Promise<void>;
}

export interface EngineFactoryContext {
  callId: string;
  onEvent: EngineListener;
}

export type EngineFactory = (ctx: EngineFactoryContext) => VoiceEngine;
