import { randomBytes, randomUUID } from 'node:crypto';
import type { CallStatus, EndReason } from '../calls/state.js';
import type { GoalMet } from '../shared/api-types.js';
import type { CallsTable } from './sql/tables.js';

export interface CallRow {
  id: string;
  createdAt: string;
  updatedAt: string;
  to: string;
  from: string | null;
  clientId: string | null;
  clientName: string | null;
  instructions: string;
  provider: string;
  status: CallStatus;
  endReason: EndReason | null;
  answeredBy: string | null;
  carrier: string;
  carrierCallId: string | null;
  streamSecret: string;
  answeredAt: string | null;
  endedAt: string | null;
  carrierDurationSec: number | null;
  carrierPrice: number | null;
  carrierPriceUnit: string | null;
  recordingSid: string | null;
  recordingPath: string | null;
  transcriptPath: string | null;
  error: string | null;
  /** `outbound`: placed by us; `inbound`: answered by us (`from` is the caller, `to` our number). */
  direction: CallDirection;
  /** The caller's metadata as stored (JSON text; calls/metadata.ts reads it), null or absent when none was given. */
  metadataJson?: string | null;
  /** The engines' usage so far, priced (USD): added to as usage arrives. */
  usageCostUsd?: number;
  /**
   * The call's cost so far (USD), as records/cost.ts prices it: usage plus the carrier's part, refreshed with
   * each usage batch, each change of the row and each lease renewal; final once the call has ended. The
   * daily spend cap sums it (docs/store.md).
   */
  costUsd?: number;
  /** The node holding the live call, and until when its hold counts (renewed while it lives). */
  nodeId?: string | null;
  leaseUntil?: string | null;
}

export type CallDirection = 'outbound' | 'inbound';

/** What a new call is; everything else starts empty (queued, nothing recorded yet). */
export type NewCall = Pick<CallRow, 'to' | 'from' | 'clientId' | 'clientName' | 'instructions' | 'provider' | 'carrier' | 'carrierCallId' | 'direction' | 'metadataJson'>;

/** A new call's row: a fresh id and per-call stream secret, created now, queued. */
export function newCallRow(call: NewCall, now: Date): CallRow {
  const at = now.toISOString();
  return {
    metadataJson: null,
    ...call,
    id: randomUUID(),
    createdAt: at,
    updatedAt: at,
    status: 'queued',
    endReason: null,
    answeredBy: null,
    streamSecret: randomBytes(24).toString('base64url'),
    answeredAt: null,
    endedAt: null,
    carrierDurationSec: null,
    carrierPrice: null,
    carrierPriceUnit: null,
    recordingSid: null,
    recordingPath: null,
    transcriptPath: null,
    error: null,
    usageCostUsd: 0,
    costUsd: 0,
    nodeId: null,
    leaseUntil: null,
  };
}

/** The row's fields and their columns. */
export const COLUMNS = {
  id: 'id',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  to: 'to_number',
  from: 'from_number',
  clientId: 'client_id',
  clientName: 'client_name',
  instructions: 'instructions',
  provider: 'provider',
  status: 'status',
  endReason: 'end_reason',
  answeredBy: 'answered_by',
  carrier: 'carrier',
  carrierCallId: 'carrier_call_id',
  streamSecret: 'stream_secret',
  answeredAt: 'answered_at',
  endedAt: 'ended_at',
  carrierDurationSec: 'carrier_duration_sec',
  carrierPrice: 'carrier_price',
  carrierPriceUnit: 'carrier_price_unit',
  recordingSid: 'recording_sid',
  recordingPath: 'recording_path',
  transcriptPath: 'transcript_path',
  error: 'error',
  direction: 'direction',
  metadataJson: 'metadata',
  usageCostUsd: 'usage_cost_usd',
  costUsd: 'cost_usd',
  nodeId: 'node_id',
  leaseUntil: 'lease_until',
} as const satisfies Record<keyof CallRow, keyof CallsTable>;

const FIELDS = Object.entries(COLUMNS) as Array<[keyof CallRow, keyof CallsTable]>;

/** A stored row as the repository hands it out. */
export function fromDb(r: Record<string, unknown>): CallRow {
  const out: Record<string, unknown> = {};
  for (const [k, c] of FIELDS) out[k] = r[c] ?? null;
  // PostgreSQL hands DOUBLE PRECISION back as a number, SQLite's REAL too; an absent sum is 0.
  out.usageCostUsd = Number(r.usage_cost_usd ?? 0);
  out.costUsd = Number(r.cost_usd ?? 0);
  return out as unknown as CallRow;
}

/** The columns a (partial) row sets. */
export function toDb(patch: Partial<CallRow>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, c] of FIELDS) if (k in patch && patch[k] !== undefined) out[c] = patch[k];
  return out;
}

/** History filters: `live` means any status before `ended`. */
export interface CallFilter {
  status?: CallStatus | 'live';
  endReason?: EndReason;
  clientId?: string;
  text?: string;
  /** The outcome's verdict (call_outcomes); `none`: no verdict (pending, not computed, failed, or older calls). */
  goalMet?: GoalMet | 'none';
  direction?: CallDirection;
}

/**
 * The history filter in code, for rows whose stored version is not current yet. `goalMet` is not checked
 * here: a call whose writes are still queued has no outcome yet, and stored rows were filtered by SQL.
 */
export function matchesFilter(r: CallRow, f: CallFilter): boolean {
  if (f.status === 'live' ? r.status === 'ended' : f.status && r.status !== f.status) return false;
  if (f.endReason && r.endReason !== f.endReason) return false;
  if (f.direction && r.direction !== f.direction) return false;
  if (f.clientId && r.clientId !== f.clientId) return false;
  if (f.text) {
    const t = f.text.toLowerCase();
    if (![r.to, r.direction === 'inbound' ? r.from : null, r.clientName, r.clientId, r.instructions].some((v) => v?.toLowerCase().includes(t))) return false;
  }
  return true;
}

/** Newest first, as the history lists them. */
export function newestFirst(a: CallRow, b: CallRow): number {
  return a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1;
}
