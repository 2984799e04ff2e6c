import type { TimelineEventType } from '../shared/event-types.js';

/** What an answering-machine verdict means for a call that may already be talking. */
export type VerdictKind = 'person' | 'voicemail' | 'menu';

/**
 * Twilio's `AnsweredBy` values as the bridge acts on them. `machine_end_other` (a machine whose message
 * ended neither with a beep nor with silence) is most often a phone menu, not a mailbox, so it is not
 * treated as voicemail. `human` and `unknown` (no decision within the detection timeout) are a person.
 */
export function classifyVerdict(answeredBy: string): VerdictKind {
  if (answeredBy === 'machine_end_other') return 'menu';
  if (answeredBy === 'fax' || answeredBy.startsWith('machine_')) return 'voicemail';
  return 'person';
}

export type GateOpenReason = 'end-of-turn' | 'silence' | 'verdict' | 'screening' | 'inbound';

export interface GreetingGateOptions {
  /** Greet a callee who has said nothing after this much silence from the first stream. */
  silenceMs: number;
  /** Longest opening speech that still sounds like a person answering ("Hello?"), not a recorded greeting. */
  personOpeningMaxMs: number;
  record(type: TimelineEventType, data: Record<string, unknown>): void;
  /** The gate opened: the session turns auto-replies on and asks for the greeting. */
  open(reason: GateOpenReason): void;
  /** A machine verdict: stop everything and treat the call as voicemail. */
  voicemail(answeredBy: string): void;
  /** A phone-menu verdict (`machine_end_other`): the call goes to menu handling. */
  menu(answeredBy: string): void;
  /**
   * The opening has just become longer than a person's "Hello?" (while it is still being spoken, or at
   * its end), before any greeting: once per call.
   */
  longOpening?(): void;
}

/**
 * When the agent may first speak. The greeting starts at the end of the callee's first utterance (a
 * person answers with a short "Hello?" and waits), or after a silence if they say nothing; it never
 * waits for the answering-machine verdict, which Twilio sends only 2-4 s after the answer. The verdict
 * is a veto: a machine stops the agent, even mid-greeting. A long opening (a recorded greeting or a
 * phone menu) does not open the gate at its end; only a verdict does (or the menu takes the call over).
 */
export class GreetingGate {
  /** `vetoed`: a machine verdict shut it, and only a screener heard after that can open it again. */
  private state: 'waiting' | 'ready' | 'open' | 'vetoed' | 'closed' = 'waiting';
  private openReason?: GateOpenReason;
  private speaking = false;
  private speechStart = 0;
  /** Where in the caller audio the utterance being spoken started, when the detector says. */
  private speechStartAudioMs?: number;
  /** Callee speech before the gate opened, summed over utterances. */
  private openingMs = 0;
  private silenceTimer?: NodeJS.Timeout;
  /** Fires when the utterance being spoken makes the opening longer than a "Hello?". */
  private longTimer?: NodeJS.Timeout;
  private long = false;
  private armed = false;
  /** Set when the session can speak (engine configured and a media stream attached). */
  private canSpeak = false;

  constructor(private readonly o: GreetingGateOptions) {}

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get calleeSpeaking(): boolean {
    return this.speaking;
  }

  /**
   * The callee can hear us from now on (first media stream): the silence clock starts. With `at once`
   * (an inbound call: the caller rang us and is waiting), the gate opens now, without waiting to hear them.
   */
  listening(atOnce?: 'inbound'): void {
    if (this.armed || this.state !== 'waiting') return;
    this.armed = true;
    if (atOnce) return this.decide(atOnce);
    if (!this.speaking && this.openingMs === 0) this.armSilence();
  }

  /** The engine is configured and a stream is attached: an earlier decision to greet can now happen. */
  speakable(): void {
    this.canSpeak = true;
    this.flush();
  }

