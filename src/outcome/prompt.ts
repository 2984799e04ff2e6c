import type { TranscriptEntry } from '../shared/api-types.js';

/** One numbered line of the transcript as the model sees it (and as citations point to it). */
export interface TranscriptLine {
  /** The number in brackets: the line's position in the transcript, from 0. */
  line: number;
  /** The timeline event the line comes from. */
  seq: number;
  speaker: 'agent' | 'callee';
  text: string;
}

/**
 * The lines a citation may point to. An agent turn the callee cut off counts as what was heard: words
 * the callee never heard were not said on the call.
 */
export function transcriptLines(entries: TranscriptEntry[]): TranscriptLine[] {
  return entries.map((e, line) => ({ line, seq: e.seq, speaker: e.speaker, text: e.interrupted ? e.interrupted.heardText : e.text }));
}

export const EXTRACTION_INSTRUCTIONS = [
  'You read the transcript of a phone call an AI agent made on behalf of its client, and report its outcome.',
  'Use only what the transcript says. Never guess or fill in a value the transcript does not state: give null.',
  'For every value you give, cite the one transcript line that states it: its number in brackets, and the exact words of that line that state it, copied verbatim.',
  'goalMet: achieved when the goal was fully met, partly when some of it was, not-achieved when it was not, unknown when the transcript cannot tell.',
].join('\n');

/** The user message: the goal, the facts wanted, the numbered transcript. */
export function extractionInput(goal: string, fieldNames: string[], lines: TranscriptLine[]): string {
  const out = [`Goal of the call: ${goal}`, ''];
  out.push(fieldNames.length ? `Facts to report: ${fieldNames.join(', ')}` : 'Facts to report: none (summary and goalMet only)', '');
  out.push('Transcript (Agent is the AI calling for the client; Callee is who answered):');
  if (!lines.length) out.push('(nothing was said)');
  for (const l of lines) out.push(`[${l.line}] ${l.speaker === 'agent' ? 'Agent' : 'Callee'}: ${oneLine(l.text)}`);
  return out.join('\n');
}

/** A line break inside a turn would look like a new, unnumbered line. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
