/**
 * The seam for "is the callee speaking?" on the caller audio. The bridge feeds every caller frame as
 * PCM16 8 kHz (the audio path decodes it anyway) and is told, for each frame, in frame order, whether it
 * changed the state. Implementations: Silero (a neural detector that tells speech from line noise, clicks
 * and music), run in a worker thread so that building and running it never blocks the event loop that
 * carries every call's audio (vad-worker/), and the energy detector it replaced (kept as a fallback, and
 * for comparison in the benchmark), which answers at once.
 */
export type VoiceActivityChange = 'started' | 'stopped';

/**
 * What the detector made of one frame: the change it caused, if any, and the state after it. Called once
 * per frame pushed, in the order pushed; consumers count frames (media time), not the time it comes.
 */
export type FrameHeard = (change: VoiceActivityChange | undefined, speaking: boolean) => void;

export interface VoiceActivityDetector {
  /** Feeds one frame of PCM16 8 kHz caller audio (read before this returns: the buffer may be reused). */
  pushFrame(pcm8k: Int16Array, heard: FrameHeard): void;
  /** The state after the last frame heard. */
  readonly speaking: boolean;
  /**
   * How much of the speech had already been heard when 'started' was returned (the detector's own
   * confirmation delay); the barge-in policy counts it toward the speech length.
   */
  readonly onsetMs: number;
  /** Resolves once every frame pushed so far has been heard (tests; at once for a detector in-thread). */
  drain(): Promise<void>;
  /** Frees what the detector holds (native memory for Silero). Frames not yet heard are dropped. Idempotent. */
  close(): void;
}

/** A detector that judges each frame as it comes: the push-based seam over it answers at once. */
export abstract class InThreadDetector implements VoiceActivityDetector {
  abstract readonly speaking: boolean;
  abstract readonly onsetMs: number;
  /** Feeds one frame; returns a change, else undefined. */
  abstract pushPcm(pcm8k: Int16Array): VoiceActivityChange | undefined;
  abstract close(): void;

  pushFrame(pcm8k: Int16Array, heard: FrameHeard): void {
    const change = this.pushPcm(pcm8k);
    heard(change, this.speaking);
  }

  drain(): Promise<void> {
    return Promise.resolve();
  }
}

export type VadKind = 'silero' | 'energy';
