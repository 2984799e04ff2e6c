/**
 * Outgoing webhooks, signed and retried the way Twilio does it, so the product's signature check and
 * idempotency handling are exercised for real.
 */
import http from 'node:http';
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { AbortedError, sleep } from './util.js';

export interface WebhookRequest {
  kind: string;
  url: string;
  method?: string;
  params: Record<string, string>;
}

export interface WebhookResult {
  ok: boolean;
  status: number | null;
  body: string;
  attempts: number;
  error?: string;
}

export interface WebhookAttempt {
  kind: string;
  url: string;
  method: string;
  attempt: number;
  status: number | null;
  error?: string;
  params: Record<string, string>;
}

export interface WebhookSenderOptions {
  authToken: string;
  timeoutMs: number;
  retryDelayMs: number;
  /** Twilio retries a failed webhook up to this many times. */
  retries?: number;
}

export function signature(authToken: string, url: string, params: Record<string, string>): string {
  return getExpectedTwilioSignature(authToken, url, params);
}

export class WebhookSender {
  private readonly retries: number;

  constructor(private readonly opts: WebhookSenderOptions) {
    this.retries = opts.retries ?? 2;
  }

  /** Delivers one webhook; 5xx and connection errors are retried, 4xx are final (as on Twilio). */
  async send(req: WebhookRequest, signal: AbortSignal, onAttempt: (a: WebhookAttempt) => void): Promise<WebhookResult> {
    const method = (req.method ?? 'POST').toUpperCase() === 'GET' ? 'GET' : 'POST';
    // Twilio keeps one idempotency token across the retries of one webhook.
    const token = randomUUID();
    let last: WebhookResult = { ok: false, status: null, body: '', attempts: 0 };
    for (let attempt = 1; attempt <= this.retries + 1; attempt++) {
      if (attempt > 1) await sleep(this.opts.retryDelayMs, signal);
      const r = await this.once(req.url, method, req.params, token, signal);
      onAttempt({ kind: req.kind, url: req.url, method, attempt, status: r.status, error: r.error, params: req.params });
      last = { ...r, attempts: attempt };
      if (r.ok) return last;
      if (r.status !== null && r.status < 500) return last;
      if (signal.aborted) throw new AbortedError();
    }
    return last;
  }

  private once(
    url: string,
    method: 'GET' | 'POST',
    params: Record<string, string>,
    token: string,
    signal: AbortSignal,
  ): Promise<Omit<WebhookResult, 'attempts'>> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new AbortedError());
      let target: URL;
      let fullUrl = url;
      let body = '';
      let sig: string;
      try {
        if (method === 'GET') {
          // For GET Twilio moves the parameters into the query string and signs the resulting URL alone.
          const qs = new URLSearchParams(params).toString();
          fullUrl = qs ? url + (url.includes('?') ? '&' : '?') + qs : url;
          sig = signature(this.opts.authToken, fullUrl, {});
        } else {
          body = new URLSearchParams(params).toString();
          sig = signature(this.opts.authToken, url, params);
        }
        target = new URL(fullUrl);
      } catch (e) {
        return resolve({ ok: false, status: null, body: '', error: `invalid url: ${(e as Error).message}` });
      }
      const headers: Record<string, string> = {
        'X-Twilio-Signature': sig,
        'I-Twilio-Idempotency-Token': token,
        'User-Agent': 'TwilioProxy/1.1',
        Accept: '*/*',
        'Cache-Control': 'max-age=259200',
        Connection: 'close',
      };
      if (method === 'POST') {
        headers['Content-Type'] = 'application/x-www-form-urlencoded';
        headers['Content-Length'] = String(Buffer.byteLength(body));
      }
      const lib = target.protocol === 'https:' ? https : http;
      let settled = false;
      const finish = (r: Omit<WebhookResult, 'attempts'>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      };
      // agent:false so no pooled keep-alive socket outlives the simulator.
      const request = lib.request(target, { method, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          finish({ ok: status >= 200 && status < 300, status, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (e) => finish({ ok: false, status: null, body: '', error: e.message }));
      });
      const timer = setTimeout(() => {
        request.destroy(new Error(`timeout after ${this.opts.timeoutMs} ms`));
      }, this.opts.timeoutMs);
      const onAbort = (): void => {
        request.destroy();
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          reject(new AbortedError());
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
      request.on('error', (e) => finish({ ok: false, status: null, body: '', error: e.message }));
      request.end(body);
    });
  }
}
