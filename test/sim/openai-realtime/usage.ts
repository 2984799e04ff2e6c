/**
 * Deterministic token accounting. The numbers are invented but shaped like the real ones (audio dominates,
 * input grows with the conversation, prompt caching kicks in from the second response), so a product-side
 * cost tracker can be tested against exact expected values.
 */
import type { RealtimeResponseUsage } from 'openai/resources/realtime/realtime';

export interface UsageInputs {
  /** 0-based index of the response within the session. */
  responseIndex: number;
  instructionsChars: number;
  conversationTextChars: number;
  inputAudioMs: number;
  outputAudioMs: number;
  outputTextChars: number;
}

export function computeUsage(u: UsageInputs): Required<Pick<RealtimeResponseUsage, 'total_tokens' | 'input_tokens' | 'output_tokens'>> & RealtimeResponseUsage {
  const inText = Math.ceil((u.instructionsChars + u.conversationTextChars) / 4);
  const inAudio = Math.round(u.inputAudioMs / 100);
  const input = inText + inAudio;
  // The first response has nothing cached yet; afterwards half of the prefix is a cache hit.
  const cachedText = u.responseIndex === 0 ? 0 : Math.floor(inText / 2);
  const cachedAudio = u.responseIndex === 0 ? 0 : Math.floor(inAudio / 2);
  const outAudio = Math.round(u.outputAudioMs / 50);
  const outText = Math.ceil(u.outputTextChars / 4);
  const output = outAudio + outText;
  return {
    total_tokens: input + output,
    input_tokens: input,
    output_tokens: output,
    input_token_details: {
      text_tokens: inText,
      audio_tokens: inAudio,
      image_tokens: 0,
      cached_tokens: cachedText + cachedAudio,
      cached_tokens_details: { text_tokens: cachedText, audio_tokens: cachedAudio, image_tokens: 0 },
    },
    output_token_details: { text_tokens: outText, audio_tokens: outAudio },
  };
}

/** Transcription models billed by audio duration (their usage is `{type:'duration', seconds}`). */
export const DURATION_BILLED_TRANSCRIPTION = new Set(['whisper-1', 'gpt-transcribe', 'gpt-live-transcribe']);

/** Usage block of `conversation.item.input_audio_transcription.completed`: seconds or tokens, as the model bills. */
export function transcriptionUsage(audioMs: number, transcript: string, model?: string) {
  if (model && DURATION_BILLED_TRANSCRIPTION.has(model)) return { type: 'duration' as const, seconds: audioMs / 1000 };
  const audio = Math.round(audioMs / 100);
  const out = Math.ceil(transcript.length / 4);
  return {
    type: 'tokens' as const,
    input_tokens: audio,
    output_tokens: out,
    total_tokens: audio + out,
    input_token_details: { text_tokens: 0, audio_tokens: audio },
  };
}
