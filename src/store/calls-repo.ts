import { randomBytes, randomUUID } from 'node:crypto';
import { writerOf, type Db } from './database.js';
import type { StoreWriter } from './write-queue.js';
import type { CallStatus, EndReason } from '../calls/state.js';
import type { GoalMet } from '../shared/api-types.js';

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
  };
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
  direction: 'direction',
  metadataJson: 'metadata',
};
const SELECT = `SELECT ${Object.entries(COLUMNS).map(([k, c]) => `${c} AS "${k}"`).join(', ')} FROM calls`;

/** Rows kept in memory at most (live calls' always; ended ones, most recent first, up to this). */
const MAX_KEPT_ROWS = 2000;

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

/** A call's writes still queued (the database was locked): what reads must add to the stored row. */
interface Pending {
  /** The whole row, when the insert itself waits. */
  row?: CallRow;
  patch: Partial<CallRow>;
  writes: number;
}

/**
 * The calls table. Writes never wait on a lock (see write-queue.ts); while one waits, every read here
 * returns the row as it will be once written, so a status change is seen at once by whoever reads next.
 *
 * Rows of live calls are kept in memory (this repository is the table's only writer, so a kept row stays
 * current by applying each update to it): a call's webhooks, stream and status paths read its row a dozen
 * times or more, and each read was a SELECT of every column on the event loop that carries live audio.
 */
export class CallsRepo {
  private readonly byId;
  private readonly byCarrierId;
  private readonly createdSince;
  private readonly createdSinceCount;
  private readonly insertStmt;
  /** One prepared UPDATE per set of columns (a call's life uses a handful). */
  private readonly updateStmts = new Map<string, ReturnType<Db['prepare']>>();
  private readonly writer: StoreWriter;
  private readonly pending = new Map<string, Pending>();
  private deletedSinceStmt: ReturnType<Db['prepare']> | undefined;
  /** Kept rows (every live call's, and recently read ended ones), oldest first. */
  private readonly kept = new Map<string, CallRow>();
  private readonly idByCarrierId = new Map<string, string>();
  /** Rows read from the table (for tests and benchmarks: a kept row costs none). */
  selects = 0;

  constructor(private readonly db: Db) {
    this.writer = writerOf(db);
    this.byId = db.prepare(`${SELECT} WHERE id = ?`);
    this.byCarrierId = db.prepare(`${SELECT} WHERE carrier_call_id = ?`);
    this.createdSince = db.prepare(`${SELECT} WHERE created_at >= ?`);
    this.createdSinceCount = db.prepare('SELECT COUNT(*) FROM calls WHERE created_at >= ?').pluck();
    const keys = Object.keys(COLUMNS) as Array<keyof CallRow>;
    this.insertStmt = db.prepare(`INSERT INTO calls (${keys.map((k) => COLUMNS[k]).join(', ')}) VALUES (${keys.map((k) => '@' + k).join(', ')})`);
  }

  insert(row: CallRow): void {
    this.write(row.id, () => this.insertStmt.run({ metadataJson: null, ...row }), { row: { ...row }, patch: {} }, 'insert call');
    this.keep({ metadataJson: null, ...row });
  }

  /** The call placed for a campaign's dial attempt, found by the attempt key in its metadata (the dial's idempotency key). */
  idForCampaignAttempt(attemptKey: string): string | undefined {
    return this.db.prepare(`SELECT id FROM calls WHERE json_extract(metadata, '$.campaignAttempt') = ? LIMIT 1`).pluck().get(attemptKey) as string | undefined;
  }

  get(id: string): CallRow | undefined {
    const kept = this.kept.get(id);
    if (kept) return { ...kept };
    this.selects++;
    const row = this.withPending(id, this.byId.get(id) as CallRow | undefined);
    if (row) this.keep({ ...row });
    return row;
  }

