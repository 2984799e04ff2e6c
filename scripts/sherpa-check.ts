/**
 * Checks the in-process STT and TTS with the real models (docs/cascade.md, "In-process stages"): speaks a
 * sentence with the Piper voice, sends it through the telephone path (8 kHz, mu-law both ways), and
 * recognizes it with the streaming Zipformer, 20 ms at a time as a call would. Prints what was heard and
 * how long each model took. Needs the models pulled first (`callwright models pull <name>`).
 *
 *   node --import tsx scripts/sherpa-check.ts ["a sentence to say"]
 *
 * Uses DATA_DIR, STT_SHERPA_MODEL, TTS_PIPER_VOICE and SHERPA_THREADS from the environment / .env.
 */
import 'dotenv/config';
import { parseSettings } from '../src/config/settings.js';
import { mulawDecode, mulawEncode } from '../src/media/mulaw.js';
import { SherpaStreamingStt } from '../src/voice/cascade/stt/sherpa-streaming.js';
import { PiperTts } from '../src/voice/cascade/tts/piper-sherpa.js';

const s = parseSettings(process.env);
const sentence = process.argv[2] ?? 'Hello, I am calling to book a table for two at seven tonight.';
const tts = new PiperTts({ dataDir: s.DATA_DIR, voice: s.TTS_PIPER_VOICE, numThreads: s.SHERPA_THREADS });
const stt = new SherpaStreamingStt({ dataDir: s.DATA_DIR, model: s.STT_SHERPA_MODEL, numThreads: s.SHERPA_THREADS });
try {
  let t0 = performance.now();
  await Promise.all([tts.ready(), stt.ready()]);
  console.log(`loaded ${s.TTS_PIPER_VOICE} and ${s.STT_SHERPA_MODEL} in ${(performance.now() - t0).toFixed(0)} ms`);

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
  console.log(`TTS: ${audioS.toFixed(2)} s of 8 kHz audio in ${ttsMs.toFixed(0)} ms (real-time factor ${(ttsMs / 1000 / audioS).toFixed(3)}; first audio after ${first.toFixed(0)} ms)`);

  // The line: mu-law, as the carrier carries it, then 20 ms frames into the recognizer.
  const line = mulawDecode(mulawEncode(spoken));
  const stream = stt.open();
  for (let i = 0; i < line.length; i += 160) stream.push(line.subarray(i, i + 160));
  for (let i = 0; i < 40; i++) stream.push(new Int16Array(160)); // 0.8 s of silence, as the turn ends
  t0 = performance.now();
  const heard = await stream.finish();
  const { audioMs, decodeMs } = stt.totals;
  console.log(`STT: "${heard.text}"`);
  console.log(`STT: ${(decodeMs / (audioMs / 20)).toFixed(2)} ms of model time per 20 ms frame (real-time factor ${(decodeMs / audioMs).toFixed(3)}); the final text ${(performance.now() - t0).toFixed(0)} ms after the end of the audio`);
  console.log(`said:  "${sentence}"`);
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
} finally {
  await Promise.all([tts.close(), stt.close()]);
}
