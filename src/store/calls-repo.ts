import type { Db } from './database.js';
import type { CallStatus, EndReason } from '../calls/state.js';

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
}

const COLUMNS: Record<keyof CallRow, string> = {
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
};
const SELECT = `SELECT ${Object.entries(COLUMNS).map(([k, c]) => `${c} AS "${k}"`).join(', ')} FROM calls`;

export class CallsRepo {
  private readonly byId;
  private readonly byCarrierId;

  constructor(private readonly db: Db) {
    this.byId = db.prepare(`${SELECT} WHERE id = ?`);
    this.byCarrierId = db.prepare(`${SELECT} WHERE carrier_call_id = ?`);
  }

  insert(row: CallRow): void {
    const keys = Object.keys(COLUMNS) as Array<keyof CallRow>;
    this.db.prepare(`INSERT INTO calls (${keys.map((k) => COLUMNS[k]).join(', ')}) VALUES (${keys.map((k) => '@' + k).join(', ')})`).run(row);
  }

  get(id: string): CallRow | undefined {
    return this.byId.get(id) as CallRow | undefined;
  }

  getByCarrierId(carrierCallId: string): CallRow | undefined {
    return this.byCarrierId.get(carrierCallId) as CallRow | undefined;
  }

  update(id: string, patch: Partial<Omit<CallRow, 'id' | 'createdAt'>>): void {
    const keys = Object.keys(patch) as Array<keyof CallRow>;
    if (keys.length === 0) return;
    const sets = keys.map((k) => `${COLUMNS[k]} = @${k}`).join(', ');
    this.db.prepare(`UPDATE calls SET ${sets}, updated_at = @__now WHERE id = @__id`).run({ ...patch, __now: new Date().toISOString(), __id: id });
  }

  /** Newest first; `before` is an opaque cursor from a previous page. */
  list(limit: number, before?: { createdAt: string; id: string }): CallRow[] {
    if (before) {
      return this.db
        .prepare(`${SELECT} WHERE (created_at, id) < (?, ?) ORDER BY created_at DESC, id DESC LIMIT ?`)
        .all(before.createdAt, before.id, limit) as CallRow[];
    }
    return this.db.prepare(`${SELECT} ORDER BY created_at DESC, id DESC LIMIT ?`).all(limit) as CallRow[];
  }

  listLive(): CallRow[] {
    return this.db.prepare(`${SELECT} WHERE status != 'ended'`).all() as CallRow[];
  }
}
