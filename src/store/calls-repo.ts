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

/** History filters: `live` means any status before `ended`. */
export interface CallFilter {
  status?: CallStatus | 'live';
  endReason?: EndReason;
  clientId?: string;
  text?: string;
}

export class CallsRepo {
  private readonly byId;
  private readonly byCarrierId;
  private readonly createdSince;
  private readonly createdSinceCount;

  constructor(private readonly db: Db) {
    this.byId = db.prepare(`${SELECT} WHERE id = ?`);
    this.byCarrierId = db.prepare(`${SELECT} WHERE carrier_call_id = ?`);
    this.createdSince = db.prepare(`${SELECT} WHERE created_at >= ?`);
    this.createdSinceCount = db.prepare('SELECT COUNT(*) FROM calls WHERE created_at >= ?').pluck();
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

  /** Newest first; `before` is an opaque cursor from a previous page; `filter` narrows the list (history search). */
  list(limit: number, before?: { createdAt: string; id: string }, filter: CallFilter = {}): CallRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (before) {
      where.push('(created_at, id) < (?, ?)');
      args.push(before.createdAt, before.id);
    }
    if (filter.status === 'live') where.push("status != 'ended'");
    else if (filter.status) {
      where.push('status = ?');
      args.push(filter.status);
    }
    if (filter.endReason) {
      where.push('end_reason = ?');
      args.push(filter.endReason);
    }
    if (filter.clientId) {
      where.push('client_id = ?');
      args.push(filter.clientId);
    }
    if (filter.text) {
      // Number, client or instructions, case-insensitive; LIKE's wildcards in the search are taken literally.
      const like = `%${filter.text.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
      where.push("(to_number LIKE ? ESCAPE '\\' OR client_name LIKE ? ESCAPE '\\' OR client_id LIKE ? ESCAPE '\\' OR instructions LIKE ? ESCAPE '\\')");
      args.push(like, like, like, like);
    }
    const sql = `${SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
    return this.db.prepare(sql).all(...args, limit) as CallRow[];
  }

  listLive(): CallRow[] {
    return this.db.prepare(`${SELECT} WHERE status != 'ended'`).all() as CallRow[];
  }

  /** Calls created at or after `iso` (the daily caps' day). */
  countCreatedSince(iso: string): number {
    return this.createdSinceCount.get(iso) as number;
  }

  listCreatedSince(iso: string): CallRow[] {
    return this.createdSince.all(iso) as CallRow[];
  }
}
