/**
 * The OpenAI simulator's view of the shared energy VAD: 8 kHz input (pcmu decoded) and the event names
 * and fields the Realtime API uses.
 */
import { EnergyVad as SharedVad, type VadOptions } from '../shared/energy-vad.js';

export type { VadOptions };
export const SAMPLE_RATE = 8000;

export interface VadParams {
  silenceDurationMs: number;
}

export type VadEvent =
  /** `onsetMs`: start of the first speech window of the run (before prefix padding is applied). */
  | { kind: 'speech_started'; onsetMs: number }
  /** `endMs`: the point where the silence run reached silenceDurationMs (what the real API reports). */
  | { kind: 'speech_stopped'; endMs: number };

export class EnergyVad {
  private readonly vad: SharedVad;

  constructor(opts: VadOptions) {
    this.vad = new SharedVad(opts);
  }

  get speaking(): boolean {
    return this.vad.speaking;
  }

  /** Feeds samples; returns the transitions they caused, in timeline order. */
  push(samples: Int16Array, params: VadParams): VadEvent[] {
    return this.vad.push(samples, SAMPLE_RATE, params.silenceDurationMs).map((e) => (e.kind === 'start' ? { kind: 'speech_started', onsetMs: e.atMs } : { kind: 'speech_stopped', endMs: e.atMs }));
  }

  reset(): void {
    this.vad.reset();
  }
}
