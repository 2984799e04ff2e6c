import type { TimelineEventType } from '../shared/event-types.js';

/**
 * What the call is doing right now, owned by the bridge and visible on the timeline. Real calls move
 * between these: a person answers (greeting -> talking), a machine does (voicemail), a business does
 * (menu), it puts us on hold (on-hold), a phone's assistant screens us (screening); ending is final.
 */
export const CALL_MODES = ['greeting', 'talking', 'menu', 'on-hold', 'screening', 'voicemail', 'transferring', 'ending'] as const;
export type CallMode = (typeof CALL_MODES)[number];

/** What a mode lets through. */
export interface ModePolicy {
  /**
   * Which caller audio reaches the engine: all of it, only stretches our own detector calls speech
   * (hold: minutes of music cost nothing), or none.
   */
  engineHears: 'all' | 'speech' | 'none';
  /** Whether the engine may answer a finished callee turn by itself. */
  autoReply: boolean;
  /** Whether callee speech over the agent cuts the agent off. */
  bargeIn: boolean;
}

export const MODE_POLICIES: Readonly<Record<CallMode, ModePolicy>> = {
  // Before the greeting the engine may listen (to find the end of "Hello?") but must not answer.
  greeting: { engineHears: 'all', autoReply: false, bargeIn: true },
  talking: { engineHears: 'all', autoReply: true, bargeIn: true },
  // A menu is heard in full and answered with keys, not words.
  menu: { engineHears: 'all', autoReply: false, bargeIn: false },
  'on-hold': { engineHears: 'speech', autoReply: false, bargeIn: false },
  screening: { engineHears: 'all', autoReply: true, bargeIn: true },
  // A mailbox's greeting is never talked over; the message is spoken after the beep.
  voicemail: { engineHears: 'none', autoReply: false, bargeIn: false },
  // A warm transfer: the callee was told to hold while the owner is called and briefed; the agent
  // neither listens nor speaks until the owner is joined (the call ends) or did not answer (back to talking).
  transferring: { engineHears: 'none', autoReply: false, bargeIn: false },
  ending: { engineHears: 'none', autoReply: false, bargeIn: false },
};

export interface CallModesOptions {
  record(type: TimelineEventType, data: Record<string, unknown>): void;
  /** Applied on every change, after the change is recorded. */
  entered(mode: CallMode, from: CallMode, reason: string): void;
}

/** The current mode and its history on the timeline (`mode.changed`). `ending` is final. */
export class CallModes {
  private mode: CallMode = 'greeting';
  private since = Date.now();

  constructor(private readonly o: CallModesOptions) {}

  get current(): CallMode {
    return this.mode;
  }

  get policy(): ModePolicy {
    return MODE_POLICIES[this.mode];
  }

  /** How long the call has been in the current mode. */
  get elapsedMs(): number {
    return Date.now() - this.since;
  }

  /** Moves to `to` for `reason`; a no-op if already there or the call is ending. Returns whether it moved. */
  set(to: CallMode, reason: string, data: Record<string, unknown> = {}): boolean {
    const from = this.mode;
    if (from === to || from === 'ending') return false;
    this.mode = to;
    const now = Date.now();
    this.o.record('mode.changed', { from, to, reason, afterMs: now - this.since, ...data });
    this.since = now;
    this.o.entered(to, from, reason);
    return true;
  }
}
