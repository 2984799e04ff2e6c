/**
 * Deterministic token accounting, so a product-side cost tracker can be checked against exact numbers.
 * Rates: 25 tokens per second of audio both ways (1 token per 40 ms, rounded down on the running total, so
 * totals never go backwards), text at 4 characters per token.
 *
 * Reporting is per turn, as the real service does (see README "Usage"): each usageMetadata is one turn's
 * bill. Its prompt side is the whole context that turn was generated from (every input so far plus the
 * model's earlier replies, which stay in the context as tokens), its response side only this turn's
 * output. A client bills the sum of all reports.
 */
import type { ModalityTokenCount, UsageMetadata } from './protocol.js';

export const AUDIO_MS_PER_TOKEN = 40;
export const TEXT_CHARS_PER_TOKEN = 4;

/** Running totals for one conversation; they survive resumption and never rewind. */
export interface UsageCounters {
  /** Every ms of input audio received, silence included: streamed audio is all billed. */
  inputAudioMs: number;
  /** System instruction (once), client text, tool responses (as JSON). */
  inputTextChars: number;
  outputAudioMs: number;
}

export interface UsageTotals {
  promptAudio: number;
  promptText: number;
  responseAudio: number;
}

export function totals(c: UsageCounters): UsageTotals {
  return {
    promptAudio: Math.floor(c.inputAudioMs / AUDIO_MS_PER_TOKEN),
    promptText: Math.ceil(c.inputTextChars / TEXT_CHARS_PER_TOKEN),
    responseAudio: Math.floor(c.outputAudioMs / AUDIO_MS_PER_TOKEN),
  };
}

/**
 * One turn's usageMetadata. `earlierResponseAudio` is the model audio reported by earlier turns: it is
 * context now, so it counts on the prompt side (as AUDIO) and no longer on the response side. Zero counts
 * are omitted the way protobuf JSON omits default values.
 */
export function turnUsage(t: UsageTotals, earlierResponseAudio: number, thoughts = 0): UsageMetadata {
  const responseAudio = t.responseAudio - earlierResponseAudio;
  const promptAudio = t.promptAudio + earlierResponseAudio;
  const prompt = promptAudio + t.promptText;
  const out: UsageMetadata = {};
  if (prompt) out.promptTokenCount = prompt;
  if (responseAudio) out.responseTokenCount = responseAudio;
  if (thoughts) out.thoughtsTokenCount = thoughts;
  if (prompt + responseAudio + thoughts) out.totalTokenCount = prompt + responseAudio + thoughts;
  const promptDetails = details([
    ['TEXT', t.promptText],
    ['AUDIO', promptAudio],
  ]);
  if (promptDetails.length) out.promptTokensDetails = promptDetails;
  const responseDetails = details([['AUDIO', responseAudio]]);
  if (responseDetails.length) out.responseTokensDetails = responseDetails;
  return out;
}

function details(entries: Array<[ModalityTokenCount['modality'], number]>): ModalityTokenCount[] {
  return entries.filter(([, n]) => n > 0).map(([modality, tokenCount]) => ({ modality, tokenCount }));
}
