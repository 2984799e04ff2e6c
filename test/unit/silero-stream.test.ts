/**
 * The batched Silero the VAD worker runs (src/media/silero-stream.ts on one ONNX Runtime session,
 * src/media/vad-worker/silero-session.ts) against sherpa-onnx's detector run in this thread: the same
 * verdict after every frame, through long unbroken speech (where sherpa turns stricter after 20 s),
 * restarts, and any batch size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SileroVad, sileroStreamOptions, type SileroVadOptions } from '../../src/media/silero-vad.js';
import { SileroStream } from '../../src/media/silero-stream.js';
import { SileroSession } from '../../src/media/vad-worker/silero-session.js';
import { mulawDecode } from '../../src/media/mulaw.js';
import { SPEECH_CLIPS, clip } from '../sim/twilio/clips.js';
import { concatPcm as concat } from '../sim/pcm.js';

const FRAME = 160;
const session = SileroSession.open();

/** Verdicts after each frame, sherpa in this thread; a restart before the frames listed. */
function sherpaVerdicts(pcm: Int16Array, restarts = new Set<number>(), o: SileroVadOptions = {}): boolean[] {
  const vad = new SileroVad(o);
  const out: boolean[] = [];
  for (let f = 0; (f + 1) * FRAME <= pcm.length; f++) {
    if (restarts.has(f)) vad.restart();
    vad.feed(pcm.subarray(f * FRAME, (f + 1) * FRAME));
    out.push(vad.speaking);
  }
  vad.close();
  return out;
}

/** The same through the port, several streams run as rows of one batch. */
async function portVerdicts(pcms: Int16Array[], restarts = new Set<number>(), o: SileroVadOptions = {}): Promise<boolean[][]> {
  const model = await session;
  const streams = pcms.map(() => new SileroStream(sileroStreamOptions(o)));
  const out: boolean[][] = pcms.map(() => []);
  const frames = Math.min(...pcms.map((p) => Math.floor(p.length / FRAME)));
  for (let f = 0; f < frames; f++) {
    const rows: number[] = [];
    const windows: Float32Array[] = [];
    pcms.forEach((pcm, i) => {
      if (restarts.has(f)) streams[i]!.restart();
      const w = streams[i]!.push(pcm.subarray(f * FRAME, (f + 1) * FRAME));
      if (w) (rows.push(i), windows.push(w));
    });
    if (rows.length) {
      const p = await model.run(rows.map((i) => streams[i]!), windows);
      rows.forEach((i, b) => streams[i]!.heard(p[b]!));
    }
    streams.forEach((s, i) => out[i]!.push(s.speaking));
  }
  return out;
}

test('silero stream: the same verdict as sherpa-onnx after every frame, through 30 s of unbroken speech', async () => {
  const speech = mulawDecode(readFileSync(new URL('../fixtures/audio/speech-bed.ulaw', import.meta.url)));
  const long = concat(speech, speech, speech, new Int16Array(8000));
  assert.ok(long.length / 8000 > 25, 'longer than the 20 s after which the detector turns stricter');
  // With the default 32 ms of silence ending speech, and with 600 ms, under which the pauses between words
  // do not: the speech then runs past 20 s unbroken, and both turn stricter (threshold 0.9, 100 ms).
  for (const o of [{}, { minSilenceMs: 600 }]) {
    const [port] = await portVerdicts([long], undefined, o);
    const ref = sherpaVerdicts(long, undefined, o);
    assert.deepEqual(port, ref.slice(0, port!.length), JSON.stringify(o));
    assert.ok(ref.includes(true) && ref.at(-1) === false);
  }
});

test('silero stream: restarts and a batch of streams at different points of their audio', async () => {
  const words = concat(...SPEECH_CLIPS.map((c) => mulawDecode(clip(`speech-${c}`))));
  const restarts = new Set([37, 150, 151, 400]);
  const offsets = [0, 1_000, 2_560, 7_777];
  const pcms = offsets.map((o) => concat(words.subarray(o), words.subarray(0, o)));
  const port = await portVerdicts(pcms, restarts);
  pcms.forEach((pcm, i) => assert.deepEqual(port[i], sherpaVerdicts(pcm, restarts).slice(0, port[i]!.length), `stream ${i}`));
  assert.ok(port.every((v) => v.filter((x, k) => x && !v[k - 1]).length >= 3), 'each stream heard several onsets');
});
