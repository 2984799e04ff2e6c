import type { CallMode } from './call-mode.js';

/**
 * What the session tells each of the call's modes (answering machines, hold, phone menu) about the call:
 * every frame of caller audio, the callee's words, the agent's replies starting and ending, mode
 * changes, and the end. The session calls its handlers in one fixed order for each of these and names
 * none of them; what only one mode cares about (the menu's key presses, the beep) it asks that mode.
 */
export interface ModeHandler {
  /** Every frame of caller audio (PCM16 8 kHz). The buffer is reused: copy what must outlive the call. */
  hear?(pcm8k: Int16Array): void;
  /** The words of a callee turn; `opening`: nothing the agent said has been heard yet. */
  heard?(text: string, opening: boolean): void;
  /** The engine began a reply. True: it must be cut, none of it played. */
  replyStarted?(responseId: string): boolean;
  /** The engine finished a reply. */
  replyDone?(): void;
  /** The call's mode changed (after the session applied the new mode's rules). */
  modeChanged?(mode: CallMode, from: CallMode, reason: string): void;
  /** The call is ending: stop timers, refuse what waits. */
  close(): void;
}
