import type { VoiceEngine } from '../voice/engine.js';

/** A reply the session asked for that has not started after this long is not waited for any more. */
const REQUEST_STALE_MS = 5000;

export interface ReplyTurnsHost {
  engine: VoiceEngine;
  /** A response is being generated (between the engine's responseStarted and responseDone). */
  active(): boolean;
  ending(): boolean;
}

/**
 * One response at a time. A reply the session asks for itself (a holding line) counts as under way from
 * the request on, since the engine would refuse a second one before the first has even started; a tool
 * result that wants a reply while one is under way gets it when that response is done.
 */
export class ReplyTurns {
  private requestedAt?: number;
  private pending = false;

  constructor(private readonly h: ReplyTurnsHost) {}

  underWay(): boolean {
    return this.h.active() || (this.requestedAt !== undefined && Date.now() - this.requestedAt < REQUEST_STALE_MS);
  }

  /** Asks the engine for a reply with these instructions. */
  speak(instructions: string): void {
    this.requestedAt = Date.now();
    this.h.engine.generateReply({ instructions });
  }

  /** For ToolCalls: true when the reply must wait (it is then asked for once the response is done). */
  replyWhenIdle(): boolean {
    if (!this.underWay()) return false;
    this.pending = true;
    return true;
  }

  responseStarted(): void {
    this.requestedAt = undefined;
  }

  responseDone(): void {
    if (!this.pending || this.h.active() || this.h.ending()) return;
    this.pending = false;
    this.h.engine.generateReply();
  }
}
