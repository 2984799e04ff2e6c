import { EnergyVad } from './energy-vad.js';
import { SileroVad } from './silero-vad.js';
import type { VadKind, VoiceActivityDetector } from './voice-activity.js';

/**
 * A detector of the given kind, one per call (each keeps its own state). Silero needs the native
 * sherpa-onnx addon: where this platform has no build of it, this throws saying so, and BARGE_IN_VAD
 * can pick the energy detector instead.
 */
export function createVoiceActivityDetector(kind: VadKind): VoiceActivityDetector {
  return kind === 'energy' ? new EnergyVad() : new SileroVad();
}
