import { randomUUID } from 'node:crypto';
import type { ScheduledCallsRepo, ScheduledRow } from '../store/scheduled-calls-repo.js';
import type { ScheduledCall, ScheduledCallStatus } from '../shared/scheduled-call-types.js';
import { CallRequestError, createCallSchema, type CreateCallInput } from './call-request.js';

/** Time and timers, so tests can drive the scheduler with a fake clock. */
export interface Clock {
  now(): Date;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => new Date(),
  // Unref'd: a pending scheduled call never keeps a process alive by itself.
  setTimer: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface SchedulerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SchedulerDeps {
  repo: ScheduledCallsRepo;
  /** Places a call now, through every check a call gets (dial policy, caps); throws CallRequestError on a refusal. */
  dial(input: CreateCallInput): Promise<{ id: string }>;
  /** The checks a call can pass ahead of its time (dial policy at `at`); throws CallRequestError on a refusal. */
  checkAhead(input: CreateCallInput, at: Date): Promise<void>;
  /** How far ahead a call may be scheduled. */
  maxAheadMs: number;
  /** How late a due call may still be dialled (the server was down at its time); later ones are missed. */
  graceMs: number;
  log: SchedulerLog;
  clock?: Clock;
}

/** The longest the scheduler sleeps between looks at the table (timers drift; setTimeout caps at ~24 days; other writers). */
const MAX_SLEEP_MS = 60_000;

/**
 * Calls set for a later time. Each is a row in the database (durable across restarts); the scheduler
 * sleeps until the earliest is due, claims each due row with one conditional update (so a row dials
 * once, whatever else looks at it), and places it through the same path as any call: the dial policy and
 * caps are checked when it dials, and a refusal then is recorded on the row. A row found due on start
 * is dialled if it is at most `graceMs` late, else marked missed; one left `dialing` by a crash is
 * marked failed, never redialled (the call may have been placed).
 */
export class CallScheduler {
  private readonly clock: Clock;
  private timer: unknown;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private arming: Promise<void> | undefined;
  private armed = 0;

  constructor(private readonly d: SchedulerDeps) {
    this.clock = d.clock ?? systemClock;
  }

  /** Stores a call for `input.scheduledAt`, after the checks that can be made now. */
  async schedule(input: CreateCallInput): Promise<ScheduledCall> {
    const { scheduledAt, ...request } = input;
    if (!scheduledAt) throw new CallRequestError(400, 'scheduledAt', 'scheduledAt: is required');
    const at = new Date(scheduledAt);
    const now = this.clock.now();
    if (!(at.getTime() > now.getTime())) throw new CallRequestError(400, 'scheduledAt', `scheduledAt: ${at.toISOString()} is not in the future (it is ${now.toISOString()} now)`);
    if (at.getTime() - now.getTime() > this.d.maxAheadMs) {
      throw new CallRequestError(400, 'scheduledAt', `scheduledAt: is more than ${Math.round(this.d.maxAheadMs / 86_400_000)} days ahead (SCHEDULE_MAX_DAYS)`);
    }
    await this.d.checkAhead(request, at);
    const row: ScheduledRow = { id: randomUUID(), createdAt: now.toISOString(), scheduledAt: at.toISOString(), status: 'scheduled', request, to: request.to.trim(), clientId: request.clientId ?? null, callId: null, reason: null, updatedAt: now.toISOString() };
    // With the database locked, the insert waits in the writer's queue (it is not lost): the answer is
    // built from the row itself, and the scheduler finds the row once it is written.
    await this.d.repo.insert(row);
    this.d.log.info({ event: 'call.scheduled', scheduledCallId: row.id, scheduledAt: row.scheduledAt }, 'call scheduled');
    await this.arm();
    return view(row);
  }

  async get(id: string): Promise<ScheduledCall | undefined> {
    const row = await this.d.repo.get(id);
    return row && view(row);
  }

  async list(status: ScheduledCallStatus | undefined, limit: number): Promise<ScheduledCall[]> {
    return (await this.d.repo.list(status, limit)).map(view);
  }

  /** Cancels a waiting call: 404 if there is none, 409 if it is already dialling or done. */
  async cancel(id: string): Promise<ScheduledCall> {
    const row = await this.d.repo.get(id);
    if (!row) throw new CallRequestError(404, undefined, 'scheduled call not found');
    if (!(await this.d.repo.transition(id, 'scheduled', 'cancelled', this.clock.now(), 'cancelled by a user'))) {
      const now = (await this.d.repo.get(id))!;
      throw new CallRequestError(409, undefined, now.status === 'scheduled' ? 'the database is busy; try again' : `the scheduled call is ${now.status}${now.callId ? ` (call ${now.callId})` : ''}: only a waiting call can be cancelled`);
    }
    this.d.log.info({ event: 'call.scheduleCancelled', scheduledCallId: id }, 'scheduled call cancelled');
    await this.arm();
    return (await this.get(id))!;
  }

