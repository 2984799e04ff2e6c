import { createRequire } from 'node:module';
import { SILERO_MODEL_PATH } from '../silero-vad.js';
import { SILERO_STATE, SILERO_WINDOW, type SileroStream } from '../silero-stream.js';

type Ort = typeof import('onnxruntime-node');
type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;

/**
 * One ONNX Runtime session of the Silero model for every call of the process, run on a batch of windows
 * (one per call) at a time. The model is stateless between runs (each stream carries its recurrent state),
 * so one session serves any number of calls: nothing is built when a call starts, where a sherpa-onnx
 * detector per call was a new session (~75-90 ms of CPU and ~12 MB each, 2.4 GB at 200 calls). Batched,
 * a window costs ~37-42 us of CPU against ~86 us one by one (docs/benchmarks.md); the probabilities are
 * the same to the bit whatever the batch (test/unit/silero-stream.test.ts).
 *
 * onnxruntime-node ships its CPU build on npm; its postinstall (CUDA downloads) is off (package.json allowScripts).
 */
export class SileroSession {
  private constructor(
    private readonly ort: Ort,
    private readonly session: Session,
    private readonly sr: InstanceType<Ort['Tensor']>,
  ) {}

  /** Loads the model (~130 ms of CPU, once per thread). */
  static async open(modelPath = SILERO_MODEL_PATH): Promise<SileroSession> {
    const ort = createRequire(import.meta.url)('onnxruntime-node') as Ort;
    // One thread: the worker is one thread for every call; ORT's own pool would compete with the bridge.
    const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
    return new SileroSession(ort, session, new ort.Tensor('int64', BigInt64Array.from([16000n]), [1]));
  }

  /**
   * Runs one window per stream (at most one per stream: a stream's next window needs this one's state);
   * updates each stream's state and returns the speech probabilities, in order.
   */
  async run(streams: readonly SileroStream[], windows: readonly Float32Array[]): Promise<Float32Array> {
    const n = streams.length;
    const input = new Float32Array(n * SILERO_WINDOW);
    // The state tensor is [2 layers, batch, 128]: a stream's two halves lie n * 128 apart.
    const state = new Float32Array(n * SILERO_STATE);
    const half = SILERO_STATE / 2;
    for (let b = 0; b < n; b++) {
      input.set(windows[b]!, b * SILERO_WINDOW);
      const s = streams[b]!.state;
      state.set(s.subarray(0, half), b * half);
      state.set(s.subarray(half), (n + b) * half);
    }
    const out = await this.session.run({
      input: new this.ort.Tensor('float32', input, [n, SILERO_WINDOW]),
      state: new this.ort.Tensor('float32', state, [2, n, half]),
      sr: this.sr,
    });
    const next = out.stateN!.data as Float32Array;
    for (let b = 0; b < n; b++) {
      const s = streams[b]!.state;
      s.set(next.subarray(b * half, (b + 1) * half), 0);
      s.set(next.subarray((n + b) * half, (n + b + 1) * half), half);
    }
    return out.output!.data as Float32Array;
  }
}
