import type { TimelineEventType } from '../shared/event-types.js';
import { BeepDetector } from '../media/beep-detector.js';

/** What a call does when a machine answers (a call's `voicemail`, else VOICEMAIL_MODE / VOICEMAIL_MESSAGE). */
export interface VoicemailPlan {
  action: 'hangup' | 'leave-message';
  /** Spoken word for word after the beep. */
  message?: string;
  /** How to compose the message (when no exact text is given). */
  instructions?: string;
}

export interface VoicemailOptions extends VoicemailPlan {
  /** No beep: the message starts after this much silence (VOICEMAIL_SILENCE_MS). */
  silenceMs: number;
  /** Longest wait for a beep or that silence; then the call hangs up (VOICEMAIL_BEEP_TIMEOUT_MS). */
  beepTimeoutMs: number;
}

export interface VoicemailHost {
  record(type: TimelineEventType, data: Record<string, unknown>): void;
  /** Asks the engine for the message and ends the call (voicemail-left) once all of it was heard. */
  speakThenHangUp(instructions: string): void;
  /** Ends the call as voicemail without a message. */
  hangUp(detail: string): void;
  /** A beep was heard before any machine verdict (e.g. a "screener" that was a mailbox after all). */
  beepHeard?(beep: { hz: number; toneMs: number }): void;
}

/** Frame RMS (16-bit) under which the line counts as quiet for the silence fallback (about -36 dBFS). */
const QUIET_RMS = 500;

/** The engine's instructions for the message, from the call's plan. */
export function voicemailInstructions(plan: VoicemailPlan): string {
  const lead = 'You have reached a voicemail box. Its greeting has ended and it is recording now; nobody will answer.';
  if (plan.message) {
    // Realtime speech models have no "speak this text" call: the exact words go in as an instruction.
    return `${lead} Say exactly the following message, word for word, with nothing added before or after it, then stop:\n"${plan.message}"`;
  }
  const how = plan.instructions ? `Leave this message: ${plan.instructions}` : 'Leave a short message as your instructions for this call would want: who you are, on whose behalf you are calling, and why.';
  return `${lead} ${how} Keep it under 30 seconds, ask no questions, and say nothing after it.`;
}

/**
 * Voicemail with `leave-message`: after the machine verdict the agent stays silent (mode `voicemail`: the
 * engine hears nothing and may not reply) until the mailbox's greeting is over, then leaves the message
 * and the call ends once the message was heard to its last mark. The greeting is over when:
 * - our BeepDetector hears the beep end (any steady tone 400-2,000 Hz; Twilio's AMD may have decided on
 *   `machine_start` long before the beep),
 * - Twilio says so: `machine_end_beep` / `machine_end_silence` come once the greeting ended (with
 *   DetectMessageEnd), unless a tone is still playing, which is then waited out,
 * - or, for mailboxes without a beep, after `silenceMs` of quiet.
 * Nothing of that within `beepTimeoutMs`: the call hangs up as plain voicemail rather than talk over a
 * greeting that never ends.
 */
export class VoicemailMode {
  private state: 'off' | 'waiting' | 'speaking' = 'off';
  private readonly beeps = new BeepDetector();
  private quietMs = 0;
  /** The carrier said the greeting is over; only a tone still playing holds the message back. */
  private greetingOver = false;
  private startedAt = 0;
  private timer?: NodeJS.Timeout;
  /** The last beep heard, while nothing loud has followed it. */
  private lastBeep?: { hz: number; toneMs: number };
  /** Frames are analysed until a person is being talked to, and again once a machine verdict comes. */
  private listening = true;
  /** The verdict that started the wait. */
  private verdict?: string;
  /** Plan `hangup`, waiting only to learn the machine is no screener: the end of the greeting hangs up. */
  private hangUpAfter = false;

  constructor(
    private readonly o: VoicemailOptions,
    private readonly h: VoicemailHost,
  ) {}

  get leavesMessage(): boolean {
    return this.o.action === 'leave-message';
  }

  /** A beep has just been heard (nothing loud since): whatever answered is a mailbox, recording now. */
  get beepJustHeard(): boolean {
    return this.lastBeep !== undefined;
  }

  /** A steady tone is playing now and has not ended: it may be a beep (reported when it ends). */
  get tonePlaying(): boolean {
    return this.listening && this.state !== 'speaking' && this.beeps.toneOn;
  }

  /** Waiting for the beep: anything the engine still sends is not for the mailbox. */
  get waiting(): boolean {
    return this.state === 'waiting';
  }

