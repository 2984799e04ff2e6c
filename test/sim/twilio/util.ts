import { randomBytes } from 'node:crypto';

/** Twilio SIDs are a two-letter type prefix plus 32 lowercase hex digits. */
export function newSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

/** Twilio renders dates in RFC 2822 with a numeric zone, never "GMT". */
export function rfc2822(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

export const E164 = /^\+[1-9]\d{1,14}$/;

/** Accepts what Twilio dials: E.164 numbers, SIP URIs and Client identities. */
export function isDialable(v: string | undefined): boolean {
  if (!v) return false;
  return E164.test(v) || /^sip:\S+@\S+$/.test(v) || /^client:\S+$/.test(v);
}

export class AbortedError extends Error {
  constructor() {
    super('aborted');
  }
}

/** A sleep that never outlives its owner: aborting rejects it and clears the timer. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError());
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new AbortedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves when the signal aborts; used to race long waits against interruption. */
export function whenAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
