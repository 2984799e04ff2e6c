import { createVoiceActivityDetector } from '../../../media/vad-factory.js';
import type { VoiceActivityChange, VoiceActivityDetector } from '../../../media/voice-activity.js';
import type { TurnDetector, TurnEvent } from '../stages.js';

export interface SileroTurnOptions {
  /** Silence after speech that ends the turn: VAD_SILENCE_MS, as the other engines' server VAD uses. */
  silenceMs: number;
  /** The detector (tests may pass another VoiceActivityDetector); default Silero through sherpa-onnx. */
  vad?: VoiceActivityDetector;
  /**
   * Silero's energy pre-gate (BARGE_IN_VAD_FLOOR_DBFS; default -45). Safe for turns: gated frames still
   * pass through hear() as silence, so the silence is counted in audio time as before; the onset may move
   * by one 32 ms window, which the engine's 300 ms pre-roll to the STT covers.
   */
  floorDbfs?: number;
}

/**
 * End of turn from Silero VAD, run in-process (the same model and addon the bridge's barge-in uses).
 * Silero reports speech within one 32 ms window of it stopping; the turn ends only once the silence has
 * lasted `silenceMs` of audio, counted in frames (media time, not wall-clock), so a loaded machine
 * decides the same way. Silero runs in the VAD worker: each frame's event comes once it has heard it.
 */
export class SileroTurnDetector implements TurnDetector {
  private readonly vad: VoiceActivityDetector;
  private inTurn = false;
  private silentMs = 0;

  constructor(private readonly o: SileroTurnOptions) {
    this.vad = o.vad ?? createVoiceActivityDetector('silero', { floorDbfs: o.floorDbfs });
  }

  hear(pcm8k: Int16Array, heard: (event: TurnEvent | undefined) => void): void {
    const frameMs = pcm8k.length / 8;
    this.vad.pushFrame(pcm8k, (change, speaking) => heard(this.turn(change, speaking, frameMs)));
  }

  drain(): Promise<void> {
    return this.vad.drain();
  }

  private turn(change: VoiceActivityChange | undefined, speaking: boolean, frameMs: number): TurnEvent | undefined {
    if (change === 'started') {
      this.silentMs = 0;
      if (this.inTurn) return 'speechResumed';
      this.inTurn = true;
      return 'speechStarted';
    }
    if (!this.inTurn) return undefined;
    if (change === 'stopped') {
      // The frame that ended the speech is the first of the silence.
      this.silentMs = frameMs;
      return 'speechPaused';
    }
    if (speaking) return undefined;
    this.silentMs += frameMs;
    if (this.silentMs < this.o.silenceMs) return undefined;
    this.inTurn = false;
    return 'turnEnded';
  }

  close(): void {
    this.vad.close();
  }
}
