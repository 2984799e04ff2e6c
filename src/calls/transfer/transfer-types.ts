/** What a transfer is asked to do, and how it went. Shared by the tool, the bridge, the API and calls/. */

export type TransferMode = 'cold' | 'warm';

export interface TransferRequest {
  mode: TransferMode;
  /** A destination's label (or 1-based position); none: the first (the owner when OWNER_PHONE is set). */
  to?: string;
  /** Warm: what the owner hears before being joined (one or two sentences). */
  brief?: string;
}

export type TransferResult =
  /** The callee is with the destination now; the AI has left the call. */
  | { status: 'transferred'; label: string }
  /** Warm: the destination was not reached (no answer, busy, voicemail, hung up); the agent is back with the callee. */
  | { status: 'returned'; label: string; reason: string }
  /** Not attempted: the request or the dial policy refused it. Nothing changed. */
  | { status: 'refused'; httpStatus: number; field?: string; message: string }
  /** Attempted and failed at the carrier; the call goes on with the agent. */
  | { status: 'failed'; message: string }
  /** The preamble was talked over, or the engine withdrew the tool call: nothing was done. */
  | { status: 'interrupted' }
  | { status: 'cancelled' };

/** Resolves 'played' once the words before the transfer were heard; otherwise the transfer is off. */
export type PreambleWait = () => Promise<'played' | 'interrupted' | 'cancelled'>;
