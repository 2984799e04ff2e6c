import { EnergyVad } from './energy-vad.js';
import { SileroVad, VAD_FLOOR_DBFS_DEFAULT, type SileroVadOptions } from './silero-vad.js';
import { VadWorkerClient } from './vad-worker/client.js';
import { WorkerVad } from './vad-worker/worker-vad.js';
import type { InThreadDetector, VadKind, VoiceActivityDetector } from './voice-activity.js';

/** The options every call's Silero is opened with. */
const sileroOptions = (floorDbfs: number | undefined): SileroVadOptions => ({ floorDbfs: floorDbfs === undefined || floorDbfs <= -100 ? undefined : floorDbfs });

let worker: VadWorkerClient | undefined;

/** The process's VAD worker (one thread for every call's Silero). */
export function vadWorker(): VadWorkerClient {
  worker ??= new VadWorkerClient();
  return worker;
}

/** Starts the VAD worker, so that the first call finds its thread up and the model loaded (server start). */
export function startVadWorker(): void {
  vadWorker().start();
}

/**
 * A detector of the given kind, one per call (each keeps its own state). Silero runs in the VAD worker
 * (vad-worker/), on onnxruntime-node's native addon: where this platform has no build of it, the worker
 * cannot load the model and the call hears by energy (onLost says why), and BARGE_IN_VAD can pick energy outright.
 */
export function createVoiceActivityDetector(kind: VadKind, o: { floorDbfs?: number; onLost?: (reason: string) => void } = {}): VoiceActivityDetector {
  if (kind === 'energy') return new EnergyVad();
  // Silero's energy pre-gate (BARGE_IN_VAD_FLOOR_DBFS); -100 and below turns it off.
  return new WorkerVad(vadWorker(), sileroOptions(o.floorDbfs ?? VAD_FLOOR_DBFS_DEFAULT), o.onLost);
}

/**
 * The same detector run in this thread, answering each frame at once (the benchmarks' cost per frame,
 * tests of what the detector hears). Building Silero here blocks this thread for ~90 ms: not for the bridge.
 */
export function createInThreadDetector(kind: VadKind, o: { floorDbfs?: number } = {}): InThreadDetector {
  if (kind === 'energy') return new EnergyVad();
  return new SileroVad(sileroOptions(o.floorDbfs ?? VAD_FLOOR_DBFS_DEFAULT));
}