  /**
   * Speech start/stop on the callee's side, from whichever detector hears the opening. `audioMs`: where
   * in the caller audio it was heard. An utterance is measured by those positions when the detector gives
   * both, by the clock otherwise: a detector's events can arrive late or in a burst on a loaded machine,
   * and a mailbox greeting measured short by the clock would be greeted as a person's "Hello?".
   */
  calleeSpeech(started: boolean, audioMs?: number): void {
    if (this.state !== 'waiting') {
      this.speaking = started;
      return;
    }
    if (started) {
      if (this.speaking) return;
      this.speaking = true;
      this.speechStart = Date.now();
      this.speechStartAudioMs = audioMs;
      clearTimeout(this.silenceTimer);
      if (!this.long) {
        this.longTimer = setTimeout(() => this.openingIsLong(), this.o.personOpeningMaxMs - this.openingMs + 1);
        this.longTimer.unref();
      }
      return;
    }
    if (!this.speaking) return;
    this.speaking = false;
    clearTimeout(this.longTimer);
    const start = this.speechStartAudioMs;
    this.openingMs += audioMs !== undefined && start !== undefined ? Math.max(0, audioMs - start) : Date.now() - this.speechStart;
    if (this.openingMs > this.o.personOpeningMaxMs) {
      this.openingIsLong();
      // Longer than anyone says "Hello": a recorded greeting or a menu. Only the verdict decides.
      this.o.record('greeting.held', { openingMs: this.openingMs });
      return;
    }
    this.decide('end-of-turn');
  }

  /** Twilio's answering-machine verdict, at whatever point of the call it arrives. */
  verdict(answeredBy: string): void {
    if (this.state === 'closed' || this.state === 'vetoed') return;
    const kind = classifyVerdict(answeredBy);
    if (kind === 'voicemail') {
      this.veto();
      this.o.voicemail(answeredBy);
      return;
    }
    if (kind === 'menu') {
      // Not a mailbox: never hung up on. The menu handling decides what happens next.
      this.o.record('amd.menuSuspected', { answeredBy, openingMs: this.currentOpeningMs(), greetingStarted: this.state === 'open' });
      this.o.menu(answeredBy);
      return;
    }
    // A person: nothing changes once the greeting has started; before, it may start now.
    if (this.state === 'waiting') this.decide('verdict');
  }

  /** A call-screening assistant asked who is calling: it is answered now, however long its opening was. */
  screening(): void {
    // A machine verdict came first, and then the machine turned out to be a screener (its words were
    // transcribed while the call waited for a beep): it is answered all the same.
    if (this.state === 'vetoed') this.state = 'waiting';
    this.decide('screening');
  }

  /**
   * A phone menu has taken the call over before any greeting: the gate's work is done and it never
   * greets (a person who picks up after the menu is greeted by the menu handling). Counts as open.
   */
  handOver(): void {
    if (this.state !== 'waiting' && this.state !== 'ready') return;
    this.state = 'open';
    this.stopTimers();
  }

  /** A machine verdict: nothing may be said now; only `screening()` can open the gate again. */
  veto(): void {
    if (this.state === 'closed') return;
    this.state = 'vetoed';
    this.stopTimers();
  }

  /** The call is ending: the gate never opens. */
  close(): void {
    this.state = 'closed';
    this.stopTimers();
  }

  private openingIsLong(): void {
    if (this.long || this.state !== 'waiting') return;
    this.long = true;
    this.o.longOpening?.();
  }

  private stopTimers(): void {
    clearTimeout(this.silenceTimer);
    clearTimeout(this.longTimer);
  }

  private currentOpeningMs(): number {
    return this.openingMs + (this.speaking ? Date.now() - this.speechStart : 0);
  }

  private armSilence(): void {
    clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => {
      if (this.state === 'waiting' && !this.speaking && this.openingMs === 0) this.decide('silence');
    }, this.o.silenceMs);
    // A call that is over closes the gate; the timer alone must not keep a process alive.
    this.silenceTimer.unref();
  }

  private decide(reason: GateOpenReason): void {
    if (this.state !== 'waiting') return;
    this.state = 'ready';
    this.openReason = reason;
    this.stopTimers();
    this.flush();
  }

  private flush(): void {
    if (this.state !== 'ready' || !this.canSpeak) return;
    this.state = 'open';
    this.o.open(this.openReason!);
  }
}
