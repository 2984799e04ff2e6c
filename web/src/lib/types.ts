/** The shapes the UI reads from the REST API (see the README's API section). */
import type { CallOutcome, CostBreakdown, DocumentInfo, GoalMet, ServerStatus, ShareRule, TranscriptEntry } from '../../../src/shared/api-types.js';
export type { ShareRule };

export type { CostLine, CostBreakdown, TranscriptEntry, DocumentStatus, Refusal, RunbookSummary, CallOutcome, GoalMet, OutcomeField } from '../../../src/shared/api-types.js';
export type ClientDocument = DocumentInfo;

export type CallStatus = 'queued' | 'dialing' | 'ringing' | 'answered' | 'screening' | 'talking' | 'ended';
import type { EngineName } from '../../../src/voice/engine-names.js';
export type Engine = EngineName;

export interface CallSummary {
  id: string;
  status: CallStatus;
  /** `inbound`: a call to our number, answered by the assistant (`from` is the caller). */
  direction: 'inbound' | 'outbound';
  to: string;
  /** Inbound calls only in the list: the caller ID. */
  from?: string | null;
  clientId: string | null;
  provider: Engine;
  createdAt: string;
  answeredAt: string | null;
  endedAt: string | null;
  durationSec: number | null;
  answeredBy: string | null;
  endReason: string | null;
  /** What the call was for: "Runbook: name", or the first line of its instructions. */
  purpose?: string;
  /** The list says whether there is one; the call's page plays it. */
  recording?: { url: string } | null;
  cost?: { total: number; currency: string };
  /** The list carries the verdict only; null for calls placed before outcomes existed. */
  outcome?: { status: CallOutcome['status']; goalMet: GoalMet | null; summary: string | null } | null;
  /** The caller's own labels from POST /api/calls ({} when none). */
  metadata?: Record<string, string | number | boolean>;
}

export interface CallDetail extends CallSummary {
  clientName: string | null;
  instructions: string;
  error: string | null;
  transcript: TranscriptEntry[];
  toolCalls: Array<{ seq: number; at: string; name: string; arguments: unknown; result?: string }>;
  recording: { url: string } | null;
  transcriptUrl: string;
  exportUrl?: string;
  cost: CostBreakdown;
  outcome: CallOutcome | null;
}

export interface TimelineEvent {
  seq: number;
  at: string;
  type: string;
  data: Record<string, any>;
}

export type Status = ServerStatus;

export interface Client {
  id: string;
  name: string;
  documents: number;
  chunks: number;
}

/** GET /api/clients/:id: what the client page edits. */
export interface ClientDetails extends Client {
  profile: string;
  systemPrompt: string;
}

/** GET /api/calls/overview: today (UTC) against the caps; a max of 0 means no cap. */
export interface CallsOverview {
  day: string;
  calls: { today: number; max: number };
  spend: { today: number; max: number; currency: string };
  live: { now: number; max: number };
  refused: { today: number };
}

/** GET /api/calls/:id/repeat: the POST /api/calls body that places the call again. */
export interface RepeatRequest {
  to: string;
  instructions: string;
  clientId?: string;
  provider: Engine;
  goal?: string;
  outcomeSchema?: Record<string, unknown>;
  voicemail?: Record<string, unknown>;
  dtmf?: string;
  hold?: { maxMinutes: number };
}

export interface SearchResult {
  chunkId: string;
  documentId: string;
  file: string;
  page?: number | null;
  position: number;
  text: string;
  score: number;
  ranks: { lexical?: number; vector?: number };
  /** The document's sharing rule and whether lookup_context would hand this passage to the agent (search API). */
  share?: ShareRule;
  agentCanShare?: boolean;
  relevance?: number;
}

export interface SearchResponse {
  query: string;
  mode: string;
  results: SearchResult[];
}
