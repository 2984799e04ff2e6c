import { Worker } from 'node:worker_threads';
import type { SileroVadOptions } from '../silero-vad.js';
import { BUSY, STOP, type VadAnswer, type VadBatch, type VadOp } from './protocol.js';

/**
 * The worker's flags: not the process's (a preload such as the bridge benchmark's loop probe would run in
 * it too, and V8 heap flags such as --max-semi-space-size are refused in a worker), only tsx's loader when
 * this runs from TypeScript (tests, the dev server), and the profiler's flags in a process run with
 * --cpu-prof (the bridge benchmark), the worker's profile under a name of its own.
 */
function workerExecArgv(fromTs: boolean): string[] {
  const out = fromTs ? ['--import', 'tsx'] : [];
  for (const a of process.execArgv) {
    if (a.startsWith('--cpu-prof-name=')) out.push(a.replace(/(\.cpuprofile)?$/, '.vad-worker.cpuprofile'));
    else if (a.startsWith('--cpu-prof')) out.push(a);
  }
  return out;
}

/** What the client tells a detector on the main thread (worker-vad.ts). */
export interface WorkerVadPeer {
  /** Every frame of batches up to `batch` has been heard; `changes` are this detector's, as [seq, 1|0]. */
  answered(batch: number, changes: readonly number[]): void;
  /** The worker is gone (crashed, or Silero could not be loaded or run): fall back. */
  lost(reason: string): void;
}

/** Longest a process exit waits for the worker's native call in progress (a run is a few ms). */
const EXIT_WAIT_MS = 2000;

/**
 * The main thread's side of the VAD worker: one worker thread for the process, started at server start
 * (startVadWorker) or by the first call. Ops are queued and posted once per turn of the event loop, the
 * frames' PCM copied into one buffer that is transferred; the answers are handed to each detector. The
 * worker is referenced only while a detector is open, so it never keeps a process alive. If it dies, its
 * detectors are told (they fall back to the energy detector) and the next call starts a new one.
 */
export class VadWorkerClient {
  private worker?: Worker;
  private readonly peers = new Map<number, WorkerVadPeer>();
  private nextId = 1;
  private batch = 0;
  private ops: VadOp[] = [];
  private pcm = new Int16Array(160 * 64);
  private pcmUsed = 0;
  private flushing?: NodeJS.Immediate;
  /** Batches posted and not yet answered; their peers' frames wait for the answers. */
  private inFlight = 0;

  /** Starts the worker now (server start), so the first call does not wait for the thread and the model. */
  start(): void {
    if (this.worker) return;
    // Under tsx (tests, the dev server) this module is TypeScript and so is the thread's entry.
    const fromTs = import.meta.url.endsWith('.ts');
    const flags = new Int32Array(new SharedArrayBuffer(8));
    const w = new Worker(new URL(`./thread.${fromTs ? 'ts' : 'js'}`, import.meta.url), { execArgv: workerExecArgv(fromTs), workerData: { flags } });
    // At exit the worker is torn down wherever it is; inside a native addon that can abort the process,
    // so the exit waits (a few ms) for the native call in progress to return.
    const stopAtExit = () => {
      Atomics.store(flags, STOP, 1);
      Atomics.wait(flags, BUSY, 1, EXIT_WAIT_MS);
    };
    process.once('exit', stopAtExit);
    w.once('exit', () => process.off('exit', stopAtExit));
    w.unref();
    w.on('message', (a: VadAnswer) => this.onAnswer(a));
    w.on('error', (err) => this.onGone(w, `the VAD worker failed: ${err.message}`));
    w.on('exit', (code) => this.onGone(w, `the VAD worker exited (code ${code})`));
    this.worker = w;
  }

  /** Opens a detector in the worker; returns its id (the peer hears of its frames through answered()). */
  open(peer: WorkerVadPeer, options: SileroVadOptions): number {
    this.start();
    const id = this.nextId++;
    if (this.peers.size === 0) this.worker?.ref();
    this.peers.set(id, peer);
    this.queue({ op: 'open', id, options });
    return id;
  }

  close(id: number): void {
    if (!this.peers.delete(id)) return;
    this.queue({ op: 'close', id });
    if (this.peers.size === 0) this.worker?.unref();
  }

  /** Queues a frame (its samples copied now); returns the batch it goes in. */
  frame(id: number, seq: number, pcm8k: Int16Array): number {
    if (this.pcmUsed + pcm8k.length > this.pcm.length) {
      const bigger = new Int16Array(Math.max(this.pcm.length * 2, this.pcmUsed + pcm8k.length));
      bigger.set(this.pcm.subarray(0, this.pcmUsed));
      this.pcm = bigger;
    }
    this.pcm.set(pcm8k, this.pcmUsed);
    this.queue({ op: 'frame', id, seq, at: this.pcmUsed, n: pcm8k.length });
    this.pcmUsed += pcm8k.length;
    return this.batch + 1;
  }

  /** Queues a restart (the pre-gate closed at this frame); returns the batch it goes in. */
  restart(id: number, seq: number): number {
    this.queue({ op: 'restart', id, seq });
    return this.batch + 1;
  }

  /** Stops the worker (tests of the fallback; a server that closes leaves it unreferenced instead). */
  async terminate(): Promise<void> {
    await this.worker?.terminate();
  }

  private queue(op: VadOp): void {
    this.ops.push(op);
    this.flushing ??= setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushing = undefined;
    const w = this.worker;
    if (!w || this.ops.length === 0) return;
    const msg: VadBatch = { batch: ++this.batch, ops: this.ops, pcm: this.pcm.subarray(0, this.pcmUsed) };
    w.postMessage(msg, [this.pcm.buffer]);
    this.inFlight++;
    this.ops = [];
    this.pcm = new Int16Array(Math.max(160 * 64, this.pcmUsed));
    this.pcmUsed = 0;
  }

  private onAnswer(a: VadAnswer): void {
    this.inFlight--;
    for (const f of a.failed ?? []) this.peers.get(f.id)?.lost(`the VAD worker could not run Silero: ${f.message}`);
    // Most answers carry no change (silence, or speech going on): then nothing is grouped or allocated.
    const mine = a.changes.length === 0 ? undefined : changesById(a.changes);
    // A peer closed by an answer before it (a barge-in that ends the call) is skipped by the iteration.
    for (const [id, peer] of this.peers) peer.answered(a.batch, mine?.get(id) ?? NO_CHANGES);
  }

  private onGone(w: Worker, reason: string): void {
    if (this.worker !== w) return;
    this.worker = undefined;
    this.inFlight = 0;
    this.ops = [];
    this.pcmUsed = 0;
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = undefined;
    const peers = [...this.peers.values()];
    this.peers.clear();
    for (const p of peers) p.lost(reason);
  }
}

const NO_CHANGES: readonly number[] = [];

/** An answer's changes ([id, seq, 1|0]...) as each detector's [seq, 1|0]... */
function changesById(changes: number[]): Map<number, number[]> {
  const mine = new Map<number, number[]>();
  for (let i = 0; i < changes.length; i += 3) {
    const list = mine.get(changes[i]);
    if (list) list.push(changes[i + 1], changes[i + 2]);
    else mine.set(changes[i], [changes[i + 1], changes[i + 2]]);
  }
  return mine;
}