  getByCarrierId(carrierCallId: string): CallRow | undefined {
    const keptId = this.idByCarrierId.get(carrierCallId);
    if (keptId !== undefined && this.kept.has(keptId)) return this.get(keptId);
    this.selects++;
    for (const id of this.pending.keys()) {
      const row = this.get(id);
      if (row?.carrierCallId === carrierCallId) return row;
    }
    return this.withPending(undefined, this.byCarrierId.get(carrierCallId) as CallRow | undefined);
  }

  update(id: string, patch: Partial<Omit<CallRow, 'id' | 'createdAt'>>): void {
    const keys = Object.keys(patch) as Array<keyof CallRow>;
    if (keys.length === 0) return;
    const sets = keys.map((k) => `${COLUMNS[k]} = @${k}`).join(', ');
    const updatedAt = new Date().toISOString();
    const sql = `UPDATE calls SET ${sets}, updated_at = @__now WHERE id = @__id`;
    let stmt = this.updateStmts.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.updateStmts.set(sql, stmt);
    }
    const run = stmt;
    this.write(id, () => run.run({ ...patch, __now: updatedAt, __id: id }), { patch: { ...patch, updatedAt } }, `update call ${keys.join(',')}`);
    const kept = this.kept.get(id);
    if (kept) {
      Object.assign(kept, patch, { updatedAt });
      if (kept.carrierCallId) this.idByCarrierId.set(kept.carrierCallId, id);
    }
  }

  /** Keeps a row; past the bound, the oldest ended calls' rows go (a live call's row is never dropped). */
  private keep(row: CallRow): void {
    this.kept.set(row.id, row);
    if (row.carrierCallId) this.idByCarrierId.set(row.carrierCallId, row.id);
    if (this.kept.size <= MAX_KEPT_ROWS) return;
    for (const [id, r] of this.kept) {
      if (this.kept.size <= MAX_KEPT_ROWS * 0.9) break;
      if (r.status !== 'ended') continue;
      this.kept.delete(id);
      if (r.carrierCallId) this.idByCarrierId.delete(r.carrierCallId);
    }
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
    if (filter.direction) {
      where.push('direction = ?');
      args.push(filter.direction);
    }
    if (filter.clientId) {
      where.push('client_id = ?');
      args.push(filter.clientId);
    }
    if (filter.goalMet === 'none') where.push('id NOT IN (SELECT call_id FROM call_outcomes WHERE goal_met IS NOT NULL)');
    else if (filter.goalMet) {
      where.push('id IN (SELECT call_id FROM call_outcomes WHERE goal_met = ?)');
      args.push(filter.goalMet);
    }
    if (filter.text) {
      // Number (an inbound call's caller too), client or instructions, case-insensitive; LIKE's wildcards in the search are taken literally.
      const like = `%${filter.text.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
      where.push("(to_number LIKE ? ESCAPE '\\' OR (direction = 'inbound' AND from_number LIKE ? ESCAPE '\\') OR client_name LIKE ? ESCAPE '\\' OR client_id LIKE ? ESCAPE '\\' OR instructions LIKE ? ESCAPE '\\')");
      args.push(like, like, like, like, like);
    }
    const sql = `${SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, limit) as CallRow[];
    if (!this.pending.size) return rows;
    const matches = (r: CallRow) => (!before || r.createdAt < before.createdAt || (r.createdAt === before.createdAt && r.id < before.id)) && matchesFilter(r, filter);
    return this.mergePending(rows, matches)
      .sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1))
      .slice(0, limit);
  }

  listLive(): CallRow[] {
    const rows = this.db.prepare(`${SELECT} WHERE status != 'ended'`).all() as CallRow[];
    return this.pending.size ? this.mergePending(rows, (r) => r.status !== 'ended') : rows;
  }

  /** Calls created at or after `iso` (the daily caps' day), deleted ones included. */
  countCreatedSince(iso: string): number {
    const deleted = this.deletedSince(iso).count;
    if (!this.pending.size) return (this.createdSinceCount.get(iso) as number) + deleted;
    return this.listCreatedSince(iso).length + deleted;
  }

  /** Calls created at or after `iso` that were deleted since, and what they cost (for the daily caps). */
  deletedSince(iso: string): { count: number; costUsd: number } {
    this.deletedSinceStmt ??= this.db.prepare('SELECT COUNT(*) AS count, COALESCE(SUM(cost_usd), 0) AS costUsd FROM deleted_calls WHERE created_at >= ?');
    return this.deletedSinceStmt.get(iso) as { count: number; costUsd: number };
  }

  /**
   * Deletes the call's row and every row that refers to it (its timeline, its outcome, and whatever a
   * later table keys on calls.id), in one transaction, leaving a tombstone with its day and cost for the
   * daily caps. False when there is no such call. The caller checks that the call is over.
   */
  delete(id: string, costUsd: number): boolean {
    const row = this.get(id);
    if (!row) return false;
    if (this.pending.has(id)) throw new Error('the call still has writes waiting for the database; try again in a moment');
    const refs = this.db
      .prepare(`SELECT m.name AS tbl, f."from" AS col FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table' AND f."table" = 'calls'`)
      .all() as Array<{ tbl: string; col: string }>;
    this.db.transaction(() => {
      for (const r of refs) this.db.prepare(`DELETE FROM "${r.tbl}" WHERE "${r.col}" = ?`).run(id);
      this.db.prepare('DELETE FROM calls WHERE id = ?').run(id);
      this.db.prepare('INSERT OR REPLACE INTO deleted_calls (id, created_at, cost_usd, deleted_at) VALUES (?, ?, ?, ?)').run(id, row.createdAt, costUsd, new Date().toISOString());
    })();
    // A kept row would otherwise outlive its record: the call would still be found by id or carrier id.
    this.kept.delete(id);
    if (row.carrierCallId) this.idByCarrierId.delete(row.carrierCallId);
    return true;
  }

  listCreatedSince(iso: string): CallRow[] {
    const rows = this.createdSince.all(iso) as CallRow[];
    return this.pending.size ? this.mergePending(rows, (r) => r.createdAt >= iso) : rows;
  }

  /** How many calls have writes waiting for the database. */
  get pendingCount(): number {
    return this.pending.size;
  }

  private write(id: string, run: () => unknown, adds: Omit<Pending, 'writes'>, label: string): void {
    const p = this.pending.get(id);
    // Behind a queued write of the same call, a write is queued too (the writer keeps the order); the
    // view must include it before the writer says so.
    const settle = () => {
      const q = this.pending.get(id);
      if (q && --q.writes === 0) this.pending.delete(id);
    };
    // A queued write that could never be made: the kept row (which has it) is read again from the table.
    const dropped = () => (settle(), this.kept.delete(id));
    const r = this.writer.run(run, { label, onWritten: settle, onDropped: dropped });
    if (!r.deferred) return;
    if (p) {
      p.writes++;
      Object.assign(p.patch, adds.patch);
      if (adds.row) p.row = adds.row;
    } else this.pending.set(id, { row: adds.row, patch: { ...adds.patch }, writes: 1 });
  }

  private withPending(id: string | undefined, stored: CallRow | undefined): CallRow | undefined {
    const p = this.pending.get(id ?? stored?.id ?? '');
    if (!p) return stored;
    const base = stored ?? p.row;
    return base ? { ...base, ...p.patch } : undefined;
  }

  /** Stored rows with their queued writes applied, plus queued calls that now match. */
  private mergePending(rows: CallRow[], matches: (r: CallRow) => boolean): CallRow[] {
    const out = rows.map((r) => this.withPending(r.id, r)!).filter(matches);
    const seen = new Set(rows.map((r) => r.id));
    for (const id of this.pending.keys()) {
      if (seen.has(id)) continue;
      const r = this.get(id);
      if (r && matches(r)) out.push(r);
    }
    return out;
  }
}

/**
 * The history filter in code, for rows whose stored version is not current yet. `goalMet` is not checked
 * here: a call whose writes are still queued has no outcome yet, and stored rows were filtered by SQL.
 */
function matchesFilter(r: CallRow, f: CallFilter): boolean {
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
