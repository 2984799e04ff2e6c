/**
 * The input audio buffer and its timeline. All positions are milliseconds since the first appended byte of
 * the session (bytes / 8), which is the clock the real API uses for audio_start_ms / audio_end_ms.
 */
import { BYTES_PER_MS, decodeMulaw } from './audio.js';
import type { EffectiveTurnDetection } from './config.js';
import { EnergyVad, type VadEvent, type VadOptions } from './vad.js';

export class InputAudioBuffer {
  /** Everything ever appended, including audio later cleared. */
  totalMs = 0;
  /** Where the uncommitted part of the buffer begins. */
  private startMs = 0;
  private readonly vad: EnergyVad;

  constructor(vadOptions: VadOptions) {
    this.vad = new EnergyVad(vadOptions);
  }

  get bufferedMs(): number {
    return this.totalMs - this.startMs;
  }

  /**
   * Appends mu-law bytes. The VAD always sees the audio so its window grid stays aligned with the timeline;
   * with turn detection off its transitions are discarded.
   */
  append(bytes: Uint8Array, td: EffectiveTurnDetection | null): VadEvent[] {
    this.totalMs += bytes.length / BYTES_PER_MS;
    const events = this.vad.push(decodeMulaw(bytes), { silenceDurationMs: td?.silenceDurationMs ?? 0 });
    if (!td) {
      this.vad.reset();
      return [];
    }
    return events;
  }

  /** The real server reports the speech start including prefix padding, but never before the buffer began. */
  speechStartMs(onsetMs: number, prefixPaddingMs: number): number {
    return Math.max(this.startMs, onsetMs - prefixPaddingMs);
  }

  /**
   * Moves the buffer start to `atMs` (default: now) and returns how much audio was taken. Leaves the VAD alone:
   * a single append can hold a stop and the next start, and the VAD has already moved past both.
   */
  take(atMs: number = this.totalMs): number {
    const ms = Math.max(0, atMs - this.startMs);
    this.startMs = atMs;
    return ms;
  }

  /** Forgets speech in progress, for a commit or clear the client forces mid-utterance. */
  resetVad(): void {
    this.vad.reset();
  }

  clear(): void {
    this.startMs = this.totalMs;
    this.vad.reset();
  }
}
