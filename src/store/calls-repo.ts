import Database from 'better-sqlite3';
import { sql, type CompiledQuery } from 'kysely';
import { writerOf } from './database.js';
import type { SqlStore } from './sql/sql-store.js';
import type { StoreWriter } from './write-queue.js';
import { mayStillBeRecording } from '../records/late-records-window.js';
import { withRetries } from './sql/transient.js';
import { fromDb, matchesFilter, newestFirst, toDb, type CallFilter, type CallRow } from './call-rows.js';
import { callsPage, deleteCallRows, deletedSince } from './call-queries.js';

export { newCallRow, type CallDirection, type CallFilter, type CallRow, type NewCall } from './call-rows.js';

/** Rows kept in memory at most (live calls' always; ended ones, most recent first, up to this). */
const MAX_KEPT_ROWS = 2000;

/** How long a live call's hold on a concurrent-calls slot lasts unless its node renews it (docs/store.md); CALL_LEASE_SECONDS. */
export const CALL_LEASE_MS = 90_000;

/** How a call's running cost is priced (records/cost.ts's arithmetic, see call-cost.ts). */
export interface CallPricer {
  /** One usage report's price (USD). */
  usage(data: Record<string, unknown>): number;
  /** The call's whole cost at `nowMs`, given its usage so far (USD). */
  total(row: CallRow, usageUsd: number, nowMs: number): number;
}

export interface CallsRepoOptions {
  /** This node's id, written on the calls it places or answers. */
  nodeId?: string;
  /** The lease on this node's live calls (default CALL_LEASE_MS), renewed every third of it. */
  leaseMs?: number;
  pricer?: CallPricer;
  /** PostgreSQL: the pauses before trying a write again after a transient failure (default: sql/transient.ts). */
  retryDelaysMs?: readonly number[];
  now?: () => number;
  log?: (msg: string, fields: Record<string, unknown>) => void;
}

/** A call's writes not yet in the database: what reads must add to the stored row. */
interface Pending {
  /** The whole row, when the insert itself waits. */
  row?: CallRow;
  patch: Partial<CallRow>;
  writes: number;
}

type Query = { compile(): CompiledQuery };

/**
 * The calls table, on either database (docs/store.md). Reads of the table are asynchronous; the rows of
 * live calls are kept in memory (this node is the only writer of the calls it holds, so a kept row stays
 * current by applying each update to it) and read synchronously with `kept`: a call's webhooks, stream
 * and status paths read its row a dozen times or more, and none of that may wait on the database.
 *
 * Writes never wait either. On SQLite they go through the connection's StoreWriter (queued in order while
 * the database is locked); on PostgreSQL they are sent in order per call. Until a write is in the
 * database, every read here returns the row as it will be once written.
 */
