/**
 * A small typed client for Callwright's REST API, used by the CLI and by the MCP tools. It holds no
 * rules of its own: dial policy, caps and validation are the server's, so every entry point refuses
 * exactly what the REST API refuses, with the same message, field and rule.
 */
import type { CostBreakdown, DocumentInfo, RunbookSummary, ServerStatus, TranscriptEntry } from '../shared/api-types.js';
import { readSseBody } from './sse.js';
import type { EngineName } from '../voice/engine-names.js';
import type { ScheduledCall } from '../shared/scheduled-call-types.js';

/** `fetch` or anything shaped like it (the MCP route on the server passes one backed by `app.inject`). */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export interface ApiClientOptions {
  baseUrl: string;
  token?: string;
  fetch?: FetchLike;
}

/** An answer other than 2xx (`{error: {code, message, field?}}`): the server's message, code, and the field or policy rule it names. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    /** The dial-policy or cap rule that refused a call (e.g. `emergency`, `max-calls-per-day`). */
    readonly rule?: string,
    readonly retryAfterSec?: number,
    readonly body?: unknown,
    /** What kind of error, for programs (`unknown_field`, `not_configured`, `refused_by_policy`...). */
    readonly code?: string,
    /** The settings to set, when the server is not configured to place calls. */
    readonly missing?: string[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The server could not be reached at all (not running, wrong URL). */
export class UnreachableError extends Error {
  constructor(readonly baseUrl: string, cause: unknown) {
    super(`cannot reach Callwright at ${baseUrl} (${(cause as Error)?.message ?? String(cause)}); is the server running (\`callwright serve\` or \`npm start\`)?`);
    this.name = 'UnreachableError';
  }
}

export interface CreateCallRequest {
  to: string;
  instructions?: string;
  clientId?: string;
  provider?: EngineName;
  runbook?: string;
  variables?: Record<string, string>;
  dtmf?: string;
  overrideCallingHours?: boolean;
  /** Why calling hours are overridden (required with overrideCallingHours). */
  overrideReason?: string;
  /** Place it later (ISO 8601 with an offset): the answer is then the scheduled call. */
  scheduledAt?: string;
  /** Your own labels for the call (string keys; string, number or boolean values), returned wherever the call is. */
  metadata?: CallMetadata;
}

export type CallMetadata = Record<string, string | number | boolean>;

export interface CallSummary {
  id: string;
  status: string;
  to: string;
  clientId: string | null;
  provider: string;
  createdAt: string;
  answeredAt: string | null;
  endedAt: string | null;
  durationSec: number | null;
  answeredBy: string | null;
  endReason: string | null;
  /** The metadata given when the call was placed ({} when none). */
  metadata?: CallMetadata;
  cost?: { total: number; currency: string };
}

export interface CallDetail extends Omit<CallSummary, 'cost'> {
  from: string | null;
  clientName: string | null;
  instructions: string;
  error: string | null;
  transcript: TranscriptEntry[];
  toolCalls: Array<{ seq: number; at: string; name: string; arguments: unknown; result?: string }>;
  recording: { url: string } | null;
  transcriptUrl: string;
  cost: CostBreakdown;
  /** The call's outcome, once the server computes one (newer servers); shown when present. */
  outcome?: unknown;
  [key: string]: unknown;
}

export interface ListCallsQuery {
  limit?: number;
  cursor?: string;
  status?: string;
  endReason?: string;
  clientId?: string;
  q?: string;
}

export interface TimelineEvent {
  seq: number;
  at: string;
  type: string;
  data: any;
}

export interface ClientInfo {
  id: string;
  name: string;
  documents: number;
  chunks: number;
  [key: string]: unknown;
}

export interface ClientDetails extends ClientInfo {
  profile: string;
  systemPrompt: string;
}

export interface SearchResult {
  file: string;
  page: number | null;
  text: string;
  score: number;
  share: string;
  agentCanShare: boolean;
  [key: string]: unknown;
}

type Query = Record<string, string | number | undefined>;

export class ApiClient {
  readonly baseUrl: string;
  private readonly token?: string;
  private readonly fetchFn: FetchLike;

  constructor(o: ApiClientOptions) {
    this.baseUrl = o.baseUrl.replace(/\/+$/, '');
    this.token = o.token;
    this.fetchFn = o.fetch ?? ((url, init) => fetch(url, init));
  }

  // Calls
  /** With `idempotencyKey`, sending the same request again (a retry) returns the same call and places no second one. */
  createCall(body: CreateCallRequest, o: { idempotencyKey?: string } = {}): Promise<{ id: string; status: string; metadata?: CallMetadata; endReason?: string; error?: string; scheduledAt?: string }> {
    return this.json('POST', '/api/calls', { body, ...(o.idempotencyKey ? { headers: { 'Idempotency-Key': o.idempotencyKey } } : {}) });
  }
  listScheduledCalls(q: { status?: string; limit?: number } = {}): Promise<{ scheduledCalls: ScheduledCall[] }> {
    return this.json('GET', '/api/scheduled-calls', { query: { ...q } });
  }
  cancelScheduledCall(id: string): Promise<ScheduledCall> {
    return this.json('POST', `/api/scheduled-calls/${seg(id)}/cancel`);
  }
  getCall(id: string): Promise<CallDetail> {
    return this.json('GET', `/api/calls/${seg(id)}`);
  }
  listCalls(q: ListCallsQuery = {}): Promise<{ calls: CallSummary[]; nextCursor: string | null }> {
    return this.json('GET', '/api/calls', { query: { ...q } });
  }
  hangup(id: string): Promise<{ id: string; status: string; endReason: string | null }> {
    return this.json('POST', `/api/calls/${seg(id)}/hangup`);
  }
  async transcriptText(id: string): Promise<string> {
    return (await this.send('GET', `/api/calls/${seg(id)}/transcript.txt`)).text();
  }
  /** The recording as a response to stream (audio/mpeg). */
  recording(id: string): Promise<Response> {
    return this.send('GET', `/api/calls/${seg(id)}/recording.mp3`);
  }

  /**
   * A call's timeline: the stored events, then live ones, ending when the server ends the stream (the
   * call is over and its records are in). A dropped connection is resumed after the last event seen.
   */
  async *events(id: string, o: { signal?: AbortSignal; reconnects?: number } = {}): AsyncGenerator<TimelineEvent> {
    let lastSeq = 0;
    let failures = 0;
    for (;;) {
      let res: Response;
      try {
        res = await this.send('GET', `/api/calls/${seg(id)}/events`, { headers: { Accept: 'text/event-stream', ...(lastSeq ? { 'Last-Event-ID': String(lastSeq) } : {}) }, signal: o.signal });
      } catch (err) {
        if (err instanceof ApiError || o.signal?.aborted || ++failures > (o.reconnects ?? 5)) throw err;
        await sleep(1000, o.signal);
        continue;
      }
      try {
        for await (const m of readSseBody(res.body!)) {
          if (m.event === 'end') return;
          if (!m.data) continue;
          const ev = JSON.parse(m.data) as TimelineEvent;
          if (ev.seq <= lastSeq) continue;
          lastSeq = ev.seq;
          failures = 0;
          yield ev;
        }
      } catch (err) {
        if (o.signal?.aborted) throw err;
      }
      // The stream closed without `end`: the server restarted or the connection dropped.
      if (o.signal?.aborted || ++failures > (o.reconnects ?? 5)) throw new Error('the event stream closed before the call ended');
      await sleep(1000, o.signal);
    }
  }

  // Clients and their documents
  listClients(): Promise<{ clients: ClientInfo[] }> {
    return this.json('GET', '/api/clients');
  }
  createClient(body: { name: string; id?: string; profile?: string; systemPrompt?: string }): Promise<{ id: string; name: string; documents: number; chunks: number }> {
    return this.json('POST', '/api/clients', { body });
  }
  /** A client's name, profile and system-prompt override. */
  getClient(id: string): Promise<ClientDetails> {
    return this.json('GET', `/api/clients/${seg(id)}`);
  }
  /** Rename (`name`), or change the profile or the system-prompt override (empty: the built-in one). */
  updateClient(id: string, body: { name?: string; profile?: string; systemPrompt?: string }): Promise<ClientDetails> {
    return this.json('PATCH', `/api/clients/${seg(id)}`, { body });
  }
  /** Deletes the client's folder and documents; its calls keep their records. */
  deleteClient(id: string): Promise<{ id: string; documents: number }> {
    return this.json('DELETE', `/api/clients/${seg(id)}`);
  }
  listDocuments(clientId: string): Promise<{ documents: DocumentInfo[]; sharingErrors?: unknown }> {
    return this.json('GET', `/api/clients/${seg(clientId)}/documents`);
  }
  async uploadDocuments(clientId: string, files: Array<{ name: string; data: Blob }>): Promise<{ documents: DocumentInfo[]; errors: Array<{ file: string; error: string }> }> {
    const form = new FormData();
    for (const f of files) form.append('file', f.data, f.name);
    return (await this.send('POST', `/api/clients/${seg(clientId)}/documents`, { form })).json() as Promise<{ documents: DocumentInfo[]; errors: Array<{ file: string; error: string }> }>;
  }
  /** `view: 'agent'` returns only what the call's agent could be given (the sharing rules applied). */
  searchDocuments(clientId: string, q: string, o: { k?: number; view?: 'owner' | 'agent' } = {}): Promise<{ query: string; mode: string; results: SearchResult[] }> {
    return this.json('GET', `/api/clients/${seg(clientId)}/search`, { query: { q, k: o.k, view: o.view } });
  }

  // Runbooks and the server
  listRunbooks(): Promise<{ runbooks: RunbookSummary[] }> {
    return this.json('GET', '/api/runbooks');
  }
  /** Points TWILIO_FROM_NUMBER's voice webhook at the server (docs/inbound.md). */
  setupTwilio(): Promise<{ number: string; numberId: string; voiceUrl: string; voiceMethod: string; statusCallback: string | null; inbound: 'off' | 'assistant' }> {
    return this.json('POST', '/api/setup/twilio');
  }
  status(): Promise<ServerStatus> {
    return this.json('GET', '/api/status');
  }

  private async json<T>(method: string, path: string, o: { body?: unknown; query?: Query; headers?: Record<string, string> } = {}): Promise<T> {
    return (await this.send(method, path, o)).json() as Promise<T>;
  }

  /** One request; any non-2xx answer becomes an ApiError carrying the server's message, field and rule. */
  async send(method: string, path: string, o: { body?: unknown; form?: FormData; query?: Query; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Response> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined && v !== '') qs.set(k, String(v));
    const url = `${this.baseUrl}${path}${qs.size ? `?${qs}` : ''}`;
    const headers: Record<string, string> = { ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}), ...o.headers };
    let body: BodyInit | undefined;
    if (o.form) body = o.form;
    else if (o.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(o.body);
    }
    let res: Response;
    try {
      res = await this.fetchFn(url, { method, headers, body, signal: o.signal });
    } catch (err) {
      if ((err as Error)?.name === 'AbortError') throw err;
      throw new UnreachableError(this.baseUrl, (err as Error & { cause?: Error })?.cause ?? err);
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => '');
    let parsed: { error?: unknown } | undefined;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    // Every error the server answers is {error: {code, message, field?, rule?, missing?}}.
    const e = parsed?.error && typeof parsed.error === 'object' ? (parsed.error as Record<string, unknown>) : {};
    const message = str(e.message) ?? (text.trim() || `HTTP ${res.status}`);
    const retry = Number(res.headers.get('retry-after'));
    const missing = Array.isArray(e.missing) ? e.missing.filter((m): m is string => typeof m === 'string') : undefined;
    throw new ApiError(res.status, message, str(e.field), str(e.rule), Number.isFinite(retry) && retry > 0 ? retry : undefined, parsed ?? text, str(e.code), missing);
  }
}

const seg = (s: string) => encodeURIComponent(s);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
}
