/**
 * The sherpa-onnx child process (see host.ts): one model per process, recognizer or voice. sherpa-onnx's
 * streaming decode and its TTS generate are synchronous native calls (tens to hundreds of ms of CPU);
 * here they run beside the event loop that carries live calls' audio, not on it. Resampling happens
 * here too, so the server only moves 8 kHz PCM.
 */
import { performance } from 'node:perf_hooks';
import { Upsampler8kTo16k } from '../../../media/resample.js';
import { resamplerTo8k } from '../audio.js';
import { loadSherpaAddon, type OnlineRecognizerLike, type OnlineStreamLike } from './addon.js';
import type { SherpaReply, SherpaRequest, SherpaChildData } from './host.js';


/**
 * Zeros after the last audio so the recognizer's look-ahead sees past the last word: sherpa-onnx's own
 * examples pad 0.4-0.66 s (python-api-examples/online-decode-files.py uses 0.66 s).
 */
const TAIL_PADDING_S = 0.66;

function reply(r: SherpaReply): void {
  process.send!(r);
}

function int16ToFloat(pcm: Int16Array): Float32Array {
  const f = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) f[i] = pcm[i] / 32768;
  return f;
}

function floatToInt16(f: Float32Array): Int16Array {
  const out = new Int16Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const v = Math.round(f[i] * 32767);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

interface Utterance {
  stream: OnlineStreamLike;
  up: Upsampler8kTo16k;
  audioMs: number;
  decodeMs: number;
}

function serveRecognizer(recognizer: OnlineRecognizerLike): (m: SherpaRequest) => void {
  const streams = new Map<number, Utterance>();
  let scheduled = false;
  /** Runs every stream that has a full chunk, all calls' streams batched into one native call. */
  const decodeReady = () => {
    scheduled = false;
    for (;;) {
      const ready = [...streams.values()].filter((u) => recognizer.isReady(u.stream));
      if (!ready.length) return;
      const t0 = performance.now();
      if (ready.length === 1) recognizer.decode(ready[0].stream);
      else recognizer.decodeStreams(ready.map((u) => u.stream));
      const ms = (performance.now() - t0) / ready.length;
      for (const u of ready) u.decodeMs += ms;
    }
  };
  return (m) => {
    if (m.op === 'open') {
      streams.set(m.sid, { stream: recognizer.createStream(), up: new Upsampler8kTo16k(), audioMs: 0, decodeMs: 0 });
    } else if (m.op === 'audio') {
      const u = streams.get(m.sid);
      if (!u) return;
      u.stream.acceptWaveform({ samples: int16ToFloat(u.up.process(m.pcm)), sampleRate: 16000 });
      u.audioMs += m.pcm.length / 8;
      // Decoded after the messages already queued are in: one batch for every call that has a chunk.
      if (!scheduled) {
        scheduled = true;
        setImmediate(decodeReady);
      }
    } else if (m.op === 'text') {
      const u = streams.get(m.sid);
      if (!u) return reply({ id: m.id, error: `no utterance ${m.sid} on this recognizer (the process restarted?)` });
      if (m.final) {
        streams.delete(m.sid);
        u.stream.acceptWaveform({ samples: new Float32Array(Math.round(16000 * TAIL_PADDING_S)), sampleRate: 16000 });
        u.stream.inputFinished();
        const t0 = performance.now();
        while (recognizer.isReady(u.stream)) recognizer.decode(u.stream);
        u.decodeMs += performance.now() - t0;
      } else decodeReady();
      reply({ id: m.id, text: recognizer.getResult(u.stream).text.trim(), audioMs: u.audioMs, decodeMs: u.decodeMs });
    } else if (m.op === 'close') streams.delete(m.sid);
  };
}

function start(data: SherpaChildData): (m: SherpaRequest) => void {
  const addon = loadSherpaAddon(data.addon);
  if (data.kind === 'stt') return serveRecognizer(new addon.OnlineRecognizer(data.config));
  const tts = new addon.OfflineTts(data.config);
  return (m) => {
    if (m.op !== 'speak') return;
    try {
      const t0 = performance.now();
      const audio = tts.generate({ text: m.text, sid: data.speaker, speed: data.speed });
      const genMs = performance.now() - t0;
      // A fresh filter per clause: each clause's audio starts and ends in the voice's own silence. 10 ms
      // of zeros after it let out the last samples the filter holds back (its half-length, ~2 ms).
      const padded = new Float32Array(audio.samples.length + Math.ceil(audio.sampleRate / 100));
      padded.set(audio.samples);
      const pcm = resamplerTo8k(audio.sampleRate).process(floatToInt16(padded));
      reply({ id: m.id, pcm, genMs });
    } catch (err) {
      reply({ id: m.id, error: (err as Error).message });
    }
  };
}

let handle: ((m: SherpaRequest) => void) | undefined;
process.on('message', (m: SherpaRequest | { init: SherpaChildData }) => {
  if ('init' in m) {
    try {
      handle = start(m.init);
      process.send!({ ready: true });
    } catch (err) {
      process.send!({ ready: false, error: (err as Error).message }, () => process.exit(1));
    }
    return;
  }
  handle?.(m);
});
// The server going away (its end of the channel closes) ends this process too.
process.on('disconnect', () => process.exit(0));
