import type { CompiledQuery } from 'kysely';
import type { CallOutcome, GoalMet, OutcomeStatus, WebhookDelivery } from '../shared/api-types.js';
import type { OutcomeSchema } from '../outcome/schema.js';
import { withRetries } from './sql/transient.js';
import type { SqlStore } from './sql/sql-store.js';

/** What a call is for, given when it is created. */
export interface OutcomeRequest {
  goal: string | null;
  schema: OutcomeSchema | null;
}

interface Row {
  goal: string | null;
  outcome_schema: string | null;
  status: OutcomeStatus;
  goal_met: GoalMet | null;
  result: string | null;
  webhook: string | null;
}

type Result = Omit<CallOutcome, 'status' | 'goal' | 'webhook'>;

export interface OutcomesRepoOptions {
  /**
   * PostgreSQL: resolves once the call's own row is in `calls` (call_outcomes references it and the calls
   * repository writes asynchronously too). Awaited before a call's first outcome write.
   */
  callStored?: (callId: string) => Promise<void>;
  /** PostgreSQL: the pauses before trying a write again after a transient failure (default: transient.ts). */
  retryDelaysMs?: readonly number[];
  /** A write that could not be made (PostgreSQL; on SQLite a failed write throws to the caller as before). */
  log?: (msg: string, fields: Record<string, unknown>) => void;
}

/**
 * The call_outcomes table (one row per call created since outcomes exist, migration 5), on either database.
 * Writes never wait: on SQLite each runs at once on the connection, so through its StoreWriter (queued in
 * order while the database is locked), exactly as before this was on the query layer; on PostgreSQL they
 * are sent asynchronously, one after the other per call, and a read of a call waits for its writes sent so far.
 */
export class OutcomesRepo {
  /** PostgreSQL: each call's writes, in order. */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly store: SqlStore,
    private readonly o: OutcomesRepoOptions = {},
  ) {}

  register(callId: string, r: OutcomeRequest): void {
    const q = this.store.db
      .insertInto('call_outcomes')
      .values({ call_id: callId, goal: r.goal, outcome_schema: r.schema ? JSON.stringify(r.schema) : null, status: 'pending', updated_at: new Date().toISOString() });
    this.write(callId, q, 'register');
  }

  async request(callId: string): Promise<OutcomeRequest | undefined> {
    const row = await this.row(callId);
    return row ? { goal: row.goal, schema: row.outcome_schema ? (JSON.parse(row.outcome_schema) as OutcomeSchema) : null } : undefined;
  }

  setResult(callId: string, status: OutcomeStatus, result: Result): void {
    const q = this.store.db
      .updateTable('call_outcomes')
      .set({ status, goal_met: result.goalMet ?? null, result: JSON.stringify(result), updated_at: new Date().toISOString() })
      .where('call_id', '=', callId);
    this.write(callId, q, 'result');
  }

  setWebhook(callId: string, w: WebhookDelivery): void {
    const q = this.store.db
      .updateTable('call_outcomes')
      .set({ webhook: JSON.stringify(w), updated_at: new Date().toISOString() })
      .where('call_id', '=', callId);
    this.write(callId, q, 'webhook');
  }

  /**
   * Ended calls whose outcome was never worked out (the server stopped first) and that are this node's to
   * work out: its own calls and those of no node, at once; another node's only once it ended `othersAfterMs`
   * ago, by when a live node has long worked it out (it waits for the late records, then asks the model), so
   * a node starting beside live ones never computes their outcomes, nor sends their webhooks, a second time.
   * Each comes with the `updated_at` to claim it by (`claimPending`).
   */
  async pendingForEnded(o: { nodeId?: string; now?: Date; othersAfterMs?: number } = {}): Promise<Array<{ callId: string; updatedAt: string }>> {
    const endedBefore = new Date((o.now ?? new Date()).getTime() - (o.othersAfterMs ?? 0)).toISOString();
    let q = this.store.db
      .selectFrom('call_outcomes as o')
      .innerJoin('calls as c', 'c.id', 'o.call_id')
      .select(['o.call_id', 'o.updated_at'])
      .where('o.status', '=', 'pending')
      .where('c.status', '=', 'ended');
    const me = o.nodeId;
    if (me !== undefined) q = q.where((eb) => eb.or([eb('c.node_id', '=', me), eb('c.node_id', 'is', null), eb('c.ended_at', '<', endedBefore)]));
    const rows = await q.execute();
    return rows.map((r) => ({ callId: r.call_id, updatedAt: r.updated_at }));
  }

  /**
   * Takes a pending outcome for this node to work out, if no other node took it since it was read (nodes
   * starting together find the same dead node's calls): true for exactly one of them.
   */
  async claimPending(callId: string, readUpdatedAt: string, now = new Date()): Promise<boolean> {
    await this.chains.get(callId);
    const r = await this.store.db
      .updateTable('call_outcomes')
      .set({ updated_at: now.toISOString() === readUpdatedAt ? new Date(now.getTime() + 1).toISOString() : now.toISOString() })
      .where('call_id', '=', callId)
      .where('status', '=', 'pending')
      .where('updated_at', '=', readUpdatedAt)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** The outcome as the API shows it; undefined for calls placed before outcomes existed. */
  async get(callId: string, instructions: string): Promise<CallOutcome | undefined> {
    const row = await this.row(callId);
    if (!row) return undefined;
    const result: Partial<Result> = row.result ? JSON.parse(row.result) : {};
    const webhook: WebhookDelivery = row.webhook ? JSON.parse(row.webhook) : { status: 'not-configured', attempts: 0 };
    return { status: row.status, goal: row.goal ?? instructions, summary: null, goalMet: null, fields: [], ...result, webhook };
  }

  /** Resolves once every write made so far (for `callId`, or for every call) is in the database or dropped. */
  async settled(callId?: string): Promise<void> {
    await Promise.all(callId === undefined ? [...this.chains.values()] : [this.chains.get(callId)]);
  }

  private async row(callId: string): Promise<Row | undefined> {
    await this.chains.get(callId);
    return (await this.store.db
      .selectFrom('call_outcomes')
      .select(['goal', 'outcome_schema', 'status', 'goal_met', 'result', 'webhook'])
      .where('call_id', '=', callId)
      .executeTakeFirst()) as Row | undefined;
  }

  private write(callId: string, query: { compile(): CompiledQuery }, label: string): void {
    const c = query.compile();
    const conn = this.store.sqlite;
    if (conn) {
      // The connection's own prepare: its statements run through the StoreWriter (database.ts).
      conn.prepare(c.sql).run(...(c.parameters as unknown[]));
      return;
    }
    const prev = this.chains.get(callId) ?? (this.o.callStored ? this.o.callStored(callId).catch(() => undefined) : Promise.resolve());
    const next: Promise<void> = prev
      .then(() => withRetries(() => this.store.db.executeQuery(c), { delaysMs: this.o.retryDelaysMs, onRetry: (err, attempt) => attempt === 1 && this.o.log?.('a call outcome write failed; trying again', { callId, write: label, err: err.message }) }))
      .then(
        () => undefined,
        (err: Error) => this.o.log?.('could not write a call outcome to the database', { callId, write: label, err: err.message }),
      )
      .finally(() => {
        if (this.chains.get(callId) === next) this.chains.delete(callId);
      });
    this.chains.set(callId, next);
  }
}
