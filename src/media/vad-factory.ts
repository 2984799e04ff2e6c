import { EnergyVad } from './energy-vad.js';
import { SileroVad, VAD_FLOOR_DBFS_DEFAULT } from './silero-vad.js';
import type { VadKind, VoiceActivityDetector } from './voice-activity.js';

/**
 * A detector of the given kind, one per call (each keeps its own state). Silero needs the native
 * sherpa-onnx addon: where this platform has no build of it, this throws saying so, and BARGE_IN_VAD
 * can pick the energy detector instead.
 */
export function createVoiceActivityDetector(kind: VadKind, o: { floorDbfs?: number } = {}): VoiceActivityDetector {
  if (kind === 'energy') return new EnergyVad();
  // Silero's energy pre-gate (BARGE_IN_VAD_FLOOR_DBFS); -100 and below turns it off.
  const floor = o.floorDbfs ?? VAD_FLOOR_DBFS_DEFAULT;
  return new SileroVad({ floorDbfs: floor <= -100 ? undefined : floor });
}
