import type { ToolSpec, UsageReport } from '../engine.js';

/**
 * The four stages a cascaded engine chains, each a small interface with pluggable implementations
 * (vad/, stt/, llm/, tts/). The engine (engine.ts) knows only these; which server or model sits behind a
 * stage is the implementation's business. Audio between stages is PCM16: 8 kHz from the carrier side,
 * each stage resampling to what its model wants.
 */

/** What the turn detector says about the callee, frame by frame. */
export type TurnEvent =
  /** Speech began (after the detector's own confirmation delay). */
  | 'speechStarted'
  /** Speech stopped: the turn may be over (a pause or the end: the speculative reply starts here). */
  | 'speechPaused'
  /** Speech came back within the end-of-turn silence: the same turn goes on. */
  | 'speechResumed'
  /** Silence lasted the end-of-turn time: the turn is over. */
  | 'turnEnded';

export interface TurnDetector {
  /**
   * One frame of caller audio, PCM16 8 kHz (read before this returns). `heard` is called once for it, in
   * frame order, with what changed at that frame, if anything: at once, or when the VAD worker has heard it.
   */
  hear(pcm8k: Int16Array, heard: (event: TurnEvent | undefined) => void): void;
  /** Resolves once every frame so far has been heard (tests). */
  drain?(): Promise<void>;
  /** Frees what the detector holds (native memory). Idempotent. */
  close(): void;
}

export interface Transcript {
  text: string;
  usage?: UsageReport;
}

/** One utterance being transcribed: audio goes in while the callee speaks, the text comes at the end. */
export interface SttStream {
  /** PCM16 8 kHz. */
  push(pcm8k: Int16Array): void;
  /** No more audio: resolves with the utterance's text. */
  finish(): Promise<Transcript>;
  /** The text of the audio so far, the stream staying open (for a reply prepared at a pause). */
  peek?(): Promise<Transcript>;
  abort(): void;
}

export interface SpeechToText {
  readonly model: string;
  /** In-process stages load their model here (once per process): rejects when it cannot run at all. */
  ready?(): Promise<void>;
  open(): SttStream;
}

/** A message of the conversation as the LLM sees it (OpenAI chat-completions roles). */
export type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCallRequest[] }
  | { role: 'tool'; toolCallId: string; content: string };

export interface ToolCallRequest {
  id: string;
  name: string;
  /** JSON text of the arguments, as the model wrote it. */
  arguments: string;
}

export type LlmChunk =
  /** Words to speak (reasoning already removed). */
  | { type: 'text'; text: string }
  /** A complete tool call, however the server sent it (whole or in fragments). */
  | { type: 'toolCall'; call: ToolCallRequest }
  | { type: 'usage'; usage: UsageReport };

export interface ChatLlm {
  readonly model: string;
  /** Streams one reply; aborting the signal stops the request. */
  stream(req: { messages: ChatMessage[]; tools: ToolSpec[] }, signal: AbortSignal): AsyncIterable<LlmChunk>;
}

export interface TextToSpeech {
  readonly model: string;
  /** As SpeechToText.ready. */
  ready?(): Promise<void>;
  /** Speaks one clause: PCM16 at 8 kHz, chunk by chunk as the server sends it. */
  synthesize(text: string, signal: AbortSignal): AsyncIterable<Int16Array>;
  /** What speaking this text costs, as a usage report (characters), if metered. */
  usageFor?(text: string): UsageReport | undefined;
}

export interface CascadeStages {
  /** A fresh detector per call (each keeps state). */
  turns: () => TurnDetector;
  stt: SpeechToText;
  llm: ChatLlm;
  tts: TextToSpeech;
}

/** A stage failed; `unreachable` when its server could not be reached at all (the call cannot go on). */
export class StageError extends Error {
  constructor(
    readonly stage: 'stt' | 'llm' | 'tts',
    message: string,
    readonly unreachable = false,
  ) {
    super(`${stage}: ${message}`);
    this.name = 'StageError';
  }
}
