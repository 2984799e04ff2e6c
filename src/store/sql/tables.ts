import type { Generated } from 'kysely';

/**
 * The store's tables as the query layer (Kysely) sees them, for both dialects. Column names are the
 * database's (snake_case). Times are ISO-8601 strings in both (TEXT in SQLite, TEXT in PostgreSQL too:
 * the same string sorts and compares the same way in both, so no query needs a dialect's date type).
 * The knowledge index's tables (kb_*) are not here: they stay in each node's SQLite (docs/store.md).
 */
export interface Tables {
  calls: CallsTable;
  call_events: { call_id: string; seq: number; at: string; type: string; data: string };
  webhook_receipts: { key: string; at: string };
  call_refusals: { id: Generated<number>; at: string; to_number: string; client_id: string | null; rule: string; message: string };
  call_outcomes: {
    call_id: string;
    goal: string | null;
    outcome_schema: string | null;
    status: string;
    goal_met: string | null;
    result: string | null;
    webhook: string | null;
    updated_at: string;
  };
  deleted_calls: { id: string; created_at: string; cost_usd: number; deleted_at: string };
  sessions: { id_hash: string; created_at: string; expires_at: string; token_fingerprint: string; revoked_at: string | null };
  scheduled_calls: {
    id: string;
    created_at: string;
    scheduled_at: string;
    status: string;
    request: string;
    to_number: string;
    client_id: string | null;
    call_id: string | null;
    reason: string | null;
    updated_at: string;
  };
  idempotency_keys: { key: string; body_hash: string; created_at: string; status: number | null; response: string | null };
  campaigns: { id: string; name: string; status: string; spec: string; total: number; created_at: string; updated_at: string };
  campaign_numbers: {
    campaign_id: string;
    idx: number;
    to_number: string;
    variables: string;
    timezone: string | null;
    state: string;
    outcome: string | null;
    attempts: Generated<number>;
    next_at: string;
    lease_owner: string | null;
    lease_until: string | null;
    call_id: string | null;
    call_ids: Generated<string>;
    end_reason: string | null;
    detail: string | null;
    updated_at: string;
  };
}

export interface CallsTable {
  id: string;
  created_at: string;
  updated_at: string;
  to_number: string;
  from_number: string | null;
  client_id: string | null;
  client_name: string | null;
  instructions: string;
  provider: string;
  status: string;
  end_reason: string | null;
  answered_by: string | null;
  carrier: string;
  carrier_call_id: string | null;
  stream_secret: string;
  answered_at: string | null;
  ended_at: string | null;
  carrier_duration_sec: number | null;
  carrier_price: number | null;
  carrier_price_unit: string | null;
  recording_sid: string | null;
  recording_path: string | null;
  transcript_path: string | null;
  error: string | null;
  direction: Generated<string>;
  metadata: string | null;
  usage_cost_usd: Generated<number>;
  cost_usd: Generated<number>;
  node_id: string | null;
  lease_until: string | null;
}
