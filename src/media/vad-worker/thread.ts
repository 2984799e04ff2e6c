import { parentPort, workerData } from 'node:worker_threads';
import { idleSileroVadsFor, SileroVad, warmSileroVad, type SileroVadOptions } from '../silero-vad.js';
import { BUSY, STOP, type VadAnswer, type VadBatch, type VadOp } from './protocol.js';

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
/**
 * Calls whose detector is not built yet (the pool was empty): their frames wait here, and are left out of
 * the batches' answers, while the other calls' frames are answered at once. One build per turn of this
 * thread's loop, so a live call's frames wait for one build (~90 ms) at most, not for a ramp's worth.
 */
const unbuilt = new Map<number, { options: SileroVadOptions; ops: Array<{ op: VadOp; pcm: Int16Array }> }>();
let building: NodeJS.Immediate | undefined;
let warming: NodeJS.Immediate | undefined;
/** The last batch received: a call's detector, once built, has heard every frame of it and before. */
let lastBatch = 0;

/**
 * Builds detectors ahead only while no call has one open: a build holds this thread ~90 ms, and every
 * live call's frames wait behind it (their verdicts stay on the same frames, but come that much later).
 */
function warmUp(): void {
  warming = undefined;
  if (vads.size > 0 || unbuilt.size > 0) return;
  if (native(() => warmSileroVad(warmOptions, warm))) warming = setImmediate(warmUp);
}

function idle(): void {
  if (vads.size === 0 && unbuilt.size === 0 && !warming) warming = setImmediate(warmUp);
}

port.on('message', (m: VadBatch) => native(() => answer(m)));

/** Runs one op on a built detector; pushes the change, if any, as [id, seq, 1|0]. */
function run(vad: SileroVad, op: VadOp, pcm: Int16Array, changes: number[]): void {
  if (op.op !== 'frame' && op.op !== 'restart') return;
  const change = op.op === 'frame' ? vad.feed(pcm) : vad.restart();
  if (change) changes.push(op.id, op.seq, change === 'started' ? 1 : 0);
}

function answer(m: VadBatch): void {
  lastBatch = m.batch;
  const changes: number[] = [];
  for (const op of m.ops) {
    if (op.op === 'open') {
      // A detector in the pool is taken at once (microseconds); otherwise it is built after this batch.
      if (idleSileroVadsFor(op.options) > 0) vads.set(op.id, new SileroVad(op.options));
      else unbuilt.set(op.id, { options: op.options, ops: [] });
      continue;
    }
    const pcm = op.op === 'frame' ? m.pcm.subarray(op.at, op.at + op.n) : EMPTY;
    const waiting = unbuilt.get(op.id);
    if (waiting) {
      if (op.op === 'close') unbuilt.delete(op.id);
      // The batch's buffer was transferred to this thread: a view of it stays valid.
      else waiting.ops.push({ op, pcm });
      continue;
    }
    const vad = vads.get(op.id);
    if (!vad) continue;
    if (op.op === 'close') {
      vad.close();
      vads.delete(op.id);
    } else run(vad, op, pcm, changes);
  }
  const reply: VadAnswer = { batch: m.batch, changes, ...(unbuilt.size ? { except: [...unbuilt.keys()] } : {}) };
  port.postMessage(reply);
  if (unbuilt.size > 0) building ??= setImmediate(buildNext);
  else idle();
}

/** Builds the longest-waiting call's detector, runs its frames so far, and answers for that call alone. */
function buildNext(): void {
  building = undefined;
  const next = unbuilt.entries().next();
  if (next.done) return idle();
  const [id, w] = next.value;
  native(() => {
    const changes: number[] = [];
    let reply: VadAnswer;
    try {
      const vad = new SileroVad(w.options);
      vads.set(id, vad);
      for (const { op, pcm } of w.ops) run(vad, op, pcm, changes);
      reply = { batch: lastBatch, changes, only: [id] };
    } catch (err) {
      reply = { batch: lastBatch, changes, only: [id], failed: [{ id, message: (err as Error).message }] };
    }
    unbuilt.delete(id);
    port.postMessage(reply);
  });
  if (unbuilt.size > 0) building = setImmediate(buildNext);
  else idle();
}

const EMPTY = new Int16Array(0);

warming = setImmediate(warmUp);