export class CallsRepo {
  private readonly writer: StoreWriter | undefined;
  private readonly stmts = new Map<string, Database.Statement>();
  private readonly pending = new Map<string, Pending>();
  /** PostgreSQL: each call's writes, one after the other. */
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Kept rows (every live call's, and recently read ended ones), oldest first. */
  private readonly rows = new Map<string, CallRow>();
  private readonly idByCarrierId = new Map<string, string>();
  /** Calls this node placed or answered (inserted here) and has not seen end: it holds their leases. */
  private readonly held = new Set<string>();
  /** Calls whose running cost changed since it was last written (written once per turn of the event loop). */
  private readonly dirtyCost = new Set<string>();
  private costFlush: NodeJS.Immediate | undefined;
  private readonly now: () => number;
  /** Calls being read by `get`: how many of their writes settled meanwhile (readRow). */
  private readonly reads = new Map<string, { readers: number; settled: number }>();
  /** Rows read from the table (for tests and benchmarks: a kept row costs none). */
  selects = 0;

  constructor(
    /** The query layer it runs on (the caps check runs its transaction there, caps.ts). */
    readonly store: SqlStore,
    private readonly o: CallsRepoOptions = {},
  ) {
    this.writer = store.sqlite ? writerOf(store.sqlite) : undefined;
    this.now = o.now ?? Date.now;
  }

  /** The node id written on the calls this node places (undefined: none, single-node tests). */
  get nodeId(): string | undefined {
    return this.o.nodeId;
  }

  get leaseMs(): number {
    return this.o.leaseMs ?? CALL_LEASE_MS;
  }

  get dialect(): SqlStore['dialect'] {
    return this.store.dialect;
  }

  /** Inserts a new call (queued; see the class). Held by this node, with a lease. */
  insert(row: CallRow): void {
    const full = this.leased(row);
    this.write(full.id, this.insertQuery(full), { row: { ...full }, patch: {} }, 'insert call');
    this.keep({ ...full });
    if (full.status !== 'ended') this.held.add(full.id);
  }

  /** The insert of `row` as a query (for a caller that runs it inside its own transaction, caps.ts), and the row as inserted. */
  insertQuery(row: CallRow): Query {
    return this.store.db.insertInto('calls').values(toDb({ metadataJson: null, usageCostUsd: 0, costUsd: 0, ...row }) as never);
  }

  /** The row with this node's lease on it. */
  leased(row: CallRow): CallRow {
    return { metadataJson: null, usageCostUsd: 0, costUsd: 0, ...row, nodeId: this.o.nodeId ?? null, leaseUntil: new Date(this.now() + this.leaseMs).toISOString() };
  }

  /** Takes a row that was inserted by the caller's own transaction as kept (it is a live call of this node). */
  adopt(row: CallRow): void {
    this.keep({ ...row });
    this.held.add(row.id);
  }

  /** A row this node changed outside the repository (call-leases.ts): a kept copy is replaced by it. */
  replaceKept(row: CallRow): void {
    if (this.rows.has(row.id)) this.keep({ ...row });
  }

  /** The repository's clock (tests set it), in ms. */
  nowMs(): number {
    return this.now();
  }

  /** The row of a call kept in memory (every live call of this node), without reading the table. */
  kept(id: string): CallRow | undefined {
    const k = this.rows.get(id);
    return k ? { ...k } : undefined;
  }

  /** The kept call that has this carrier id, without reading the table. */
  keptByCarrierId(carrierCallId: string): CallRow | undefined {
    const id = this.idByCarrierId.get(carrierCallId);
    return id === undefined ? undefined : this.kept(id);
  }

  async get(id: string): Promise<CallRow | undefined> {
    const kept = this.rows.get(id);
    if (kept) return { ...kept };
    const { stored, current } = await this.readRow(id);
    // A row kept meanwhile (inserted or read by another path) is the current one.
    const now = this.rows.get(id);
    if (now) return { ...now };
    const row = this.withPending(id, stored);
    // Another node's call is kept only once nothing more can change it: that node writes it (its end, then
    // late records), and a copy here would stay as read (a campaign settling it after its node died would
    // wait for an end it never sees; a recording would stay "in progress"). Until then it is read each time.
    const settledHere = this.store.dialect === 'sqlite' || this.held.has(id) || !row?.nodeId || row.nodeId === this.o.nodeId || !mayStillBeRecording(row, this.now());
    if (row && current && settledHere) this.keep({ ...row });
    return row;
  }

  /**
   * The call's stored row, read from the table. On PostgreSQL a write of it can settle while the read is in
   * flight: the row read may predate the write, whose patch is no longer pending to be added, so such a read
   * is made again (up to 3 reads); `current` is false if writes kept settling, and the row must not be kept.
   */
  private async readRow(id: string): Promise<{ stored: CallRow | undefined; current: boolean }> {
    let watch = this.reads.get(id);
    if (!watch) this.reads.set(id, (watch = { readers: 0, settled: 0 }));
    watch.readers++;
    try {
      for (let tries = 1; ; tries++) {
        const settledBefore = watch.settled;
        this.selects++;
        const raw = await this.store.db.selectFrom('calls').selectAll().where('id', '=', id).executeTakeFirst();
        const current = watch.settled === settledBefore;
        if (current || tries === 3) return { stored: raw ? fromDb(raw) : undefined, current };
      }
    } finally {
      if (--watch.readers === 0) this.reads.delete(id);
    }
  }

  async getByCarrierId(carrierCallId: string): Promise<CallRow | undefined> {
    const keptId = this.idByCarrierId.get(carrierCallId);
    if (keptId !== undefined && this.rows.has(keptId)) return this.get(keptId);
    for (const [id, p] of this.pending) {
      const row = this.rows.get(id) ?? (p.row ? { ...p.row, ...p.patch } : undefined);
      if (row?.carrierCallId === carrierCallId) return { ...row };
    }
    this.selects++;
    const stored = await this.store.db.selectFrom('calls').selectAll().where('carrier_call_id', '=', carrierCallId).executeTakeFirst();
    return stored ? this.withPending(undefined, fromDb(stored)) : undefined;
  }

  /** The call placed for a campaign's dial attempt, found by the attempt key in its metadata (the dial's idempotency key). */
  async idForCampaignAttempt(attemptKey: string): Promise<string | undefined> {
    const attempt = this.store.dialect === 'postgres' ? sql<string>`(metadata::jsonb ->> 'campaignAttempt')` : sql<string>`json_extract(metadata, '$.campaignAttempt')`;
    const r = await this.store.db.selectFrom('calls').select('id').where(attempt, '=', attemptKey).limit(1).executeTakeFirst();
    return r?.id;
  }

  update(id: string, patch: Partial<Omit<CallRow, 'id' | 'createdAt'>>): void {
    if (Object.keys(patch).length === 0) return;
    const updatedAt = new Date().toISOString();
    const kept = this.rows.get(id);
    const full: Partial<CallRow> = { ...patch, updatedAt };
    if (patch.status === 'ended') this.held.delete(id);
    if (kept) {
      Object.assign(kept, patch, { updatedAt });
      if (kept.carrierCallId) this.idByCarrierId.set(kept.carrierCallId, id);
      // The carrier's part of the cost follows the row (answer, end, the carrier's price): kept current with it.
      if (this.o.pricer && !('costUsd' in patch)) {
        const cost = this.o.pricer.total(kept, kept.usageCostUsd ?? 0, this.now());
        if (cost !== kept.costUsd || this.dirtyCost.has(id)) Object.assign(full, { costUsd: (kept.costUsd = cost), usageCostUsd: kept.usageCostUsd });
        this.dirtyCost.delete(id);
      }
    }
    let q = this.store.db.updateTable('calls').set(toDb(full)).where('id', '=', id);
    // `ended` is final: a node that lost its lease while alive (cut off from the database) and goes on
    // must not bring back a call another node ended as node-lost.
    if (patch.status && patch.status !== 'ended') q = q.where('status', '!=', 'ended');
    this.write(id, q, { patch: full }, `update call ${Object.keys(patch).join(',')}`);
  }

  /**
   * Adds a usage report to the call's running cost. A kept call's cost is written once per turn of the
   * event loop whatever the number of reports in it; a call not kept (usage recorded after it left memory)
   * gets the report's price added in SQL.
   */
  addUsage(id: string, data: Record<string, unknown>): void {
    if (!this.o.pricer) return;
    const usd = this.o.pricer.usage(data);
    if (!usd) return;
    const kept = this.rows.get(id);
    if (!kept) {
      const q = this.store.db
        .updateTable('calls')
        .set((eb) => ({ usage_cost_usd: eb('usage_cost_usd', '+', usd), cost_usd: eb('cost_usd', '+', usd) }))
        .where('id', '=', id);
      this.write(id, q, { patch: {} }, 'update call cost');
      return;
    }
    kept.usageCostUsd = (kept.usageCostUsd ?? 0) + usd;
    this.dirtyCost.add(id);
    this.costFlush ??= setImmediate(() => this.flushCosts());
  }

  /** Writes the running cost of every call whose usage changed since the last time. */
  flushCosts(): void {
    if (this.costFlush) clearImmediate(this.costFlush);
    this.costFlush = undefined;
    const ids = [...this.dirtyCost];
    this.dirtyCost.clear();
    for (const id of ids) {
      const k = this.rows.get(id);
      if (k && this.o.pricer) this.update(id, { usageCostUsd: k.usageCostUsd, costUsd: this.o.pricer.total(k, k.usageCostUsd ?? 0, this.now()) });
    }
  }

  /**
   * Renews this node's hold on its live calls (kept, not ended) and refreshes their running cost, so a
   * call's carrier minutes reach the daily spend within one renewal. Called on a timer (call-service.ts).
   * Not on SQLite: one node, which prices its live calls from memory and never reads a lease there, so a
   * burst of one write per live call every renewal would only hold up the loop that carries live audio.
   */
  renewLeases(): number {
    if (this.store.dialect === 'sqlite') return 0;
    const until = new Date(this.now() + this.leaseMs).toISOString();
    let n = 0;
    for (const id of this.held) {
      const r = this.rows.get(id);
      if (!r || r.status === 'ended') continue;
      const patch: Partial<CallRow> = { leaseUntil: until };
      if (this.o.pricer) patch.costUsd = this.o.pricer.total(r, r.usageCostUsd ?? 0, this.now());
      this.update(id, patch);
      n++;
    }
    return n;
  }

  /**
   * Prices the calls stored before calls had a running cost (SQLite migration 12 left it NULL) from their
   * usage events, once, at start, so the daily spend cap counts the calls placed earlier on the day of the
   * upgrade. Pages by id, so a write queued behind a locked database cannot make it read the same rows again.
   */
  async priceUnpriced(): Promise<number> {
    const pricer = this.o.pricer;
    if (!pricer) return 0;
    let n = 0;
    let after = '';
    for (;;) {
      const page = await this.store.db.selectFrom('calls').selectAll().where('cost_usd', 'is', null).where('id', '>', after).orderBy('id').limit(200).execute();
      if (!page.length) return n;
      for (const raw of page) {
        const row = fromDb(raw as Record<string, unknown>);
        after = row.id;
        const events = await this.store.db.selectFrom('call_events').select('data').where('call_id', '=', row.id).where('type', '=', 'usage').execute();
        const usageCostUsd = events.reduce((usd, e) => usd + pricer.usage(JSON.parse(e.data) as Record<string, unknown>), 0);
        const costUsd = pricer.total(row, usageCostUsd, this.now());
        this.write(row.id, this.store.db.updateTable('calls').set({ usage_cost_usd: usageCostUsd, cost_usd: costUsd }).where('id', '=', row.id), { patch: { usageCostUsd, costUsd } }, 'price a call stored before running costs');
        n++;
      }
    }
  }

  /** Keeps a row; past the bound, the oldest ended calls' rows go (a live call's row is never dropped). */
  private keep(row: CallRow): void {
    this.rows.set(row.id, row);
    if (row.carrierCallId) this.idByCarrierId.set(row.carrierCallId, row.id);
    if (this.rows.size <= MAX_KEPT_ROWS) return;
    for (const [id, r] of this.rows) {
      if (this.rows.size <= MAX_KEPT_ROWS * 0.9) break;
      if (r.status !== 'ended' || this.dirtyCost.has(id)) continue;
      this.rows.delete(id);
      if (r.carrierCallId) this.idByCarrierId.delete(r.carrierCallId);
    }
  }

  /** Newest first; `before` is an opaque cursor from a previous page; `filter` narrows the list (history search). */
  async list(limit: number, before?: { createdAt: string; id: string }, filter: CallFilter = {}): Promise<CallRow[]> {
    const rows = await callsPage(this.store, limit, before, filter);
    if (!this.pending.size) return rows;
    const matches = (r: CallRow) => (!before || r.createdAt < before.createdAt || (r.createdAt === before.createdAt && r.id < before.id)) && matchesFilter(r, filter);
    return this.mergePending(rows, matches).sort(newestFirst).slice(0, limit);
  }

  /** Every call not ended, on any node (restart recovery ends this node's). */
  async listLive(): Promise<CallRow[]> {
    const rows = (await this.store.db.selectFrom('calls').selectAll().where('status', '!=', 'ended').execute()).map(fromDb);
    return this.pending.size ? this.mergePending(rows, (r) => r.status !== 'ended') : rows;
  }

  /**
   * Calls left not ended that no live node holds: this node's own (it just started, so none of them is
   * live here), those from before leases, and any whose node's lease has run out (the node died). Another
   * node's call with a current lease is not this node's to end.
   */
  async listOrphaned(): Promise<CallRow[]> {
    // SQLite is one node's store: every call not ended was this node's (whatever NODE_ID it had then).
    if (this.store.dialect === 'sqlite') return this.listLive();
    const now = new Date(this.now()).toISOString();
    const me = this.o.nodeId ?? null;
    const rows = (
      await this.store.db
        .selectFrom('calls')
        .selectAll()
        .where('status', '!=', 'ended')
        .where((eb) => eb.or([...(me === null ? [] : [eb('node_id', '=', me)]), eb('node_id', 'is', null), eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
        .execute()
    ).map(fromDb);
    return this.pending.size ? this.mergePending(rows, (r) => r.status !== 'ended') : rows;
  }

  async listCreatedSince(iso: string): Promise<CallRow[]> {
    const rows = (await this.store.db.selectFrom('calls').selectAll().where('created_at', '>=', iso).execute()).map(fromDb);
    return this.pending.size ? this.mergePending(rows, (r) => r.createdAt >= iso) : rows;
  }

  /** Calls created at or after `iso` (the daily caps' day), deleted ones included. */
  async countCreatedSince(iso: string): Promise<number> {
    const deleted = (await this.deletedSince(iso)).count;
    if (this.pending.size) return (await this.listCreatedSince(iso)).length + deleted;
    const r = await this.store.db.selectFrom('calls').select((eb) => eb.fn.countAll().as('n')).where('created_at', '>=', iso).executeTakeFirstOrThrow();
    return Number(r.n) + deleted;
  }

  /**
   * What calls created at or after `iso` have cost so far (their running cost), deleted ones included.
   * This node's live calls are priced at `nowMs` (their stored cost is as of their last refresh).
   */
  async spentSince(iso: string, nowMs = this.now()): Promise<number> {
    const deleted = (await this.deletedSince(iso)).costUsd;
    const fresh = this.liveCostAdjustment(iso, nowMs);
    if (this.pending.size) return (await this.listCreatedSince(iso)).reduce((a, r) => a + (r.costUsd ?? 0), deleted + fresh);
    const r = await this.store.db.selectFrom('calls').select((eb) => eb.fn.coalesce(eb.fn.sum<number>('cost_usd'), sql<number>`0`).as('usd')).where('created_at', '>=', iso).executeTakeFirstOrThrow();
    return Number(r.usd) + deleted + fresh;
  }

  /**
   * What this node's live calls created at or after `iso` cost at `nowMs` beyond their cost as it stands
   * (kept rows are current with every write, queued or not): the carrier minutes since their last refresh,
   * and usage whose cost is written at the end of this turn.
   */
  liveCostAdjustment(iso: string, nowMs: number): number {
    if (!this.o.pricer) return 0;
    let add = 0;
    for (const r of this.rows.values()) {
      // This node's live calls; an ended call only while usage reported after its end waits for this
      // turn's write. A row read for another node's live call is that node's to price.
      if (!(this.held.has(r.id) || this.dirtyCost.has(r.id)) || r.createdAt < iso) continue;
      add += this.o.pricer.total(r, r.usageCostUsd ?? 0, nowMs) - (r.costUsd ?? 0);
    }
    return add;
  }

  /** Calls created at or after `iso` that were deleted since, and what they cost (for the daily caps). */
  deletedSince(iso: string): Promise<{ count: number; costUsd: number }> {
    return deletedSince(this.store, iso);
  }

  /**
   * Deletes the call's row and every row that refers to it (its timeline, its outcome, and whatever a
   * later table keys on calls.id), in one transaction, leaving a tombstone with its day and cost for the
   * daily caps. False when there is no such call. The caller checks that the call is over.
   */
  async delete(id: string, costUsd: number): Promise<boolean> {
    const row = await this.get(id);
    if (!row) return false;
    await this.settled(id);
    if (this.pending.has(id)) throw new Error('the call still has writes waiting for the database; try again in a moment');
    await deleteCallRows(this.store, row, costUsd);
    // A kept row would otherwise outlive its record: the call would still be found by id or carrier id.
    this.rows.delete(id);
    this.dirtyCost.delete(id);
    this.held.delete(id);
    if (row.carrierCallId) this.idByCarrierId.delete(row.carrierCallId);
    return true;
  }

  /** How many calls have writes waiting for the database. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Resolves once the call's row is in the table, or its insert was dropped (at once when it is not
   * waiting). What refers to the call (its events, its outcome) waits for this before its first write.
   */
  async stored(id: string): Promise<void> {
    if (this.pending.get(id)?.row) await this.chains.get(id);
  }

  /** Resolves once every write made so far (for `id`, or for every call) is in the database or dropped. */
  async settled(id?: string): Promise<void> {
    if (this.costFlush) this.flushCosts();
    await Promise.all(id === undefined ? [...this.chains.values()] : [this.chains.get(id)]);
  }

  private write(id: string, query: Query, adds: Omit<Pending, 'writes'>, label: string): void {
    const c = query.compile();
    const settle = () => {
      const r = this.reads.get(id);
      if (r) r.settled++;
      const q = this.pending.get(id);
      if (q && --q.writes === 0) this.pending.delete(id);
    };
    // A write that could never be made: the kept row (which has it) is read again from the table.
    const dropped = () => (settle(), this.rows.delete(id));
    let deferred: boolean;
    if (this.writer) {
      const stmt = this.statement(c.sql);
      deferred = this.writer.run(() => stmt.run(c.parameters as unknown[]), { label, onWritten: settle, onDropped: dropped }).deferred;
    } else {
      deferred = true;
      const prev = this.chains.get(id) ?? Promise.resolve();
      const next = prev
        .then(() => withRetries(() => this.store.db.executeQuery(c), { delaysMs: this.o.retryDelaysMs, onRetry: (err, attempt) => attempt === 1 && this.o.log?.('a call write failed; trying again', { callId: id, label, err: err.message }) }))
        .then(settle, (err: Error) => {
          this.o.log?.('could not write a call to the database', { callId: id, label, err: err.message });
          dropped();
        })
        .finally(() => this.chains.get(id) === next && this.chains.delete(id));
      this.chains.set(id, next);
    }
    if (!deferred) return;
    const p = this.pending.get(id);
    if (p) {
      p.writes++;
      Object.assign(p.patch, adds.patch);
      if (adds.row) p.row = adds.row;
    } else this.pending.set(id, { row: adds.row, patch: { ...adds.patch }, writes: 1 });
  }

  /** SQLite: one prepared statement per distinct SQL (a call's life uses a handful), prepared around the write queue's wrapper. */
  private statement(text: string): Database.Statement {
    let s = this.stmts.get(text);
    if (!s) {
      s = Database.prototype.prepare.call(this.store.sqlite!, text) as Database.Statement;
      this.stmts.set(text, s);
    }
    return s;
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
    for (const [id, p] of this.pending) {
      if (seen.has(id)) continue;
      const r = this.rows.get(id) ?? (p.row ? { ...p.row, ...p.patch } : undefined);
      if (r && matches(r)) out.push({ ...r });
    }
    return out;
  }
}
