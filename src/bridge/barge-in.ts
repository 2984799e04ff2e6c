/**
 * When the callee talking over the agent is a barge-in. Pure and clocked by caller frames (20 ms each),
 * so a test can drive it frame by frame. Three bands of speech, heard by our own VAD while the agent's
 * audio plays:
 *
 *  - shorter than `minSpeechMs`: never a barge-in (a cough, a click the VAD let through);
 *  - at least `backchannelMaxMs`: a barge-in, at once;
 *  - in between: a short utterance, judged by its words once the engine's transcript comes: an
 *    acknowledgement ("mhm", "okay", "right") lets the agent carry on, anything else ("stop", "wait")
 *    cuts it. No words within `wordsWaitMs`: it was not speech the engine could make out; carry on.
 *
 * Twilio cannot pause the agent and resume (a `clear` drops the buffer), so the agent is never cut on a
 * guess: it plays on until speech is confirmed. See docs/barge-in.md.
 */

export interface BargeInOptions {
  minSpeechMs: number;
  /** 0: every speech of minSpeechMs cuts at once (no backchannel tolerance). */
  backchannelMaxMs: number;
  wordsWaitMs: number;
}

/** The settings' defaults (BARGE_IN_MIN_SPEECH_MS, BARGE_IN_BACKCHANNEL_MAX_MS, BARGE_IN_WORDS_WAIT_MS). */
export const DEFAULT_BARGE_IN: BargeInOptions = { minSpeechMs: 200, backchannelMaxMs: 800, wordsWaitMs: 2500 };

export type BargeInVerdict =
  /** `turnOver`: judged by the engine's final transcript, so the callee's turn has already ended. */
  | { action: 'cut'; reason: 'speech' | 'words'; speechMs: number; text?: string; turnOver?: true }
  | { action: 'carry-on'; reason: 'too-short' | 'backchannel' | 'no-words'; speechMs: number; text?: string };

const FRAME_MS = 20;
/** A pause shorter than this (between words, a breath) does not end a run of speech. */
const RUN_PAUSE_MS = 240;

/**
 * Acknowledgements that do not claim the turn. English only (the engines transcribe in the callee's
 * language; other languages' short words are judged as "words" and cut, the safe side).
 */
const BACKCHANNEL_WORDS = new Set([
  'mhm', 'mmhm', 'mm', 'mmm', 'hmm', 'hm', 'uh', 'huh', 'uhhuh', 'ok', 'okay', 'kay', 'yeah', 'yep', 'yes', 'yup', 'ya',
  'right', 'sure', 'alright', 'got', 'it', 'i', 'see', 'cool', 'great', 'fine', 'good', 'true', 'exactly', 'ah', 'oh', 'aha',
]);
/** Words above that are acknowledgements only in a pair ("got it", "I see"), not alone. */
const ONLY_IN_PAIRS = new Set(['got', 'it', 'i', 'see']);
const MAX_BACKCHANNEL_WORDS = 3;

