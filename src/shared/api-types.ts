/**
 * Shapes the REST API sends, shared by the server (which builds them) and the web UI (which reads
 * them). Types only, importing nothing but the engine names (a list with no imports of its own), so
 * the browser build can use them without Node's types.
 */
import type { EngineName } from '../voice/engine-names.js';

export interface CostLine {
  item: string;
  quantity: number;
  unit: string;
  unitPrice: number | null;
  amount: number;
  source: 'estimate' | 'carrier' | 'usage';
}

export interface CostBreakdown {
  currency: string;
  total: number;
  priceTable: string;
  lines: CostLine[];
  /** Meters that have usage but no price in the table: their cost is unknown, not zero. */
  unpriced: string[];
}

export interface TranscriptEntry {
  seq: number;
  at: string;
  /** Seconds since the call was answered (or created, before that). */
  offsetSec: number;
  speaker: 'agent' | 'callee';
  text: string;
  /** Agent turns cut off by the callee: what was heard, and how much of the audio. */
  interrupted?: { heardText: string; heardMs: number; totalMs: number };
}

export type DocumentStatus = 'pending' | 'indexing' | 'indexed' | 'failed';

export interface DocumentInfo {
  id: string;
  file: string;
  bytes: number;
  sha256: string;
  status: DocumentStatus;
  /** Why indexing failed, or (status 'indexed', embedded false) why the embeddings are missing. */
  error?: string;
  chunks: number;
  pages?: number;
  /** True when every chunk has a vector for the configured embedder. */
  embedded: boolean;
  indexedAt?: string;
  updatedAt: string;
  /**
   * What the agent may do with it (CLIENTS_DIR/<id>/sharing.txt): `always` (pushed into the call-start
   * prompt and returned by lookups), `when-asked-and-relevant` (only returned by lookup_context when the
   * passage matches the question), `never` (never reaches the model).
   */
  share: ShareRule;
  /** True for profile.txt: indexed like a document, edited in the client's folder, never deleted here. */
  profile: boolean;
}

export type ShareRule = 'always' | 'when-asked-and-relevant' | 'never';

/** `GET /api/status`: what the server is configured with, for the UI. Never a secret, a path or a list's entries. */
export interface ServerStatus {
  version: string;
  /**
   * True when the carrier API is on this machine (a loopback TWILIO_API_URL: the demo's and the tests'
   * simulator): no call reaches the phone network. The UI shows a "Simulated" badge.
   */
  simulated: boolean;
  carrier: { name: string; configured: boolean };
  provider: EngineName;
  publicUrl: boolean;
  readyToCall: boolean;
  missing: string[];
  liveCalls: number;
  engines: Record<EngineName, { configured: boolean; model: string }>;
  defaultCountry: string;
  recordCalls: boolean;
  /** Who may be called, when, and what a call and a day may cost (0 = no limit). */
  safety: {
    /** "HH:MM-HH:MM" in the callee's local time, or "off". */
    callingHours: string;
    /** How many entries the allow list has (numbers, prefixes, countries); 0 = every destination allowed. */
    allowListEntries: number;
    doNotCallList: boolean;
    maxConcurrentCalls: number;
    maxCallsPerDay: number;
    maxCostPerCallUsd: number;
    maxCostPerDayUsd: number;
    maxCallSeconds: number;
    discloseAi: boolean;
    announceRecording: boolean;
  };
  /** Document search: which embeddings provider (none = keyword search only) and how many excerpts a call gets. */
  knowledge: { embeddings: 'openai' | 'gemini' | 'none'; topK: number; watch: boolean };
}

/** A call the dial policy refused (`GET /api/refusals`): refusals are not calls, and have no call id. */
export interface Refusal {
  id: number;
  at: string;
  /** The number as it was given (at most 32 characters). */
  to: string;
  clientId: string | null;
  /** emergency, premium-rate, shared-cost, invalid, format, not-allowed, do-not-call, calling-hours, max-… */
  rule: string;
  message: string;
}

/** One runbook as `GET /api/runbooks` lists it. */
export interface RunbookSummary {
  name: string;
  file: string;
  /** False when the file has problems: no call can be made from it until they are fixed. */
  valid: boolean;
  problems: Array<{ line?: number; field?: string; message: string }>;
  title?: string;
  description?: string | null;
  goal?: string;
  variables?: Record<string, { description: string; required: boolean; example?: string; default?: string }>;
}

/** Whether a call met its goal, as judged from the transcript after the call (docs/outcome.md). */
export type GoalMet = 'achieved' | 'partly' | 'not-achieved' | 'unknown';

/** Where a fact was said: a transcript line (its index in `transcript`) and the words quoted from it. */
export interface OutcomeCitation {
  line: number;
  /** The timeline event of that line. */
  seq: number;
  speaker: 'agent' | 'callee';
  quote: string;
}

/** One fact of the call's outcome schema. `value` is null when the transcript does not state it. */
export interface OutcomeField {
  name: string;
  value: string | number | boolean | null;
  citation: OutcomeCitation | null;
  /** The model gave a value whose quote is not in the transcript: it is kept here, not used as the value. */
  rejected?: { value: unknown; line: unknown; quote: unknown; reason: string };
}

export type OutcomeStatus = 'pending' | 'computed' | 'not-computed' | 'failed';

export interface WebhookDelivery {
  status: 'not-configured' | 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastError?: string;
  deliveredAt?: string;
}

/** What came of a call: shown first on its page, in the list, the exports, the API and the webhook. */
export interface CallOutcome {
  /** pending: the call is live or the extraction is running; not-computed: no provider (reason says why); failed: the provider failed. */
  status: OutcomeStatus;
  reason?: string;
  goal: string;
  summary: string | null;
  goalMet: GoalMet | null;
  fields: OutcomeField[];
  /** Facts that do not match the call's outcome schema (the facts are still shown). */
  schemaErrors?: string[];
  provider?: string;
  model?: string;
  computedAt?: string;
  webhook: WebhookDelivery;
}
