import { parentPort, workerData } from 'node:worker_threads';
import { sileroStreamOptions } from '../silero-vad.js';
import { SileroStream } from '../silero-stream.js';
import { SileroSession } from './silero-session.js';
import { BUSY, STOP, type VadAnswer, type VadBatch, type VadOp } from './protocol.js';

/**
 * The VAD worker's thread: every call's Silero runs here, off the main thread's event loop, which carries
 * every call's audio. One ONNX Runtime session serves all calls (silero-session.ts): a call's detector is
 * its stream's state (silero-stream.ts), so opening one costs microseconds, and the windows of all calls
 * in a batch run together. Each batch is answered with the changes found in it, batches in order.
 */
if (!parentPort) throw new Error('src/media/vad-worker/thread.ts runs as a worker thread (vad-worker/client.ts starts it)');
const port = parentPort;
const { flags } = workerData as { flags: Int32Array };

const streams = new Map<number, SileroStream>();

let queue: Promise<void> = Promise.resolve();
port.on('message', (m: VadBatch) => {
  // Batches are answered one after the other, in order. A fault here is thrown out of the thread: the
  // worker's 'error' reaches the client, whose calls then hear by energy (a worker that stopped answering
  // would leave their frames waiting instead).
  queue = queue
    .then(() => answer(m))
    .catch((err: unknown) => {
      setImmediate(() => {
        throw err;
      });
    });
});

/**
 * A run is native work bracketed by BUSY, and none starts once STOP is set: the main thread, exiting, sets
 * STOP and waits for BUSY to clear, because a thread torn down inside a native addon can abort the whole
 * process (it did with sherpa-onnx: 'terminate called after throwing an instance of Napi::Error').
 */
async function native<T>(work: () => Promise<T>): Promise<T | undefined> {
  if (Atomics.load(flags, STOP)) return undefined;
  Atomics.store(flags, BUSY, 1);
  try {
    return await work();
  } finally {
    Atomics.store(flags, BUSY, 0);
    Atomics.notify(flags, BUSY);
  }
}

/**
 * The model, loading from the thread's start (~130 ms; native work too, so an exit waits for it): batches
 * that come first wait for it.
 */
const session: Promise<SileroSession | Error> = native(() => SileroSession.open()).then(
  (s) => s ?? new Error('the process is exiting'),
  (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
);

/** One call's ops of this batch, in order, and how far they have been run. */
interface Ops {
  id: number;
  stream: SileroStream;
  ops: VadOp[];
  at: number;
}

async function answer(m: VadBatch): Promise<void> {
  const model = await session;
  const reply: VadAnswer = { batch: m.batch, changes: [] };
  const changes = reply.changes;
  const failed = (id: number, message: string) => (reply.failed ??= []).push({ id, message });
  const byCall = new Map<number, Ops>();
  for (const op of m.ops) {
    if (op.op === 'open') {
      if (model instanceof Error) failed(op.id, model.message);
      else streams.set(op.id, new SileroStream(sileroStreamOptions(op.options)));
    } else if (op.op === 'close') {
      // Its frames still in this batch are nobody's now: the main thread has let the detector go.
      streams.delete(op.id);
      byCall.delete(op.id);
    } else {
      const stream = streams.get(op.id);
      if (!stream) continue;
      let mine = byCall.get(op.id);
      if (!mine) byCall.set(op.id, (mine = { id: op.id, stream, ops: [], at: 0 }));
      mine.ops.push(op);
    }
  }
  // In rounds: each round runs the next window of every call that has one (a call's next window needs this
  // one's state), so at 20 ms frames a batch of one turn's frames is one round, and every call in it is one
  // row of one run.
  while (byCall.size > 0 && model instanceof SileroSession) {
    const round: Array<{ calls: Ops; seq: number }> = [];
    const windows: Float32Array[] = [];
    for (const calls of byCall.values()) {
      const w = nextWindow(calls, m.pcm, changes);
      if (w) {
        round.push({ calls, seq: w.seq });
        windows.push(w.window);
      } else byCall.delete(calls.id);
    }
    if (round.length === 0) break;
    let probabilities: Float32Array | undefined;
    try {
      probabilities = await native(() => model.run(round.map((r) => r.calls.stream), windows));
    } catch (err) {
      for (const r of round) {
        failed(r.calls.id, (err as Error).message);
        streams.delete(r.calls.id);
        byCall.delete(r.calls.id);
      }
      continue;
    }
    if (!probabilities) return; // exiting
    round.forEach((r, b) => {
      const change = r.calls.stream.heard(probabilities[b]!);
      if (change) changes.push(r.calls.id, r.seq, change === 'started' ? 1 : 0);
    });
  }
  port.postMessage(reply);
}

/**
 * Runs the call's ops up to the next frame that completes a window, and returns that window (a restart in
 * between is applied, with its change, as the detector in-thread would). Undefined when its ops are done.
 */
function nextWindow(calls: Ops, pcm: Int16Array, changes: number[]): { seq: number; window: Float32Array } | undefined {
  while (calls.at < calls.ops.length) {
    const op = calls.ops[calls.at++]!;
    if (op.op === 'restart') {
      if (calls.stream.restart()) changes.push(calls.id, op.seq, 0);
    } else if (op.op === 'frame') {
      const window = calls.stream.push(pcm.subarray(op.at, op.at + op.n));
      if (window) return { seq: op.seq, window };
    }
  }
  return undefined;
}