/** True when the whole utterance is an acknowledgement, e.g. "Mm-hm.", "Okay, okay.", "Uh huh", "I see". */
export function isBackchannel(text: string): boolean {
  const words = text
    .toLowerCase()
    .replace(/(\w)-(\w)/g, '$1$2')
    .split(/[^a-z']+/)
    .filter(Boolean);
  if (words.length === 0 || words.length > MAX_BACKCHANNEL_WORDS) return false;
  if (!words.every((w) => BACKCHANNEL_WORDS.has(w))) return false;
  if (words.every((w) => ONLY_IN_PAIRS.has(w))) return words.join(' ') === 'got it' || words.join(' ') === 'i see';
  return true;
}

export class BargeInPolicy {
  /** Speech heard over the agent so far in the current run, ms (pauses not counted). -1: no run. */
  private runMs = -1;
  /** Silence since the run's last speech. */
  private gapMs = 0;
  /** A short run ended: its length, and how long its words have been awaited. */
  private awaiting?: { speechMs: number; waitedMs: number };
  /** Interim words heard since the current run (or the runs awaiting their words) began. */
  private words = '';
  /** `words` is the engine's final transcript (it came before the run was over). */
  private wordsFinal = false;
  /** The current run already cut the agent: the rest of it is the callee's turn, not a new barge-in. */
  private spent = false;

  constructor(private readonly o: BargeInOptions) {}

  /**
   * One caller frame. `speaking`: our VAD's state after it; `onsetMs`: speech the VAD had already heard
   * when it said 'started'; `agentTalking`: agent audio is playing (or being generated) at this frame.
   */
  frame(speaking: boolean, agentTalking: boolean, onsetMs = 0): BargeInVerdict | undefined {
    if (!speaking) this.spent = false;
    if (!agentTalking || this.spent) {
      // Nothing to cut: talking after the agent is a turn, not a barge-in.
      this.reset();
      return undefined;
    }
    if (speaking) {
      if (this.runMs < 0) {
        if (!this.awaiting) {
          this.words = '';
          this.wordsFinal = false;
        }
        this.runMs = onsetMs;
      } else if (this.gapMs > 0) {
        // Speech again after a pause: the VAD heard onsetMs of it before it said so.
        this.runMs += Math.min(onsetMs, this.gapMs);
      }
      this.gapMs = 0;
      this.runMs += FRAME_MS;
      if (this.runMs >= this.o.minSpeechMs && this.runMs >= this.o.backchannelMaxMs) return this.cut('speech', this.runMs);
      return undefined;
    }
    if (this.runMs >= 0) {
      this.gapMs += FRAME_MS;
      if (this.gapMs < RUN_PAUSE_MS) return undefined;
      const speechMs = this.runMs;
      this.runMs = -1;
      if (speechMs < this.o.minSpeechMs) return this.awaiting ? undefined : { action: 'carry-on', reason: 'too-short', speechMs };
      this.awaiting = { speechMs: Math.max(speechMs, this.awaiting?.speechMs ?? 0), waitedMs: 0 };
      // Words that came while it was said may already settle it.
      if (this.wordsFinal) return this.transcript(this.words);
      return this.words ? this.judgeInterim() : undefined;
    }
    if (this.awaiting) {
      this.awaiting.waitedMs += FRAME_MS;
      if (this.awaiting.waitedMs >= this.o.wordsWaitMs) {
        const { speechMs } = this.awaiting;
        const text = this.words;
        this.reset();
        // Only acknowledgements were heard (no final transcript came): still a backchannel.
        return text ? { action: 'carry-on', reason: 'backchannel', speechMs, text } : { action: 'carry-on', reason: 'no-words', speechMs };
      }
    }
    return undefined;
  }

  /**
   * Interim words of the callee's current utterance, as the engine transcribes them (a fragment: the
   * policy joins them). Words that are not an acknowledgement cut at once; acknowledgements wait for more.
   */
  interimWords(fragment: string): BargeInVerdict | undefined {
    if (this.runMs < 0 && !this.awaiting) return undefined;
    this.words += fragment;
    return this.awaiting ? this.judgeInterim() : undefined;
  }

  /** The engine's final transcript of a callee utterance. Judges a short run that awaits its words. */
  transcript(text: string): BargeInVerdict | undefined {
    const a = this.awaiting;
    if (!text.trim()) return undefined;
    if (!a) {
      // The engine's turn ended before our run did (its end-of-turn silence is shorter than the pause
      // the policy allows between words): the words are judged when the run ends.
      if (this.runMs >= 0) {
        this.words = text;
        this.wordsFinal = true;
      }
      return undefined;
    }
    this.reset();
    if (isBackchannel(text)) return { action: 'carry-on', reason: 'backchannel', speechMs: a.speechMs, text };
    return this.cut('words', a.speechMs, text, true);
  }

  /** Whether a short utterance over the agent is waiting for its words (the agent plays on meanwhile). */
  get pending(): boolean {
    return this.awaiting !== undefined;
  }

  private judgeInterim(): BargeInVerdict | undefined {
    const text = this.words.trim();
    if (!text || isBackchannel(text)) return undefined;
    return this.cut('words', this.awaiting?.speechMs ?? this.runMs, text);
  }

  private reset(): void {
    this.runMs = -1;
    this.gapMs = 0;
    this.awaiting = undefined;
    this.words = '';
    this.wordsFinal = false;
  }

  private cut(reason: 'speech' | 'words', speechMs: number, text?: string, turnOver?: true): Extract<BargeInVerdict, { action: 'cut' }> {
    this.spent = this.runMs >= 0;
    this.reset();
    return { action: 'cut', reason, speechMs, ...(text !== undefined ? { text } : {}), ...(turnOver ? { turnOver } : {}) };
  }

}
