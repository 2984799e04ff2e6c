/**
 * Silero's energy pre-gate: while a frame's RMS is below the floor (the callee's silences), the network
 * is not run and the audio counts as silence (scripts/profile-vad-gate.ts). A sum of squares per frame:
 * it stays on the main thread when Silero runs in the VAD worker, so silent frames never cross to it.
 */

/**
 * After the last frame above the floor the network keeps running this long, so a dip between words or a
 * trailing quiet syllable is judged by Silero exactly as without the gate, and its own silence ends the speech.
 */
const GATE_HANGOVER_MS = 256;

/** 'feed': run the network on it; 'gate-starts': the first gated frame (restart Silero); 'gated': skip it. */
export type GateVerdict = 'feed' | 'gate-starts' | 'gated';

export class SileroPreGate {
  /** Mean square (int16 units) below which a frame is gated. */
  private readonly floorMeanSq: number;
  /** Audio ms fed since the last frame above the floor; starts gated (a call opens in silence). */
  private quietMs = Infinity;

  constructor(floorDbfs: number) {
    this.floorMeanSq = (32768 * 10 ** (floorDbfs / 20)) ** 2;
  }

  frame(pcm8k: Int16Array): GateVerdict {
    let sum = 0;
    for (let i = 0; i < pcm8k.length; i++) sum += pcm8k[i] * pcm8k[i];
    if (pcm8k.length > 0 && sum / pcm8k.length >= this.floorMeanSq) {
      this.quietMs = 0;
      return 'feed';
    }
    if (this.quietMs === Infinity) return 'gated';
    if (this.quietMs >= GATE_HANGOVER_MS) {
      this.quietMs = Infinity;
      return 'gate-starts';
    }
    this.quietMs += pcm8k.length / 8;
    return 'feed';
  }
}
