import { installedModel, recognizerConfig } from '../sherpa/model-files.js';
import { replyError, SherpaHost } from '../sherpa/host.js';
import type { SpeechToText, SttStream, Transcript } from '../stages.js';

export interface SherpaSttOptions {
  /** DATA_DIR: the model is DATA_DIR/models/<model>/. */
  dataDir: string;
  /** A catalog name (src/models/catalog.ts), e.g. sherpa-onnx-streaming-zipformer-en-2023-06-26. */
  model: string;
  /** ONNX Runtime threads for the model (SHERPA_THREADS). */
  numThreads: number;
  /** Tests only: a stand-in module for sherpa-onnx-node. */
  addon?: string;
}

/**
 * Audio a text preview waits for after it is asked (the callee's pause): a streaming Zipformer answers
 * for audio only once it has its look-ahead behind it (a 320 ms chunk plus 70 ms of padding frames for
 * sherpa-onnx's chunk-16 exports), so the words just before the pause come out only when this much of
 * the silence after them has been heard.
 */
export const PEEK_TAIL_MS = 450;

/**
 * Streaming speech-to-text on this machine: a transducer (Zipformer) run by sherpa-onnx in a child
 * process shared by all calls (sherpa/host.ts), fed as the callee speaks, so at the end of the turn only
 * the last chunk is left to decode. The 8 kHz line is doubled to the model's 16 kHz with the project's
 * half-band filter (src/media/resample.ts) there. Local: usage is reported in audio seconds, priced 0 by default.
 */
export class SherpaStreamingStt implements SpeechToText {
  readonly model: string;
  private host?: SherpaHost;
  private seq = 0;
  /** Audio finished so far and the model's time on it, all calls together (scripts/sherpa-check.ts prints them). */
  readonly totals = { audioMs: 0, decodeMs: 0 };

  constructor(private readonly o: SherpaSttOptions) {
    this.model = o.model;
  }

  /** Loads the model once per process; rejects (the call cannot start) when it is not downloaded. */
  async ready(): Promise<void> {
    if (!this.host) {
      const model = installedModel(this.o.dataDir, this.o.model, 'stt', 'sherpa-onnx-online-transducer');
      const config = recognizerConfig(model, { numThreads: this.o.numThreads });
      this.host = new SherpaHost('stt', this.o.model, { kind: 'stt', config, addon: this.o.addon });
    }
    await this.host.start();
  }

  async close(): Promise<void> {
    await this.host?.close();
  }

  open(): SttStream {
    const host = this.host;
    if (!host) throw new Error(`stt: ${this.model} is not loaded (ready() was not awaited)`);
    const sid = ++this.seq;
    host.post({ op: 'open', sid });
    let samples = 0;
    let ended = false;
    let final: Promise<Transcript> | undefined;
    /** Previews waiting for their tail of audio: they resolve with the final text if the stream ends first. */
    const waiting: Array<{ at: number; go: () => void }> = [];
    const text = async (isFinal: boolean): Promise<Transcript> => {
      const r = await host.request({ op: 'text', id: 0, sid, final: isFinal });
      const err = replyError('stt', this.model, r);
      if (err) throw err;
      const { text, audioMs, decodeMs } = r as { text: string; audioMs: number; decodeMs: number };
      if (isFinal) {
        this.totals.audioMs += audioMs;
        this.totals.decodeMs += decodeMs;
      }
      return { text, usage: { provider: 'stt', model: this.model, meters: { audio_seconds: Math.round(audioMs) / 1000 } } };
    };
    const finish = (): Promise<Transcript> => {
      if (!final) {
        ended = true;
        final = text(true);
        for (const w of waiting.splice(0)) w.go();
      }
      return final;
    };
    return {
      push: (pcm8k) => {
        if (ended) return;
        samples += pcm8k.length;
        // Its own copy: the frame may be a view into a larger buffer, which must not be sent whole.
        host.post({ op: 'audio', sid, pcm: pcm8k.slice() });
        while (waiting.length && waiting[0].at <= samples) waiting.shift()!.go();
      },
      finish,
      peek: () => {
        if (ended) return finish();
        return new Promise<Transcript>((resolve, reject) => {
          const at = samples + PEEK_TAIL_MS * 8;
          waiting.push({ at, go: () => (ended ? finish() : text(false)).then(resolve, reject) });
        });
      },
      abort: () => {
        if (ended) return;
        // A preview still waiting is answered with the whole utterance (the engine uses it as the turn's).
        if (waiting.length) return void finish().catch(() => undefined);
        ended = true;
        host.post({ op: 'close', sid });
      },
    };
  }
}
