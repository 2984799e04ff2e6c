import { ApiError, UnreachableError } from '../client/api-client.js';
import type { EndReason } from '../calls/state.js';

/** What `callwright` exits with, for scripts (docs/cli.md lists them). */
export const EXIT = {
  ok: 0,
  /** A server error or anything unexpected. */
  failed: 1,
  /** Bad arguments, or the API rejected the input (the message names the field). */
  usage: 2,
  /** The dial policy or a cap refused the call (the message names the rule). */
  refused: 3,
  /** Missing or wrong API token. */
  unauthorized: 4,
  /** No such call, client or runbook. */
  notFound: 5,
  /** The server could not be reached. */
  unreachable: 6,
  /** `call`: the call ended without reaching anyone (no answer, busy, voicemail, failed). */
  notReached: 7,
  /** `call`: the call ended because something failed (voice AI, media, a restart). */
  callFailed: 8,
  /** Ctrl-C: stopped following; the call was left running. */
  interrupted: 130,
} as const;

/** A mistake in how the command was used, found before asking the server. */
export class UsageError extends Error {}

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof UnreachableError) return EXIT.unreachable;
  if (!(err instanceof ApiError)) return EXIT.failed;
  if (err.rule) return EXIT.refused;
  if (err.status === 401) return EXIT.unauthorized;
  if (err.status === 404) return EXIT.notFound;
  if (err.status >= 400 && err.status < 500) return EXIT.usage;
  return EXIT.failed;
}

const NOT_REACHED = new Set<string>(['no-answer', 'busy', 'failed', 'canceled', 'voicemail', 'dial-error'] satisfies EndReason[]);
const FAULTS = new Set<string>(['provider-error', 'media-error', 'interrupted', 'node-lost'] satisfies EndReason[]);

/** `call`'s exit code from how the call ended. */
export function exitCodeForEnd(endReason: string | null | undefined): number {
  if (endReason && NOT_REACHED.has(endReason)) return EXIT.notReached;
  if (endReason && FAULTS.has(endReason)) return EXIT.callFailed;
  return EXIT.ok;
}
