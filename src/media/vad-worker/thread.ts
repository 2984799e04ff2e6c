import { parentPort, workerData } from 'node:worker_threads';
import { SileroVad, warmSileroVad, type SileroVadOptions } from '../silero-vad.js';
import { BUSY, STOP, type VadAnswer, type VadBatch } from './protocol.js';

/**
 * The VAD worker's thread: every call's Silero detector lives here, so that building one (~90 ms of
 * native CPU) and running it never hold the main thread's event loop, which carries every call's audio.
 * It answers each batch of frames with the changes found in it, and when no call is open builds detectors
 * ahead for the next calls (the pool is this thread's: silero-vad.ts keeps one per thread).
 */
if (!parentPort) throw new Error('src/media/vad-worker/thread.ts runs as a worker thread (vad-worker/client.ts starts it)');
const port = parentPort;
const { warm, warmOptions, flags } = workerData as { warm: number; warmOptions: SileroVadOptions; flags: Int32Array };

/**
 * Native work (a build, a frame) is bracketed by BUSY, and none starts once STOP is set: the main thread,
 * exiting, sets STOP and waits for BUSY to clear, because a thread torn down inside sherpa-onnx's addon
 * aborts the whole process ('terminate called after throwing an instance of Napi::Error').
 */
function native<T>(work: () => T): T | undefined {
  Atomics.store(flags, BUSY, 1);
  try {
    return Atomics.load(flags, STOP) ? undefined : work();
  } finally {
    Atomics.store(flags, BUSY, 0);
    Atomics.notify(flags, BUSY);
  }
}

const vads = new Map<number, SileroVad>();
let warming: NodeJS.Immediate | undefined;

/**
 * Builds detectors ahead only while no call has one open: a build holds this thread ~90 ms, and every
 * live call's frames wait behind it (their verdicts stay on the same frames, but come that much later).
 * One per turn of this thread's loop, so a batch that comes meanwhile waits for one build at most.
 */
function warmUp(): void {
  warming = undefined;
  if (vads.size > 0) return;
  if (native(() => warmSileroVad(warmOptions, warm))) warming = setImmediate(warmUp);
}

port.on('message', (m: VadBatch) => native(() => answer(m)));

function answer(m: VadBatch): void {
  const changes: number[] = [];
  const failed: Array<{ id: number; message: string }> = [];
  for (const op of m.ops) {
    if (op.op === 'open') {
      try {
        vads.set(op.id, new SileroVad(op.options));
      } catch (err) {
        failed.push({ id: op.id, message: (err as Error).message });
      }
      continue;
    }
    const vad = vads.get(op.id);
    if (!vad) continue;
    if (op.op === 'close') {
      vad.close();
      vads.delete(op.id);
      continue;
    }
    const change = op.op === 'frame' ? vad.feed(m.pcm.subarray(op.at, op.at + op.n)) : vad.restart();
    if (change) changes.push(op.id, op.seq, change === 'started' ? 1 : 0);
  }
  const answer: VadAnswer = { batch: m.batch, changes, ...(failed.length ? { failed } : {}) };
  port.postMessage(answer);
  if (vads.size === 0 && !warming) warming = setImmediate(warmUp);
}

warming = setImmediate(warmUp);
