import { mulawDecode, mulawEncode } from '../media/mulaw.js';
import { SherpaStreamingStt } from '../voice/cascade/stt/sherpa-streaming.js';
import { PiperTts } from '../voice/cascade/tts/piper-sherpa.js';
import { requireModel } from './catalog.js';

/**
 * `callwright models check` (and scripts/sherpa-check.ts): the in-process STT and TTS with the pulled
 * models (docs/local.md, step 5). Speaks a sentence with the Piper voice, sends it through the telephone
 * path (8 kHz, mu-law both ways), and recognizes it with the streaming Zipformer 20 ms at a time, as a
 * call would; reports what was heard and how long each model took.
 */

export interface ModelCheckOptions {
  dataDir: string;
  sttModel: string;
  ttsVoice: string;
  threads: number;
  sentence?: string;
  print: (line: string) => void;
}

export const DEFAULT_CHECK_SENTENCE = 'Hello, I am calling to book a table for two at seven tonight.';

export async function checkInProcessModels(o: ModelCheckOptions): Promise<{ said: string; heard: string }> {
  // Both missing models are named at once, with the command that fixes each, before anything is loaded.
  const missing: string[] = [];
  for (const name of [o.ttsVoice, o.sttModel]) {
    try {
      requireModel(o.dataDir, name);
    } catch (err) {
      missing.push((err as Error).message);
    }
  }
  if (missing.length) throw new Error(missing.join('; '));

  const sentence = o.sentence ?? DEFAULT_CHECK_SENTENCE;
  const tts = new PiperTts({ dataDir: o.dataDir, voice: o.ttsVoice, numThreads: o.threads });
  const stt = new SherpaStreamingStt({ dataDir: o.dataDir, model: o.sttModel, numThreads: o.threads });
  try {
    let t0 = performance.now();
    await Promise.all([tts.ready(), stt.ready()]);
    o.print(`loaded ${o.ttsVoice} and ${o.sttModel} in ${(performance.now() - t0).toFixed(0)} ms`);

    t0 = performance.now();
    let first = 0;
    const parts: Int16Array[] = [];
    for await (const pcm of tts.synthesize(sentence, new AbortController().signal)) {
      first ||= performance.now() - t0;
      parts.push(pcm);
    }
    const spoken = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) (spoken.set(p, at), (at += p.length));
    const ttsMs = performance.now() - t0;
    const audioS = spoken.length / 8000;
    o.print(`TTS: ${audioS.toFixed(2)} s of 8 kHz audio in ${ttsMs.toFixed(0)} ms (real-time factor ${(ttsMs / 1000 / audioS).toFixed(3)}; first audio after ${first.toFixed(0)} ms)`);

    // The line: mu-law, as the carrier carries it, then 20 ms frames into the recognizer.
    const line = mulawDecode(mulawEncode(spoken));
    const stream = stt.open();
    for (let i = 0; i < line.length; i += 160) stream.push(line.subarray(i, i + 160));
    for (let i = 0; i < 40; i++) stream.push(new Int16Array(160)); // 0.8 s of silence, as the turn ends
    t0 = performance.now();
    const heard = await stream.finish();
    const { audioMs, decodeMs } = stt.totals;
    o.print(`STT: "${heard.text}"`);
    o.print(`STT: ${(decodeMs / (audioMs / 20)).toFixed(2)} ms of model time per 20 ms frame (real-time factor ${(decodeMs / audioMs).toFixed(3)}); the final text ${(performance.now() - t0).toFixed(0)} ms after the end of the audio`);
    o.print(`said:  "${sentence}"`);
    return { said: sentence, heard: heard.text };
  } finally {
    await Promise.all([tts.close(), stt.close()]);
  }
}
