import type { TimelineEventType } from '../shared/event-types.js';
import type { CallMode } from './call-mode.js';

/**
 * How call-screening assistants open (sources in test/sim/twilio/README.md, "Call screening"): Google's
 * Call Screen / Call Assist ("the person you're calling is using a screening service from Google ... say
 * your name and why you're calling"; "I'm Call Assist by Google recording this call for the person
 * you're trying to reach ... what you're calling about"), iOS 26 "Ask Reason for Calling" (name and
 * reason for calling), carrier announcements ("this call may be screened"). Phrases, not exact wording:
 * the assistants reword their prompts between versions.
 */
const SCREENING_PHRASES: RegExp[] = [
  /\bscreening service\b/,
  /\bcalls? (is|are|may be|will be) (being )?screened\b/,
  /\bcall assist\b/,
  /\b(say|state|record|tell me|give me) your name\b/,
  /\byour name and (the )?(reason|why)\b/,
  /\breason for (your |the )?call(ing)?\b/,
  /\bwhy (you're|you are) calling\b/,
  /\bwhat (you're|you are) calling about\b/,
  /\bwho(?:'s| is) calling and why\b/,
  /\bthe person you're (calling|trying to reach)\b/,
];

/** The assistant, not the person, still speaking after our answer ("please stay on the line"). */
const STILL_SCREENING: RegExp[] = [
  /\bstay on the line\b/,
  /\bsee if (this person|they|he|she|the person) (is|are) available\b/,
  /\btrying to (connect|reach)\b/,
  /\b(please )?hold on\b/,
  /\bone moment\b/,
];

/**
 * A mailbox greeting can ask for a name and the reason for the call too ("leave your name, number and the
 * reason for your call after the tone"): these words make it a mailbox, not a screener.
 */
const MAILBOX_CUES: RegExp[] = [/\bleave (a |your )?(brief |short )?(message|name)\b/, /\bafter the (tone|beep)\b/, /\bvoice ?mail\b/, /\b(can't|cannot|can not) (take|come to|get to) (your|the) (call|phone)\b/, /\bnot available\b/];

function normalise(text: string): string {
  return text.toLowerCase().replace(/[\u2018\u2019]/g, "'");
}

/** Whether an utterance sounds like a mailbox ("leave a message after the tone", "can't take your call"). */
export function soundsLikeMailbox(text: string): boolean {
  const t = normalise(text);
  return MAILBOX_CUES.some((r) => r.test(t));
}

/** Whether a callee utterance sounds like a call-screening assistant asking who is calling and why. */
export function soundsLikeScreening(text: string): boolean {
  const t = normalise(text);
  return SCREENING_PHRASES.some((r) => r.test(t)) && !MAILBOX_CUES.some((r) => r.test(t));
}

function stillScreening(text: string): boolean {
  const t = normalise(text);
  return STILL_SCREENING.some((r) => r.test(t));
}

/** What the engine is asked when a screening assistant answered before the agent said anything. */
export const SCREENING_ANSWER =
  "A call-screening assistant answered for the person you are calling: it asks who is calling and why, and the person reads or hears your answer before deciding to pick up. Answer it now in one or two short sentences, honestly: that you are an AI assistant, on whose behalf you are calling, and why. Ask nothing; then stop and wait for the person.";

export interface ScreeningHost {
  record(type: TimelineEventType, data: Record<string, unknown>): void;
  mode(): CallMode;
  setMode(to: CallMode, reason: string): void;
  /** Nobody has been greeted yet: start the conversation with the screening answer. */
  answerBeforeGreeting(): void;
  /**
   * A machine verdict came first and the call waits for a beep, with the machine's words still being
   * transcribed: a screener heard now is one AMD called a machine before its prompt was over.
   */
  waitingUnderVerdict(): boolean;
  /** The screener turned into a mailbox: voicemail handling from here (stop talking, hang up or leave the message). */
  toVoicemail(reason: string): void;
  /** Screening went on for `waitMs` and nobody picked up: the call ends. */
  nobodyCame(waitedMs: number): void;
  /** How long to wait for the person after a screener answered. Default 60 s. */
  waitMs?: number;
}

/**
 * Not every machine is a mailbox: a phone's call-screening assistant asks who is calling and why, and
 * the person it screens for may then pick up. Found from the callee's words (transcripts), so it works
 * whatever the answering-machine verdict says, which for these assistants is often "machine" (livekit
 * agents-js#1374). In mode `screening` the agent answers briefly and honestly and a machine verdict no
 * longer ends the call; the next utterance that is neither another screening prompt nor "please stay on
 * the line" is the person: mode `talking`, and the conversation goes on. A screener that turns into
 * message-taking ("they can't take your call, leave a message after the tone": livekit/agents#6202) is
 * handed to voicemail handling like a machine verdict.
 */
export class ScreeningMode {
  /** Screening was heard on this call: a machine verdict about its opening is not voicemail. */
  private seen = false;
  /** The agent has finished a reply since screening began. */
  private answered = false;
  private timer?: NodeJS.Timeout;

  constructor(private readonly h: ScreeningHost) {}

  /** A screening assistant has answered this call (now or earlier). */
  get detected(): boolean {
    return this.seen;
  }

  /** A finished callee utterance. */
  heard(text: string): void {
    const mode = this.h.mode();
    if (mode === 'screening') {
      // Screeners can end in message-taking: "they can't take your call, please leave a message".
      if (soundsLikeMailbox(text)) {
        clearTimeout(this.timer);
        return this.h.toVoicemail('screener-took-message');
      }
      if (this.answered && !soundsLikeScreening(text) && !stillScreening(text)) {
        clearTimeout(this.timer);
        this.h.setMode('talking', 'person-answered');
      }
      return;
    }
    // Menus and hold have their own listeners; an opening, a conversation, or a "mailbox" still playing
    // its greeting under a machine verdict can turn out to be screened.
    const underVerdict = mode === 'voicemail' && this.h.waitingUnderVerdict();
    if ((mode !== 'greeting' && mode !== 'talking' && !underVerdict) || !soundsLikeScreening(text)) return;
    this.seen = true;
    this.answered = false;
    this.h.record('screening.detected', { during: mode });
    this.h.setMode('screening', 'screening-assistant');
    if (this.h.mode() !== 'screening') return;
    if (mode === 'greeting' || underVerdict) this.h.answerBeforeGreeting();
    // A screened call the person never takes (and that never becomes a mailbox) must not sit open until MAX_CALL_SECONDS.
    const waitMs = this.h.waitMs ?? 60_000;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.h.mode() === 'screening') this.h.nobodyCame(waitMs);
    }, waitMs);
    this.timer.unref();
  }

  /** The call is ending: the wait stops. */
  close(): void {
    clearTimeout(this.timer);
  }

  /** An agent response finished. */
  agentReplied(): void {
    if (this.h.mode() === 'screening') this.answered = true;
  }
}
