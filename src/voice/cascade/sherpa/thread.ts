import { Worker } from 'node:worker_threads';
import { siblingModule } from '../../../shared/sibling-module.js';
import { StageError } from '../stages.js';
import type { OfflineTtsConfig, OnlineRecognizerConfig } from './addon.js';

/** What a thread is started with: one model, and (tests only) a stand-in for the addon. */
export type SherpaWorkerData = { addon?: string } & (
  | { kind: 'stt'; config: OnlineRecognizerConfig }
  | { kind: 'tts'; config: OfflineTtsConfig; speaker: number; speed: number }
);

export type SherpaRequest =
  | { op: 'open'; sid: number }
  | { op: 'audio'; sid: number; pcm: Int16Array }
  /** The utterance's text so far; `final`: the audio is over (pad, flush, forget the stream). */
  | { op: 'text'; id: number; sid: number; final: boolean }
  | { op: 'close'; sid: number }
  | { op: 'speak'; id: number; text: string };

export type SherpaReply =
  | { id: number; error: string }
  | { id: number; text: string; audioMs: number; decodeMs: number }
  /** PCM16 at 8 kHz; genMs: the native generate call alone. */
  | { id: number; pcm: Int16Array; genMs: number };

type Pending = { resolve: (r: SherpaReply) => void; reject: (e: Error) => void };

/**
 * One worker thread holding one sherpa-onnx model, shared by every call of the process: the model is
 * loaded once (a Zipformer is ~70 MB int8, a Piper voice ~60 MB), and sherpa's native calls, which are
 * synchronous, never run on the event loop that carries live audio. Requests are answered by id.
 * A thread that dies fails what was in flight; the next use starts a new one.
 */
export class SherpaThread {
  private worker?: Worker;
  private started?: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(
    private readonly stage: 'stt' | 'tts',
    private readonly model: string,
    private readonly data: SherpaWorkerData,
  ) {}

  /** Starts the thread (if not running) and resolves once its model is loaded. */
  start(): Promise<void> {
    if (this.started) return this.started;
    const entry = siblingModule(import.meta.url, 'worker');
    // As the server runs: compiled, or from source with tsx registered before the entry loads.
    const w = entry.fromSource
      ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.url.href)}); })`, { eval: true, workerData: this.data })
      : new Worker(entry.url, { workerData: this.data });
    this.worker = w;
    const started = new Promise<void>((resolve, reject) => {
      let loaded = false;
      w.on('message', (m: SherpaReply | { ready: boolean; error?: string }) => {
        if ('ready' in m) {
          loaded = m.ready;
          return m.ready ? resolve() : reject(new StageError(this.stage, `could not load model ${this.model}: ${m.error}`, true));
        }
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (this.pending.size === 0) w.unref();
        p.resolve(m);
      });
      const gone = (err: Error) => {
        if (this.worker !== w) return;
        this.worker = undefined;
        this.started = undefined;
        if (!loaded) reject(new StageError(this.stage, `could not load model ${this.model}: ${err.message}`, true));
        const e = new StageError(this.stage, `the ${this.model} thread stopped: ${err.message}`);
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      };
      w.on('error', gone);
      w.on('exit', (code) => gone(new Error(`exited with code ${code}`)));
    });
    // Held while loading and while a request is in flight; an idle thread must not keep the process alive.
    void started.then(
      () => this.pending.size === 0 && w.unref(),
      () => undefined,
    );
    this.started = started;
    return started;
  }

  /** A message that needs no answer (audio in, a stream closed). */
  post(m: SherpaRequest, transfer: ArrayBuffer[] = []): void {
    if (!this.worker) void this.start().catch(() => undefined);
    this.worker!.postMessage(m, transfer);
  }

  /** A message with an answer; `m.id` is filled in. */
  request(m: SherpaRequest & { id: number }): Promise<SherpaReply> {
    if (!this.worker) void this.start().catch(() => undefined);
    const w = this.worker!;
    const id = (m.id = this.nextId++);
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) w.ref();
      this.pending.set(id, { resolve, reject });
      w.postMessage(m);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.started = undefined;
    await w?.terminate();
    for (const p of this.pending.values()) p.reject(new StageError(this.stage, `the ${this.model} thread was closed`));
    this.pending.clear();
  }
}

/** The reply's error as a StageError (a failed request: the call goes on). */
export function replyError(stage: 'stt' | 'tts', model: string, r: SherpaReply): StageError | undefined {
  return 'error' in r ? new StageError(stage, `${model}: ${r.error}`) : undefined;
}
