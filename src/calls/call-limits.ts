import type { EndReason } from './state.js';
import type { CallRuntime } from './call-runtime.js';
import type { CallEnding } from './call-ending.js';

const WRAP_UP_INSTRUCTIONS: Record<string, string> = {
  default: 'This call has to end now. In one short sentence, politely say you need to go and say goodbye. Do not start anything new.',
  'cost-limit': 'This call has reached its time and budget limit and has to end now. In one short sentence, politely say you need to go, that someone will follow up if needed, and say goodbye.',
};

/** The limits a live call runs under: its longest duration, a media stream that must arrive, its cost. */
export class CallLimits {
  constructor(private readonly rt: CallRuntime, private readonly ending: CallEnding) {}

  /** Starts the running cost check of a newly created call (when a per-call cost limit is set). */
  watchCost(callId: string): void {
    const live = this.rt.live.get(callId);
    if (!live || !(this.rt.d.settings.MAX_COST_PER_CALL_USD > 0)) return;
    live.costTimer = setInterval(() => this.checkCost(callId), this.rt.d.costCheckMs ?? 5_000);
    live.costTimer.unref();
  }

  /** Max duration and "no media arrived" timers, from answer (or the stream, if that comes first). */
  armCallTimers(callId: string): void {
    const live = this.rt.live.get(callId);
    if (!live || live.maxTimer) return;
    const { settings } = this.rt.d;
    live.maxTimer = setTimeout(() => this.wrapUp(callId, 'max-duration', { limitSec: settings.MAX_CALL_SECONDS }), settings.MAX_CALL_SECONDS * 1000);
    if (!live.attached) {
      live.streamTimer = setTimeout(() => {
        if (!live.attached) void this.ending.end(callId, 'media-error', { detail: 'no media stream arrived after answer' });
      }, this.rt.d.streamTimeoutMs ?? 15_000);
    }
  }

  /** The live cost ledger's check: a call past MAX_COST_PER_CALL_USD says goodbye and ends. */
  checkCost(callId: string): void {
    const cap = this.rt.d.settings.MAX_COST_PER_CALL_USD;
    const live = this.rt.live.get(callId);
    if (!cap || !live || live.wrappingUp || this.rt.ending.has(callId)) return;
    const call = this.rt.d.calls.kept(callId);
    // Elapsed time is real time (answeredAt is stamped by the real clock), whatever clock the policy uses.
    const cost = this.rt.ledger.cost(callId, call?.answeredAt ?? null, Date.now());
    if (cost < cap) return;
    clearInterval(live.costTimer);
    this.wrapUp(callId, 'cost-limit', { costUsd: Math.round(cost * 1e6) / 1e6, limitUsd: cap });
  }

  /**
   * A limit ends the call politely: the agent is asked for a brief goodbye, and the line is cut once that
   * goodbye has played (or after a grace period, whatever the agent does).
   */
  private wrapUp(callId: string, reason: EndReason, data: Record<string, unknown>): void {
    const live = this.rt.live.get(callId);
    if (!live || live.wrappingUp || this.rt.ending.has(callId)) return;
    live.wrappingUp = true;
    const graceMs = this.rt.d.wrapUpGraceMs ?? 10_000;
    // The session records `wrapup.requested`, or ends the call at once when there is no conversation to wrap up.
    live.session.wrapUp(reason, WRAP_UP_INSTRUCTIONS[reason] ?? WRAP_UP_INSTRUCTIONS.default, graceMs, data);
  }
}
