import type { UsageReport } from '../../engine.js';
import { installedModel, piperConfig } from '../sherpa/model-files.js';
import { replyError, SherpaHost } from '../sherpa/host.js';
import type { TextToSpeech } from '../stages.js';

export interface PiperTtsOptions {
  /** DATA_DIR: the voice is DATA_DIR/models/<voice>/. */
  dataDir: string;
  /** A catalog name (src/models/catalog.ts), e.g. vits-piper-en_US-lessac-medium. */
  voice: string;
  /** ONNX Runtime threads for the voice (SHERPA_THREADS). */
  numThreads: number;
  /** Speaker id, for voices with several (0 for single-speaker voices). */
  speaker?: number;
  /** 1 = the voice's own pace. */
  speed?: number;
  /** Tests only: a stand-in module for sherpa-onnx-node. */
  addon?: string;
}

/** Audio is handed on in pieces of this many 8 kHz samples (100 ms). */
const PIECE = 800;

interface Job {
  text: string;
  signal: AbortSignal;
  /** The clause's place in its reply (0: the first). */
  index: number;
  seq: number;
  resolve: (pcm: Int16Array) => void;
  reject: (e: Error) => void;
}

/**
 * Piper voices on this machine: sherpa-onnx's OfflineTts (VITS) in one child process shared by all calls
 * (sherpa/host.ts),
 * one clause at a time. Generation is synchronous and CPU-bound, and ONNX Runtime already spreads one
 * generation over SHERPA_THREADS cores, so a pool would mostly split the same cores while holding a copy
 * of the voice each; one process with a well-ordered queue gives the first words sooner. The queue takes
 * the clause that is earliest in its reply first (every reply's first clause before anyone's second),
 * then by arrival, so one call's long answer does not hold up another call's first words. A clause
 * whose reply is cancelled (barge-in) leaves the queue at once; one already generating is dropped when
 * it comes back. The voice's rate (Piper: 16 or 22.05 kHz) is brought to 8 kHz in that process, through
 * the windowed-sinc low-pass at 3.6 kHz (audio.ts).
 */
export class PiperTts implements TextToSpeech {
  readonly model: string;
  private host?: SherpaHost;
  private readonly queue: Job[] = [];
  private busy = false;
  private seq = 0;
  /** Clauses asked for per reply (its abort signal), so each knows its place. */
  private readonly perReply = new WeakMap<AbortSignal, number>();

  constructor(private readonly o: PiperTtsOptions) {
    this.model = o.voice;
  }

  async ready(): Promise<void> {
    if (!this.host) {
      const model = installedModel(this.o.dataDir, this.o.voice, 'tts', 'sherpa-onnx-vits-piper');
      const config = piperConfig(model, { numThreads: this.o.numThreads });
      this.host = new SherpaHost('tts', this.o.voice, { kind: 'tts', config, speaker: this.o.speaker ?? 0, speed: this.o.speed ?? 1, addon: this.o.addon });
    }
    await this.host.start();
  }

  async close(): Promise<void> {
    await this.host?.close();
  }

  usageFor(text: string): UsageReport {
    return { provider: 'tts', model: this.model, meters: { characters: text.length } };
  }

  async *synthesize(text: string, signal: AbortSignal): AsyncIterable<Int16Array> {
    if (signal.aborted) return;
    const index = this.perReply.get(signal) ?? 0;
    this.perReply.set(signal, index + 1);
    let pcm: Int16Array;
    try {
      pcm = await new Promise<Int16Array>((resolve, reject) => {
        const job: Job = { text, signal, index, seq: ++this.seq, resolve, reject };
        this.queue.push(job);
        signal.addEventListener('abort', () => this.dequeue(job), { once: true });
        this.pump();
      });
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
    for (let i = 0; i < pcm.length && !signal.aborted; i += PIECE) yield pcm.subarray(i, i + PIECE);
  }

  private dequeue(job: Job): void {
    const at = this.queue.indexOf(job);
    if (at >= 0) this.queue.splice(at, 1);
    job.reject(new Error('cancelled'));
  }

  private pump(): void {
    if (this.busy || !this.queue.length) return;
    const host = this.host;
    if (!host) {
      for (const j of this.queue.splice(0)) j.reject(new Error(`tts: ${this.model} is not loaded (ready() was not awaited)`));
      return;
    }
    let best = 0;
    for (let i = 1; i < this.queue.length; i++) {
      const a = this.queue[i];
      const b = this.queue[best];
      if (a.index < b.index || (a.index === b.index && a.seq < b.seq)) best = i;
    }
    const job = this.queue.splice(best, 1)[0];
    this.busy = true;
    host
      .request({ op: 'speak', id: 0, text: job.text })
      .then((r) => {
        const err = replyError('tts', this.model, r);
        if (err) job.reject(err);
        else job.resolve((r as { pcm: Int16Array }).pcm);
      }, job.reject)
      .finally(() => {
        this.busy = false;
        this.pump();
      });
  }
}
