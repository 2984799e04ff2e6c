import type { SileroVadOptions } from '../silero-vad.js';

/**
 * The messages between the main thread and the VAD worker. Frames are batched: everything the main
 * thread pushed in one turn of its event loop goes in one message, their PCM packed in one buffer that
 * is transferred (not copied), and the worker answers each batch with one message carrying the changes
 * it found. The main thread knows every frame of a batch was heard once that answer comes, changes or not.
 */
export type VadOp =
  /** A call's detector (a stream's state in the worker: nothing to build). */
  | { op: 'open'; id: number; options: SileroVadOptions }
  | { op: 'close'; id: number }
  /** A frame that passed the pre-gate: samples [at, at + n) of the batch's PCM. */
  | { op: 'frame'; id: number; seq: number; at: number; n: number }
  /** The pre-gate closed at this frame: restart the detector (a 'stopped' if it was speaking). */
  | { op: 'restart'; id: number; seq: number };

export interface VadBatch {
  batch: number;
  ops: VadOp[];
  pcm: Int16Array;
}

/**
 * The changes found in one batch: per change, the detector id, the frame's seq, and 1 started / 0 stopped.
 * Every frame of this batch and the ones before has been heard. Batches are answered in order.
 */
export interface VadAnswer {
  batch: number;
  changes: number[];
  /** Detectors that could not be opened or run (the model failed to load or to run): id and why. */
  failed?: Array<{ id: number; message: string }>;
}

/** Indices in the flags shared with the worker (an Int32Array over a SharedArrayBuffer): see thread.ts. */
export const STOP = 0;
export const BUSY = 1;
