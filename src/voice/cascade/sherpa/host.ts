import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { siblingModule } from '../../../shared/sibling-module.js';
import { StageError } from '../stages.js';
import type { OfflineTtsConfig, OnlineRecognizerConfig } from './addon.js';

/** What a child is started with: one model, and (tests only) a stand-in for the addon. */
export type SherpaChildData = { addon?: string } & (
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

/** The last stderr lines a child wrote, for the error when it dies (sherpa-onnx prints its reason there). */
const STDERR_KEEP = 2000;

/**
 * One child process holding one sherpa-onnx model, shared by every call of the server: the model is
 * loaded once (a Zipformer is ~70 MB int8, a Piper voice ~60 MB), and sherpa's native calls, which are
 * synchronous, never run on the event loop that carries live audio. A process, not a worker thread:
 * sherpa-onnx aborts the whole process on some native errors (a damaged .onnx file: "terminate called
 * after throwing an instance of 'Ort::Exception'", seen with sherpa-onnx-node 1.13.8), which in a thread
 * would end the server and every live call. Here it ends the child: what was in flight fails, the
 * reason is in the error, and the next call starts a new child.
 * Messages use structured clone ('advanced' serialization), so PCM travels as typed arrays.
 */
export class SherpaHost {
  private child?: ChildProcess;
  private started?: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(
    private readonly stage: 'stt' | 'tts',
    private readonly model: string,
    private readonly data: SherpaChildData,
  ) {}

  /** Starts the child (if not running) and resolves once its model is loaded. */
  start(): Promise<void> {
    if (this.started) return this.started;
    const entry = siblingModule(import.meta.url, 'child');
    // As the server runs: compiled, or from source through tsx.
    const child = fork(fileURLToPath(entry.url), [], {
      serialization: 'advanced',
      execArgv: entry.fromSource ? ['--import', 'tsx'] : [],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => {
      process.stderr.write(b);
      stderr = (stderr + b.toString()).slice(-STDERR_KEEP);
    });
    const reason = (what: string) => {
      const line = stderr.trim().split('\n').filter((l) => l.trim()).at(-1);
      return line ? `${what}: ${line.trim()}` : what;
    };
    const started = new Promise<void>((resolve, reject) => {
      let loaded = false;
      child.on('message', (m: SherpaReply | { ready: boolean; error?: string }) => {
        if ('ready' in m) {
          loaded = m.ready;
          return m.ready ? resolve() : reject(new StageError(this.stage, `could not load model ${this.model}: ${m.error}`, true));
        }
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (this.pending.size === 0) this.idle(child, true);
        p.resolve(m);
      });
      const gone = (what: string) => {
        if (this.child !== child) return;
        this.child = undefined;
        this.started = undefined;
        if (!loaded) reject(new StageError(this.stage, `could not load model ${this.model}: ${reason(what)}`, true));
        const e = new StageError(this.stage, `the ${this.model} process stopped: ${reason(what)}`);
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      };
      child.on('error', (err) => gone(err.message));
      child.on('exit', (code, signal) => gone(signal ? `exited on ${signal}` : `exited with code ${code}`));
    });
    void started.then(
      () => this.pending.size === 0 && this.idle(child, true),
      () => undefined,
    );
    child.send({ init: this.data });
    this.started = started;
    return started;
  }

  /** An idle child must not keep the server (or a test) alive; one with work in flight must. */
  private idle(child: ChildProcess, idle: boolean): void {
    const handles = [child, child.channel, child.stderr] as Array<{ ref?: () => void; unref?: () => void } | null | undefined>;
    for (const h of handles) (idle ? h?.unref : h?.ref)?.call(h);
  }

  /** A message that needs no answer (audio in, a stream closed). */
  post(m: SherpaRequest): void {
    if (!this.child) void this.start().catch(() => undefined);
    this.child!.send(m);
  }

  /** A message with an answer; `m.id` is filled in. */
  request(m: SherpaRequest & { id: number }): Promise<SherpaReply> {
    if (!this.child) void this.start().catch(() => undefined);
    const child = this.child!;
    const id = (m.id = this.nextId++);
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.idle(child, false);
      this.pending.set(id, { resolve, reject });
      child.send(m);
    });
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.started = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      // Held until it has gone, so close() resolves rather than the process ending under it.
      this.idle(child, false);
      child.kill();
      await exited;
    }
    for (const p of this.pending.values()) p.reject(new StageError(this.stage, `the ${this.model} process was closed`));
    this.pending.clear();
  }
}

/** The reply's error as a StageError (a failed request: the call goes on). */
export function replyError(stage: 'stt' | 'tts', model: string, r: SherpaReply): StageError | undefined {
  return 'error' in r ? new StageError(stage, `${model}: ${r.error}`) : undefined;
}
