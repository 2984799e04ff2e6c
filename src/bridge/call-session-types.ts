import type { TimelineEventType } from '../shared/event-types.js';
import type { EndReason } from '../calls/state.js';
import type { PreambleWait, TransferRequest, TransferResult } from '../calls/transfer/transfer-types.js';
import type { ToolRegistry } from '../tools/registry.js';
import type { VoiceEngine } from '../voice/engine.js';
import type { VadKind } from '../media/voice-activity.js';
import type { OwnerReply } from '../owner/owner-channel.js';
import type { VoicemailOptions } from './voicemail-mode.js';
import type { BargeInOptions } from './barge-in.js';

/**
 * Hears one frame of caller audio, already decoded to PCM16 8 kHz. The buffer is reused for the next
 * frame: copy what must outlive the call.
 */
export type CallerAudioHearer = (pcm8k: Int16Array) => void;

/** What the session needs from the rest of the product: a place to record, and a way to end the call. */
export interface SessionHooks {
  record(type: TimelineEventType, data: Record<string, unknown>): void;
  /** Ends the call (hang up at the carrier). Idempotent; the first reason wins. Never throws. */
  requestEnd(reason: EndReason, detail?: string): void;
  /** The greeting gate opened: the agent may now speak. */
  conversationStarted(): void;
  /**
   * DTMF_MODE=carrier: has the carrier play the digits and reconnect the media stream (see
   * Carrier.playDigits). Absent: keys are pressed with in-band tones.
   */
  playDigitsViaCarrier?(digits: string): Promise<void>;
  /** transfer_call: hands the call over once `preamble` says the agent's words were heard (see calls/transfer/). */
  transfer?(req: TransferRequest, preamble: PreambleWait): Promise<TransferResult>;
}

export interface CallSessionOptions {
  callId: string;
  /** The call's client: tools that read documents look up only this client's. */
  clientId?: string;
  engine: VoiceEngine;
  /** Runs the model's tool calls (a registry, or a host's dispatcher that runs some of them elsewhere). */
  tools: Pick<ToolRegistry, 'dispatch'>;
  hooks: SessionHooks;
  /** Greet a callee who says nothing after this much silence from the first stream (no verdict awaited). */
  greetingSilenceMs: number;
  /** Longest opening speech that still sounds like a person answering ("Hello?"), not a voicemail greeting. */
  personOpeningMaxMs?: number;
  /** Largest audio chunk between two playout marks (bounds the heard-position error). */
  markChunkMs?: number;
  /** Milliseconds, monotonic: the clock that places a cut between two marks (tests pass their own). */
  playoutClock?: () => number;
  /** Safety net for end_call if marks never come back: hang up after the pending audio plus this. */
  hangupGraceMs?: number;
  /**
   * With an engine that cancels interrupted tool calls: how long a result finished after a barge-in
   * waits for that cancellation before it is sent anyway (the engine may not have heard the callee).
   */
  toolCancelWaitMs?: number;
  /**
   * Keys given with the call (an extension), pressed when the menu answers: the call's opening is taken
   * as a phone menu, and the keys go once its first prompt has ended (see menu-mode.ts).
   */
  dtmfOnAnswer?: string;
  /** What to do when a machine answers (default: hang up). */
  voicemail?: VoicemailOptions;
  /** Longest hold before a polite goodbye (`hold-timeout`); silence sent after each line heard on hold. */
  hold?: { maxMs: number; tailMs?: number };
  /** Silence after the callee's speech that ends a phone menu's prompt (default 1500 ms). */
  menuPromptEndMs?: number;
  /** ask_owner: puts a question to the owner (see owner/); absent, the tool answers "cancelled". */
  owner?: { name: string; holdingLineMs: number; ask(question: string, signal: AbortSignal): Promise<OwnerReply> };
  /** When the callee talking over the agent stops it (docs/barge-in.md). Default: DEFAULT_BARGE_IN, Silero. */
  bargeIn?: BargeInOptions & { vad: VadKind; vadFloorDbfs?: number };
  /** An inbound call: the caller is already waiting, so the agent greets as soon as it can be heard. */
  greetFirst?: boolean;
}
