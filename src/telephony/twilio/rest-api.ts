import http from 'node:http';
import https from 'node:https';

/** A value of a Twilio REST form parameter; arrays repeat the key (e.g. StatusCallbackEvent), undefined is left out. */
export type FormValue = string | number | boolean | string[] | undefined;

/** Twilio's error, as its REST API returns it (https://www.twilio.com/docs/usage/twilios-response#response-formats-exceptions). */
export class TwilioRestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: number,
  ) {
    super(message);
    this.name = 'TwilioRestError';
  }
}

const MAX_RETRIES = 2;
const MAX_RETRY_DELAY_MS = 3000;
const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * The few Twilio REST requests a live call makes (create, update and fetch a Call, start a recording,
 * send a message), over a keep-alive connection with node's own HTTP client. They are what the SDK sends
 * (form-encoded, PascalCase parameters, HTTP Basic with the account SID and auth token, JSON back), minus
 * its cost on the event loop that carries live audio: the SDK loads its REST resources and axios lazily on
 * the first request (160-250 ms, stalling the first call after a start) and spends 2-5 ms of CPU per
 * request on top. Like the SDK with `autoRetry`, a 429 is retried twice with exponential backoff.
 * Rare, set-up requests (configuring a number) still go through the SDK (carrier.ts).
 */
export class TwilioRest {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly auth: string;
  private readonly accountPath: string;

  constructor(
    apiUrl: string,
    accountSid: string,
    authToken: string,
    private readonly timeoutMs = 15_000,
  ) {
    this.base = new URL(apiUrl);
    const secure = this.base.protocol === 'https:';
    this.agent = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
    this.auth = 'Basic ' + Buffer.from(`${accountSid}:${authToken}`).toString('base64');
    this.accountPath = `${this.base.pathname.replace(/\/+$/, '')}/2010-04-01/Accounts/${accountSid}`;
  }

  /** POST to a resource under the account (`/Calls.json`); resolves the JSON resource. */
  post<T>(path: string, params: Record<string, FormValue>): Promise<T> {
    return this.request<T>('POST', path, formBody(params));
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path, undefined);
  }

  private async request<T>(method: string, path: string, body: string | undefined): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.once(method, path, body);
      if (r.status === 429 && attempt < MAX_RETRIES) {
        await new Promise((res) => setTimeout(res, Math.min(MAX_RETRY_DELAY_MS, 100 * 2 ** attempt + Math.random() * 100)));
        continue;
      }
      let json: unknown;
      try {
        json = r.text ? JSON.parse(r.text) : {};
      } catch {
        throw new TwilioRestError(`unreadable response (HTTP ${r.status}) to ${method} ${path}`, r.status);
      }
      if (r.status >= 400) {
        const e = json as { message?: unknown; code?: unknown };
        throw new TwilioRestError(typeof e.message === 'string' ? e.message : `HTTP ${r.status}`, r.status, typeof e.code === 'number' ? e.code : undefined);
      }
      return json as T;
    }
  }

  private once(method: string, path: string, body: string | undefined): Promise<{ status: number; text: string }> {
    const lib = this.base.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port || undefined,
          method,
          path: this.accountPath + path,
          agent: this.agent,
          timeout: this.timeoutMs,
          headers: {
            Authorization: this.auth,
            Accept: 'application/json',
            'User-Agent': 'callwright',
            ...(body !== undefined ? { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_RESPONSE_BYTES) return req.destroy(new Error(`response to ${method} ${path} exceeds ${MAX_RESPONSE_BYTES} bytes`));
            chunks.push(c);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no response to ${method} ${path} in ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Form encoding as the SDK does it: booleans as `true`/`false`, arrays as repeated keys. */
export function formBody(params: Record<string, FormValue>): string {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) form.append(k, x);
    else form.append(k, String(v));
  }
  return form.toString();
}
