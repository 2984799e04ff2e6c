/**
 * What the callee's words say about holding: whether they just asked us to hold, and, while we hold,
 * whether a line we heard was the phone system's recorded announcement or a person coming back. Pure
 * text rules; the hold mode combines them with what the audio does after the line (docs/hold.md).
 */

/** "Please hold", "hold on", "one moment", "bear with me", "let me put you on hold", ... */
const ASKS_TO_HOLD = [
  /\bplease hold\b/,
  /\bhold on\b/,
  /\bhold the line\b/,
  /\bhold,? please\b/,
  /\b(can|could|would|will|may) you (please )?hold\b/,
  /\bput (you|this call) on hold\b/,
  /\bplace (you|this call) on hold\b/,
  /\bone moment\b/,
  /\bjust a (moment|minute|sec|second)\b/,
  /\bbear with me\b/,
];

/** Things recordings say, and people rarely do. */
const ANNOUNCEMENT_CUES = [
  /\byour call is (very )?important\b/,
  /\b(continue|remain|stay) (to hold|on hold|on the line|holding)\b/,
  /\bnext available\b/,
  /\b(all|our) (of our )?(agents|representatives|operators|associates|team members|staff)\b.*\b(busy|assisting|helping|with other)\b/,
  /\bin the order (it was|they were|calls are) received\b/,
  /\b(estimated|expected|approximate) (wait|hold) time\b/,
  /\bcalls? (may|will) be (monitored|recorded)\b/,
  /\byou are (caller )?number\b/,
  /\bpress (\d|star|pound)\b/,
  /\bvisit (us at|our website)\b/,
  /\bthank you for your patience\b/,
  /\bwill be with you (shortly|in a moment|as soon as)\b/,
  /\bplease hold\b/,
];

/** A person addressing us: naming themselves, offering help, checking we are there. */
const PERSON_STRONG = [
  /\bthis is (?!(a|an|the|your|our|not|to|it|that|a recorded)\b)[a-z]+\b/,
  /\bmy name is\b/,
  /\b[a-z]+ speaking\b/,
  /\bhow (can|may|might) i help\b/,
  /\bwhat can i do for you\b/,
  /\bare you (still )?(there|with me)\b/,
  /\bwho am i speaking (to|with)\b/,
  /\bsorry (about|for) the wait\b/,
];
const PERSON_WEAK = [/\b(thanks|thank you) (so much )?for (holding|waiting)\b/, /^(hello|hi|hey)\b/];

export function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[’']/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

export function asksToHold(text: string): boolean {
  const t = normalise(text);
  return ASKS_TO_HOLD.some((r) => r.test(t));
}

export type HoldLineVerdict = 'person' | 'announcement' | 'unclear';

/**
 * Classifies a line heard on hold. A line that repeats one heard earlier on this hold is a recording
 * (announcements loop; people do not say the same sentence twice). A recording's stock phrases make an
 * announcement unless a person names themselves or offers help in the same line ("Thank you for calling
 * Acme, this is Sam, how can I help?"). Anything else is left to the audio: see HoldMode.
 */
export function classifyHoldLine(text: string, earlier: readonly string[]): HoldLineVerdict {
  const t = normalise(text);
  if (!t) return 'unclear';
  if (earlier.some((e) => similarity(normalise(e), t) >= 0.6)) return 'announcement';
  const strong = PERSON_STRONG.some((r) => r.test(t));
  const recorded = ANNOUNCEMENT_CUES.some((r) => r.test(t));
  if (strong) return 'person';
  if (recorded) return 'announcement';
  if (PERSON_WEAK.some((r) => r.test(t))) return 'person';
  return 'unclear';
}

/** Jaccard similarity of the two lines' word sets (transcripts of one recording differ in a word or two). */
function similarity(a: string, b: string): number {
  const A = new Set(a.split(' ').filter(Boolean));
  const B = new Set(b.split(' ').filter(Boolean));
  if (A.size === 0 || B.size === 0) return 0;
  let both = 0;
  for (const w of A) if (B.has(w)) both++;
  return both / (A.size + B.size - both);
}
