import { createHmac } from 'node:crypto';

/**
 * The signed POST of a call's outcome to CALL_WEBHOOK_URL (docs/outcome.md has the receiver's check).
 * Signature: `Callwright-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, the
 * scheme Stripe uses: the timestamp is signed with the body, so a receiver that refuses old timestamps
 * refuses a replayed request. Each try is signed afresh; `Callwright-Delivery` stays the same across the
 * tries of one delivery, so a receiver can drop the duplicate a lost response causes.
 */
export const SIGNATURE_HEADER = 'Callwright-Signature';
export const DELIVERY_HEADER = 'Callwright-Delivery';

export function signWebhook(secret: string, body: string, timestampSec: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestampSec}.${body}`).digest('hex');
  return `t=${timestampSec},v1=${v1}`;
}

/** Pauses before each retry (the first try goes at once); past the list the last pause repeats. */
export const DEFAULT_RETRY_DELAYS_MS = [5_000, 30_000, 120_000, 600_000, 1_800_000];

export interface WebhookTarget {
  url: string;
  secret: string;
  maxAttempts: number;
  retryDelaysMs?: number[];
  timeoutMs?: number;
}

export type AttemptResult = { ok: true; status: number } | { ok: false; retry: boolean; error: string };

/** One try. 2xx is delivered; a network error, a timeout, 408, 429 or 5xx may pass; other 4xx will not. */
export async function postOnce(t: WebhookTarget, body: string, deliveryId: string, now: () => Date): Promise<AttemptResult> {
  const ts = Math.floor(now().getTime() / 1000);
  try {
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'Callwright-Webhook', [SIGNATURE_HEADER]: signWebhook(t.secret, body, ts), [DELIVERY_HEADER]: deliveryId },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(t.timeoutMs ?? 10_000),
    });
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    const retry = res.status === 408 || res.status === 429 || res.status >= 500;
    return { ok: false, retry, error: `HTTP ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    // fetch says only "fetch failed"; the cause names the network error (ECONNREFUSED, ENOTFOUND ...).
    const why = e.name === 'TimeoutError' ? 'timed out' : e.cause?.code ?? e.cause?.message ?? e.message;
    return { ok: false, retry: true, error: why };
  }
}

/**
 * Tries until delivered, refused for good, or out of attempts; `onAttempt` hears every try (the call's
 * timeline records each). Never rejects. `signal` ends the waiting early (shutdown): the delivery then
 * stays failed, with the outcome kept in the call's record.
 */
export async function deliver(
  t: WebhookTarget,
  body: string,
  deliveryId: string,
  o: { now: () => Date; onAttempt: (attempt: number, r: AttemptResult, willRetry: boolean) => void; signal: AbortSignal },
): Promise<{ delivered: boolean; attempts: number; lastError?: string }> {
  const delays = t.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  let lastError: string | undefined;
  for (let attempt = 1; attempt <= t.maxAttempts; attempt++) {
    if (attempt > 1) {
      await sleep(delays[Math.min(attempt - 2, delays.length - 1)] ?? 0, o.signal);
      if (o.signal.aborted) return { delivered: false, attempts: attempt - 1, lastError: `${lastError}; stopped (server shutting down)` };
    }
    const r = await postOnce(t, body, deliveryId, o.now);
    const willRetry = !r.ok && r.retry && attempt < t.maxAttempts;
    o.onAttempt(attempt, r, willRetry);
    if (r.ok) return { delivered: true, attempts: attempt };
    lastError = r.error;
    if (!willRetry) return { delivered: false, attempts: attempt, lastError };
  }
  return { delivered: false, attempts: t.maxAttempts, lastError };
}

/** A pause that ends early, without throwing, when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