  /**
   * Whether to analyse every frame for tones before any verdict: off once a person is being talked to (a
   * machine verdict later still starts a fresh wait for the beep), on while a screener may turn into a
   * mailbox.
   */
  listen(on: boolean): void {
    this.listening = on;
  }

  /**
   * A machine answered. Returns false when the call should just hang up (plan `hangup`, or a fax);
   * true when the call waits for the end of the greeting: to leave the message, or, with `listenFirst`
   * (an early verdict whose machine may still turn out to be a screener), to hang up then.
   */
  begin(answeredBy: string, listenFirst = false): boolean {
    if (answeredBy === 'fax' || (!this.leavesMessage && !listenFirst)) return false;
    if (this.state !== 'off') return true;
    this.state = 'waiting';
    this.verdict = answeredBy;
    this.hangUpAfter = !this.leavesMessage;
    this.listening = true;
    this.startedAt = Date.now();
    this.h.record('voicemail.waiting', { answeredBy, ...(this.hangUpAfter ? { then: 'hangup' } : {}) });
    this.timer = setTimeout(() => {
      if (this.state !== 'waiting') return;
      this.state = 'off';
      this.h.hangUp(`no beep and no ${this.o.silenceMs} ms of silence within ${this.o.beepTimeoutMs} ms`);
    }, this.o.beepTimeoutMs);
    this.timer.unref();
    // The beep ended before the verdict came, and the line has been quiet since.
    if (this.lastBeep) {
      this.speak('beep', { ...this.lastBeep, beforeVerdict: true });
    } else if (answeredBy === 'machine_end_beep' || answeredBy === 'machine_end_silence') {
      this.greetingOver = true;
      if (!this.beeps.toneOn) this.speak(answeredBy === 'machine_end_beep' ? 'carrier-beep' : 'carrier-silence');
    }
    return true;
  }

  /** Every caller frame (PCM16 8 kHz), from the session's hearers. */
  readonly hear = (pcm: Int16Array): void => {
    if (this.state === 'speaking' || !this.listening) return;
    // Listening starts before the verdict: a beep heard before a late verdict still counts.
    const beep = this.beeps.push(pcm);
    let sum = 0;
    for (let i = 0; i < pcm.length; i++) sum += pcm[i] * pcm[i];
    const loud = pcm.length > 0 && sum / pcm.length > QUIET_RMS * QUIET_RMS;
    if (beep) this.lastBeep = { hz: beep.hz, toneMs: beep.durationMs };
    else if (loud) this.lastBeep = undefined;
    if (this.state !== 'waiting') {
      if (beep) this.h.beepHeard?.(this.lastBeep!);
      return;
    }
    if (beep) return this.speak('beep', { ...this.lastBeep });
    if (this.greetingOver && !this.beeps.toneOn) return this.speak('carrier-beep');
    this.quietMs = loud ? 0 : this.quietMs + (pcm.length / 8000) * 1000;
    if (this.quietMs >= this.o.silenceMs) this.speak('silence', { quietMs: Math.round(this.quietMs) });
  };

  /** The machine's words are a mailbox's: a call that only waited to learn that hangs up now. */
  mailboxHeard(): void {
    if (this.state !== 'waiting' || !this.hangUpAfter) return;
    clearTimeout(this.timer);
    this.state = 'off';
    this.h.hangUp("its greeting is a mailbox's");
  }

  /** The verdict the call is waiting for a beep under, if it is. */
  get waitingUnder(): string | undefined {
    return this.state === 'waiting' ? this.verdict : undefined;
  }

  /**
   * The machine is not a mailbox after all (a screener asked who is calling while the call waited for the
   * beep): the wait ends without a message. Returns the verdict it was waiting under.
   */
  cancel(): string | undefined {
    if (this.state !== 'waiting') return undefined;
    clearTimeout(this.timer);
    this.state = 'off';
    this.greetingOver = false;
    this.quietMs = 0;
    return this.verdict;
  }

  /** The call is ending: timers stop. */
  close(): void {
    clearTimeout(this.timer);
    if (this.state === 'waiting') this.state = 'off';
  }

  private speak(trigger: 'beep' | 'carrier-beep' | 'carrier-silence' | 'silence', data: Record<string, unknown> = {}): void {
    if (this.state !== 'waiting') return;
    this.state = 'speaking';
    clearTimeout(this.timer);
    if (this.hangUpAfter) return this.h.hangUp(`the machine's greeting is over (${trigger}) and no call screener spoke`);
    this.h.record('voicemail.message', { trigger, afterMs: Date.now() - this.startedAt, exact: Boolean(this.o.message), ...data });
    this.h.speakThenHangUp(voicemailInstructions(this.o));
  }
}