  /** Marks what a crash left mid-dial, then handles what is due (dialled or missed) and sleeps until the next. */
  async start(): Promise<void> {
    this.stopped = false;
    const now = this.clock.now();
    for (const row of await this.d.repo.list('dialing', 1000)) {
      if (await this.d.repo.transition(row.id, 'dialing', 'failed', now, 'Callwright stopped while this call was being dialled; it is not dialled again, so it is never placed twice (see the calls list)')) {
        this.d.log.warn({ event: 'call.scheduleInterrupted', scheduledCallId: row.id }, 'a scheduled call was interrupted mid-dial by a restart');
      }
    }
    this.wake();
  }

  /** Stops the timer and waits for a dial in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimer(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Resolves once the due calls being handled now are handled, and the next look is set (for tests). */
  async idle(): Promise<void> {
    while (this.running || this.arming) await (this.running ?? this.arming);
  }

  /**
   * Sets the timer for the next due call. The look-up is asynchronous: an arm started later, or a wake,
   * supersedes one still waiting for its answer (`armed` counts them), so only the newest sets a timer.
   */
  private arm(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.clock.clearTimer(this.timer);
    this.timer = undefined;
    const mine = ++this.armed;
    // With nothing waiting it still looks once in a while: a row whose insert waited on a locked database,
    // or one another process added, is found within MAX_SLEEP_MS.
    const arming = this.d.repo
      .nextDueAt()
      .catch((err) => {
        this.d.log.error({ event: 'schedule.failed', err: (err as Error).message }, 'the scheduler could not look up the next due call; it looks again later');
        return undefined;
      })
      .then((next) => {
        if (this.stopped || mine !== this.armed) return;
        this.clock.clearTimer(this.timer);
        const ms = next ? Math.min(MAX_SLEEP_MS, Math.max(0, next.getTime() - this.clock.now().getTime())) : MAX_SLEEP_MS;
        this.timer = this.clock.setTimer(() => this.wake(), ms);
      })
      .finally(() => {
        if (this.arming === arming) this.arming = undefined;
      });
    this.arming = arming;
    return arming;
  }

  private wake(): void {
    this.armed++;
    this.timer = undefined;
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.runDue()
      .catch((err) => this.d.log.error({ event: 'schedule.failed', err: (err as Error).message }, 'the scheduler failed to handle due calls; it tries again'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        } else void this.arm();
      });
  }

  private async runDue(): Promise<void> {
    for (const row of await this.d.repo.due(this.clock.now())) {
      if (this.stopped) return;
      await this.handle(row);
    }
  }

  private async handle(row: ScheduledRow): Promise<void> {
    const { repo, log } = this.d;
    const now = this.clock.now();
    const lateMs = now.getTime() - Date.parse(row.scheduledAt);
    if (lateMs > this.d.graceMs) {
      const reason = `Callwright was not running at ${row.scheduledAt}; it found this call ${describeMs(lateMs)} late, past the ${describeMs(this.d.graceMs)} grace window (SCHEDULE_GRACE_MINUTES), so it was not dialled`;
      if (await repo.transition(row.id, 'scheduled', 'missed', now, reason)) log.warn({ event: 'call.scheduleMissed', scheduledCallId: row.id, lateMs }, 'scheduled call missed');
      return;
    }
    // The claim: from here this process, and only this one, dials the row.
    if (!(await repo.transition(row.id, 'scheduled', 'dialing', now))) return;
    // Stored by an earlier version, perhaps: it is placed only as the request schema reads it today.
    const request = createCallSchema.safeParse(row.request);
    if (!request.success) {
      const issue = request.error.issues[0]!;
      await repo.finish(row.id, 'failed', now, { reason: `could not be placed: the stored request is not valid any more (${issue.path.join('.') || 'body'}: ${issue.message})` });
      return;
    }
    try {
      const call = await this.d.dial(request.data);
      await repo.finish(row.id, 'placed', this.clock.now(), { callId: call.id });
      log.info({ event: 'call.scheduleDialled', scheduledCallId: row.id, callId: call.id }, 'scheduled call placed');
    } catch (err) {
      const refused = err instanceof CallRequestError && err.status < 500 && err.status !== 404;
      const reason = `${refused ? 'refused when it was due' : 'could not be placed'}: ${(err as Error).message}`;
      await repo.finish(row.id, refused ? 'refused' : 'failed', this.clock.now(), { reason }).catch((e) => log.error({ event: 'schedule.failed', scheduledCallId: row.id, err: (e as Error).message }, 'could not record why a scheduled call was not placed'));
      log.warn({ event: 'call.scheduleRefused', scheduledCallId: row.id, rule: err instanceof CallRequestError ? err.policy?.rule : undefined }, 'scheduled call not placed');
    }
  }
}

function describeMs(ms: number): string {
  const min = Math.round(ms / 60_000);
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  return min < 120 ? `${min} min` : `${Math.round(min / 60)} h`;
}

function view(r: ScheduledRow): ScheduledCall {
  const q = r.request as Partial<CreateCallInput>;
  return {
    id: r.id,
    createdAt: r.createdAt,
    scheduledAt: r.scheduledAt,
    status: r.status,
    to: r.to,
    clientId: r.clientId,
    instructions: q.instructions ?? '',
    runbook: q.runbook ?? null,
    provider: q.provider ?? null,
    overrideCallingHours: Boolean(q.overrideCallingHours),
    overrideReason: q.overrideReason ?? null,
    callId: r.callId,
    reason: r.reason,
    updatedAt: r.updatedAt,
  };
}
