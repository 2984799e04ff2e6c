/**
 * What a phone menu's words mean, as pure functions of the transcript: is this a menu, a "that is not a
 * valid option", a person who has picked up; and is the menu going round in circles. The patterns are
 * English, as the prompt and the engines' transcription are; they only steer the bridge (the model still
 * hears the audio and chooses the keys).
 */

/** Lower case, letters, digits and single spaces: what two playings of one recorded prompt share. */
export function normalisePrompt(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/**
 * How alike two prompts are, 0 to 1: the Dice coefficient of their word bigrams (single words for
 * prompts of one word). A recorded prompt transcribed twice differs by a word here and there, so
 * repeats score well above 0.8 while two different menus of one business score far below.
 */
export function promptSimilarity(a: string, b: string): number {
  const x = grams(normalisePrompt(a));
  const y = grams(normalisePrompt(b));
  if (x.size === 0 && y.size === 0) return 1;
  if (x.size === 0 || y.size === 0) return 0;
  let shared = 0;
  const counts = new Map(y);
  for (const [g, n] of x) {
    const m = counts.get(g) ?? 0;
    shared += Math.min(n, m);
  }
  const total = [...x.values()].reduce((s, n) => s + n, 0) + [...y.values()].reduce((s, n) => s + n, 0);
  return (2 * shared) / total;
}

function grams(norm: string): Map<string, number> {
  const words = norm ? norm.split(' ') : [];
  const out = new Map<string, number>();
  const add = (g: string) => out.set(g, (out.get(g) ?? 0) + 1);
  if (words.length === 1) add(words[0]);
  for (let i = 0; i + 1 < words.length; i++) add(`${words[i]} ${words[i + 1]}`);
  return out;
}

/** Wording only a menu uses: keys to press, options, extensions. */
const MENU_PATTERNS: RegExp[] = [
  /\bpress(ing)? (one|two|three|four|five|six|seven|eight|nine|zero|star|pound|hash|the pound|[0-9])\b/,
  /\b(for|to|if)\b.{0,60}\b(press|dial|oprima)\b/,
  /\bsay or press\b|\bpress or say\b/,
  /\b(dial|enter)\b.{0,40}\b(extension|account number|pin|number)\b/,
  /\bextension\b/,
  /\bmain menu\b|\bmenu options\b|\bthese options\b|\blisten carefully\b|\boptions have changed\b/,
  /\bpara espa/,
];

/** A recorded welcome: a menu's, unless a person says it with their name ("..., this is Sam"). */
const WELCOME_PATTERNS: RegExp[] = [/\bthank you for calling\b|\bwelcome to\b|\byour call (is|may be) (important|recorded|monitored)\b/];

/** A menu telling the caller that the last key or word was not understood. */
const INVALID_PATTERNS: RegExp[] = [
  /\bnot a valid (option|selection|entry|choice|response)\b/,
  /\b(invalid|incorrect) (option|selection|entry|choice|response)\b/,
  /\bthat (was|is) (an )?(invalid|incorrect)\b/,
  /\bi (didn t|did not|couldn t|could not) (get|understand|catch|recogni[sz]e|hear) (that|you|your)\b/,
  /\bsorry i (still )?(didn t|did not|don t) understand\b/,
  /\b(did not|didn t) (receive|hear|get) (a|an|your) (selection|response|entry|input)\b/,
];

/** Wording a person uses picking up after a menu. */
const PERSON_PATTERNS: RegExp[] = [
  /\bhow (can|may|could) (i|we) help\b|\bwhat can i do for you\b/,
  /\bthis is [a-z]+\b|\bmy name is\b|\b[a-z]+ speaking\b/,
  /^(hi|hello|hey|yes|yeah)( there)?$/,
  /^(hi|hello|hey)\b(\s\S+){0,6}$/,
  /\bare you (still )?there\b|\bcan you hear me\b|\banyone there\b/,
];

const any = (res: RegExp[], t: string) => res.some((re) => re.test(t));

/** Strong menu wording, or a recorded welcome said by no one in particular. */
export function looksLikeMenu(text: string): boolean {
  const t = normalisePrompt(text);
  return soundsLikeMenuOptions(text) || (any(WELCOME_PATTERNS, t) && !any(PERSON_PATTERNS, t));
}

/** Wording only a menu uses, whoever spoke before it: keys to press, options, "not a valid option". */
export function soundsLikeMenuOptions(text: string): boolean {
  const t = normalisePrompt(text);
  return any(MENU_PATTERNS, t) || any(INVALID_PATTERNS, t);
}

export function isInvalidOptionPrompt(text: string): boolean {
  return any(INVALID_PATTERNS, normalisePrompt(text));
}

/**
 * A person has picked up: wording a person uses ("Hi, this is Sam, how can I help?") and nothing a menu
 * says. A bare short line without either ("Thank you.") is not enough: menus have those too.
 */
export function soundsLikePerson(text: string): boolean {
  const t = normalisePrompt(text);
  if (!t || looksLikeMenu(text)) return false;
  return any(PERSON_PATTERNS, t);
}

export type MenuVerdict = { stuck: false } | { stuck: true; why: 'invalid-option' | 'repeated'; times?: number };

export interface StuckOptions {
  /** This many playings of one prompt mean no progress (default 3). */
  repeats?: number;
  /** Two prompts at least this alike are one prompt played again (default 0.8). */
  similarity?: number;
}

/**
 * Notices a menu going round in circles: the same prompt heard `repeats` times (the menu replaying
 * after a wrong key or no key), or a prompt saying the choice was not valid.
 */
export class MenuStuckTracker {
  private readonly heard: string[] = [];

  constructor(private readonly o: StuckOptions = {}) {}

  /** A whole prompt was heard (the menu then paused for a key). */
  prompt(text: string): MenuVerdict {
    const norm = normalisePrompt(text);
    if (!norm) return { stuck: false };
    if (isInvalidOptionPrompt(text)) {
      this.heard.push(norm);
      return { stuck: true, why: 'invalid-option' };
    }
    const same = this.heard.filter((h) => promptSimilarity(h, norm) >= (this.o.similarity ?? 0.8)).length + 1;
    this.heard.push(norm);
    if (same >= (this.o.repeats ?? 3)) return { stuck: true, why: 'repeated', times: same };
    return { stuck: false };
  }

  /** A new way out was tried (the operator route): repeats count afresh from here. */
  reset(): void {
    this.heard.length = 0;
  }
}
