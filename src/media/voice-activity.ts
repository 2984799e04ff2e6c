/**
 * The seam for "is the callee speaking?" on the caller audio. The bridge feeds every caller frame as
 * PCM16 8 kHz (the audio path decodes it anyway) and gets a change back. Implementations: Silero (a
 * neural detector that tells speech from line noise, clicks and music) and the energy detector it
 * replaced (kept as a fallback and for comparison in the benchmark).
 */
export type VoiceActivityChange = 'started' | 'stopped';

export interface VoiceActivityDetector {
  /** Feeds one frame of PCM16 8 kHz caller audio; returns a change, else undefined. */
  pushPcm(pcm8k: Int16Array): VoiceActivityChange | undefined;
  readonly speaking: boolean;
  /**
   * How much of the speech had already been heard when 'started' was returned (the detector's own
   * confirmation delay); the barge-in policy counts it toward the speech length.
   */
  readonly onsetMs: number;
  /** Frees what the detector holds (native memory for Silero). Idempotent. */
  close(): void;
}

export type VadKind = 'silero' | 'energy';
