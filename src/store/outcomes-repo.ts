import type { Db } from './database.js';
import type { CallOutcome, GoalMet, OutcomeStatus, WebhookDelivery } from '../shared/api-types.js';
import type { OutcomeSchema } from '../outcome/schema.js';

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

/** The call_outcomes table: one row per call created since outcomes exist (migration 5). */
export class OutcomesRepo {
  private readonly byId;
  private readonly insertStmt;
  private readonly resultStmt;
  private readonly webhookStmt;
  private readonly pendingStmt;

  constructor(private readonly db: Db) {
    this.byId = db.prepare('SELECT goal, outcome_schema, status, goal_met, result, webhook FROM call_outcomes WHERE call_id = ?');
    this.insertStmt = db.prepare("INSERT INTO call_outcomes (call_id, goal, outcome_schema, status, updated_at) VALUES (?, ?, ?, 'pending', ?)");
    this.resultStmt = db.prepare('UPDATE call_outcomes SET status = ?, goal_met = ?, result = ?, updated_at = ? WHERE call_id = ?');
    this.webhookStmt = db.prepare('UPDATE call_outcomes SET webhook = ?, updated_at = ? WHERE call_id = ?');
    this.pendingStmt = db.prepare("SELECT o.call_id FROM call_outcomes o JOIN calls c ON c.id = o.call_id WHERE o.status = 'pending' AND c.status = 'ended'").pluck();
  }

  register(callId: string, r: OutcomeRequest): void {
    this.insertStmt.run(callId, r.goal, r.schema ? JSON.stringify(r.schema) : null, new Date().toISOString());
  }

  request(callId: string): OutcomeRequest | undefined {
    const row = this.byId.get(callId) as Row | undefined;
    return row ? { goal: row.goal, schema: row.outcome_schema ? (JSON.parse(row.outcome_schema) as OutcomeSchema) : null } : undefined;
  }

  setResult(callId: string, status: OutcomeStatus, result: Result): void {
    this.resultStmt.run(status, result.goalMet ?? null, JSON.stringify(result), new Date().toISOString(), callId);
  }

  setWebhook(callId: string, w: WebhookDelivery): void {
    this.webhookStmt.run(JSON.stringify(w), new Date().toISOString(), callId);
  }

  /** Ended calls whose outcome was never worked out (the server stopped first). */
  pendingForEnded(): string[] {
    return this.pendingStmt.all() as string[];
  }

  /** The outcome as the API shows it; undefined for calls placed before outcomes existed. */
  get(callId: string, instructions: string): CallOutcome | undefined {
    const row = this.byId.get(callId) as Row | undefined;
    if (!row) return undefined;
    const result: Partial<Result> = row.result ? JSON.parse(row.result) : {};
    const webhook: WebhookDelivery = row.webhook ? JSON.parse(row.webhook) : { status: 'not-configured', attempts: 0 };
    return { status: row.status, goal: row.goal ?? instructions, summary: null, goalMet: null, fields: [], ...result, webhook };
  }
}
