/**
 * Ready-made callees for the situations real calls meet (sources in README.md): a mailbox whose greeting
 * and beep vary, and a phone's call-screening assistant with a person behind it.
 */
import type { AnsweredBy, CalleeScript, CalleeStep } from './types.js';

export interface MailboxOptions {
  /** The verdict and when it comes: `machine_end_beep` at the beep (default), or an early `machine_start`. */
  answeredBy?: AnsweredBy;
  amdDelayMs?: number;
  greetingMs?: number;
  /** Any steady tone; `false`: a mailbox without a beep. */
  beep?: { hz?: number; durationMs?: number } | false;
}

/** A voicemail box: greeting, beep, then it records (see `SimCall.mailbox`) until hung up on. */
export function mailbox(o: MailboxOptions = {}): CalleeScript {
  return {
    answeredBy: o.answeredBy ?? 'machine_end_beep',
    ...(o.amdDelayMs !== undefined ? { amdDelayMs: o.amdDelayMs } : {}),
    greetingMs: o.greetingMs ?? 3000,
    beep: o.beep ?? { hz: 1000, durationMs: 400 },
    steps: [],
  };
}

/**
 * Screening prompts as published (README, "Call screening"): Google's Call Screen (Pixel, 2018 on), a
 * later Pixel wording, and Apple's ("Please state your name and the reason for calling").
 */
export const SCREENING_PROMPTS = {
  google: "Hi, the person you're calling is using a screening service from Google, and will get a copy of this conversation. Go ahead and say your name and why you're calling.",
  pixel: "Hi, if you record your name and reason for calling, I'll see if this person is available.",
  ios: 'Please state your name and the reason for calling.',
} as const;
export const SCREENING_HOLD = 'Thanks, stay on the line while I see if this person is available.';
export const PERSON_PICKS_UP = "Hi, this is Sam. What's this about?";
/** Google's screener ending in message-taking (livekit/agents#6202): then a beep, and it records. */
export const SCREENER_TAKES_MESSAGE = "Sorry, they can't take your call right now. Please leave a message after the tone.";

export interface ScreeningOptions {
  prompt?: keyof typeof SCREENING_PROMPTS;
  /** What AMD makes of the prompt: often a machine (see README); the verdict comes after its end. */
  answeredBy?: AnsweredBy;
  /**
   * How long the prompt is spoken (default 4000 ms; the real ones take 5-7 s at ~70 ms a character, more
   * than a test needs). Either way longer than anyone's "Hello?", so the greeting is held for it.
   */
  promptMs?: number;
  /** After the assistant's "stay on the line", the person takes the call this much later. */
  personAfterMs?: number;
  /** What the person says after the agent's reply, before hanging up. */
  then?: CalleeStep[];
  /** Nobody picks up: the screener takes a message instead (beep, then it records). */
  takesMessage?: boolean;
}

/**
 * A call-screening assistant: its prompt, silence while the caller answers, "stay on the line", then the
 * person picks up and talks. The verdict is sent 1.5 s after the prompt (DetectMessageEnd waits for the
 * end of the "greeting").
 */
export function screeningAssistant(o: ScreeningOptions = {}): CalleeScript {
  const prompt = SCREENING_PROMPTS[o.prompt ?? 'google'];
  const promptMs = o.promptMs ?? 4000;
  return {
    answeredBy: o.answeredBy ?? 'machine_end_silence',
    // A machine with no recorded greeting: the steps are what it says (greetingMs 0), so no mailbox.
    greetingMs: 0,
    amdDelayMs: 500 + promptMs + 1500,
    steps: [
      { say: prompt, durationMs: promptMs },
      { waitForAgent: true, quietMs: 500 },
      { say: SCREENING_HOLD, durationMs: 1500 },
      { waitForAgent: true, quietMs: 300, timeoutMs: 3000 },
      { pauseMs: o.personAfterMs ?? 1000 },
      ...(o.takesMessage
        ? [{ say: SCREENER_TAKES_MESSAGE, durationMs: 2000 }, { beep: { hz: 1000, durationMs: 400 } }]
        : [{ say: PERSON_PICKS_UP, durationMs: 1200 }, { waitForAgent: true, quietMs: 300 } as CalleeStep, ...(o.then ?? [{ hangup: true } as CalleeStep])]),
    ],
  };
}
