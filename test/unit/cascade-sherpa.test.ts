/**
 * The in-process STT (sherpa-onnx streaming Zipformer) and TTS (Piper through sherpa-onnx) stages: model
 * files and config, the missing-model error, and the glue around the native calls (the worker thread,
 * resampling, previews at a pause, clause ordering, cancellation).
 *
 * NO REAL MODEL RUNS HERE: no model files exist where the tests run and none may be downloaded. The
 * worker thread loads test/fixtures/sherpa-stand-in.cjs instead of sherpa-onnx-node, a stand-in with the
 * same API that "recognizes" a tone's frequency and "speaks" tones (see its header). Real models are
 * checked with `npm run sherpa-check` (docs/cascade.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SherpaStreamingStt, PEEK_TAIL_MS } from '../../src/voice/cascade/stt/sherpa-streaming.js';
import { PiperTts } from '../../src/voice/cascade/tts/piper-sherpa.js';
import { piperConfig, recognizerConfig } from '../../src/voice/cascade/sherpa/model-files.js';
import { StageError } from '../../src/voice/cascade/stages.js';
import { cosineInt16, toneAt } from '../../src/media/resample-quality.js';

const STAND_IN = fileURLToPath(new URL('../fixtures/sherpa-stand-in.cjs', import.meta.url));
const ZIPFORMER = 'sherpa-onnx-streaming-zipformer-en-2023-06-26';
const VOICE = 'vits-piper-en_US-lessac-medium';

/** A DATA_DIR with the models' files laid out as sherpa-onnx's releases ship them (empty files). */
function dataDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'cw-sherpa-'));
  const stt = join(root, 'models', ZIPFORMER);
  mkdirSync(stt, { recursive: true });
  for (const part of ['encoder', 'decoder', 'joiner']) {
    writeFileSync(join(stt, `${part}-epoch-99-avg-1-chunk-16-left-128.onnx`), '');
    writeFileSync(join(stt, `${part}-epoch-99-avg-1-chunk-16-left-128.int8.onnx`), '');
  }
  writeFileSync(join(stt, 'tokens.txt'), '');
  const tts = join(root, 'models', VOICE);
  mkdirSync(join(tts, 'espeak-ng-data'), { recursive: true });
  writeFileSync(join(tts, 'en_US-lessac-medium.onnx'), '');
  writeFileSync(join(tts, 'en_US-lessac-medium.onnx.json'), '{}');
  writeFileSync(join(tts, 'tokens.txt'), '');
  return root;
}

test('sherpa config: the int8 encoder and joiner, 16 kHz features, no endpointing (the VAD ends turns); a Piper voice with its tokens and espeak-ng data', () => {
  const root = dataDir();
  try {
    const dir = join(root, 'models', ZIPFORMER);
    const c = recognizerConfig(dir, ZIPFORMER, { numThreads: 2 });
    assert.equal(c.modelConfig.transducer.encoder, join(dir, 'encoder-epoch-99-avg-1-chunk-16-left-128.int8.onnx'));
    assert.equal(c.modelConfig.transducer.joiner, join(dir, 'joiner-epoch-99-avg-1-chunk-16-left-128.int8.onnx'));
    assert.equal(c.modelConfig.tokens, join(dir, 'tokens.txt'));
    assert.deepEqual([c.featConfig.sampleRate, c.modelConfig.numThreads, c.enableEndpoint], [16000, 2, 0]);
    const vdir = join(root, 'models', VOICE);
    const v = piperConfig(vdir, VOICE, { numThreads: 1 });
    assert.deepEqual(v.model.vits, { model: join(vdir, 'en_US-lessac-medium.onnx'), tokens: join(vdir, 'tokens.txt'), dataDir: join(vdir, 'espeak-ng-data') });
    rmSync(join(dir, 'tokens.txt'));
    assert.throws(() => recognizerConfig(dir, ZIPFORMER, { numThreads: 2 }), /has no tokens\.txt .*callwright models pull sherpa-onnx-streaming-zipformer-en-2023-06-26/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('sherpa STT: a model not downloaded fails ready() as unreachable, naming the model and the pull command', async () => {
  const root = mkdtempSync(join(tmpdir(), 'cw-sherpa-'));
  try {
    const stt = new SherpaStreamingStt({ dataDir: root, model: ZIPFORMER, numThreads: 1, addon: STAND_IN });
    await assert.rejects(stt.ready(), (e: StageError) => e instanceof StageError && e.unreachable && e.stage === 'stt' && e.message.includes(`model ${ZIPFORMER} is not downloaded`) && e.message.includes(`callwright models pull ${ZIPFORMER}`));
    const tts = new PiperTts({ dataDir: root, voice: VOICE, numThreads: 1, addon: STAND_IN });
    await assert.rejects(tts.ready(), /tts: model vits-piper-en_US-lessac-medium is not downloaded .*callwright models pull vits-piper-en_US-lessac-medium/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('sherpa STT: a model whose files the addon cannot load fails ready() with the addon\'s reason', async () => {
  const root = dataDir();
  try {
    rmSync(join(root, 'models', ZIPFORMER, 'decoder-epoch-99-avg-1-chunk-16-left-128.int8.onnx'));
    // The config picks the float decoder that is left; the stand-in then fails on... nothing: make the
    // tokens file vanish after the config is built instead, so the thread's load is what fails.
    const stt = new SherpaStreamingStt({ dataDir: root, model: ZIPFORMER, numThreads: 1, addon: join(root, 'missing-addon.cjs') });
    await assert.rejects(stt.ready(), (e: StageError) => e.unreachable && /could not load model sherpa-onnx-streaming-zipformer-en-2023-06-26: .*missing-addon/.test(e.message));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

/** 8 kHz frames of 20 ms, as the engine pushes them. */
function frames(pcm: Int16Array): Int16Array[] {
  const out: Int16Array[] = [];
  for (let i = 0; i < pcm.length; i += 160) out.push(pcm.subarray(i, i + 160));
  return out;
}

test('sherpa STT: the 8 kHz line reaches the recognizer at 16 kHz (a 440 Hz tone reads as 440 Hz), and the final text and audio seconds come at the end', async () => {
  const root = dataDir();
  const stt = new SherpaStreamingStt({ dataDir: root, model: ZIPFORMER, numThreads: 1, addon: STAND_IN });
  try {
    await stt.ready();
    const s = stt.open();
    for (const f of frames(cosineInt16(440, 8000, 8000, 8000))) s.push(f);
    for (const f of frames(cosineInt16(1200, 8000, 4000, 8000))) s.push(f);
    const t = await s.finish();
    assert.equal(t.text, '440hz 1200hz');
    assert.deepEqual(t.usage, { provider: 'stt', model: ZIPFORMER, meters: { audio_seconds: 1.5 } });
    // Streams are independent: a second utterance starts clean.
    const s2 = stt.open();
    for (const f of frames(cosineInt16(700, 8000, 4000, 8000))) s2.push(f);
    assert.equal((await s2.finish()).text, '700hz');
  } finally {
    await stt.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('sherpa STT: a preview at the pause waits for the look-ahead tail of silence, then holds the last words; the stream stays open', async () => {
  const root = dataDir();
  const stt = new SherpaStreamingStt({ dataDir: root, model: ZIPFORMER, numThreads: 1, addon: STAND_IN });
  try {
    await stt.ready();
    const s = stt.open();
    for (const f of frames(cosineInt16(440, 8000, 2400, 8000))) s.push(f);
    let peeked: string | undefined;
    const peek = s.peek!().then((t) => (peeked = t.text));
    const silence = frames(new Int16Array((PEEK_TAIL_MS * 8) / 2));
    for (const f of silence) s.push(f);
    await new Promise((r) => setImmediate(r));
    assert.equal(peeked, undefined, 'no preview before the tail is in');
    for (const f of silence) s.push(f);
    await peek;
    assert.equal(peeked, '440hz');
    for (const f of frames(cosineInt16(900, 8000, 4000, 8000))) s.push(f);
    assert.equal((await s.finish()).text, '440hz 900hz');
  } finally {
    await stt.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('sherpa STT: a turn that ends before the preview\'s tail (the engine aborts the stream to use the preview) answers the preview with the whole utterance', async () => {
  const root = dataDir();
  const stt = new SherpaStreamingStt({ dataDir: root, model: ZIPFORMER, numThreads: 1, addon: STAND_IN });
  try {
    await stt.ready();
    const s = stt.open();
    for (const f of frames(cosineInt16(440, 8000, 1600, 8000))) s.push(f);
    const peek = s.peek!();
    for (const f of frames(new Int16Array(800))) s.push(f);
    s.abort();
    assert.equal((await peek).text, '440hz');
  } finally {
    await stt.close();
    rmSync(root, { recursive: true, force: true });
  }
});

async function collect(it: AsyncIterable<Int16Array>): Promise<Int16Array> {
  const parts: Int16Array[] = [];
  for await (const p of it) parts.push(p);
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

test('Piper TTS: 22.05 kHz speech comes out at 8 kHz, the right length, the voice band kept and what lies above 4 kHz filtered out', async () => {
  const root = dataDir();
  const tts = new PiperTts({ dataDir: root, voice: VOICE, numThreads: 1, addon: STAND_IN });
  try {
    await tts.ready();
    const text = 'say 500 to the caller';
    const pcm = await collect(tts.synthesize(text, new AbortController().signal));
    const seconds = 0.04 * text.length;
    // Plus 10 ms of silence that lets out the filter's tail (less the ~14 samples it still holds back).
    assert.ok(Math.abs(pcm.length - (seconds * 8000 + 80)) <= 16, `${pcm.length} samples for ${seconds} s`);
    const mid = Math.floor(pcm.length / 4);
    const len = 4000;
    const voice = toneAt(pcm, mid, len, 500, 8000).amplitude;
    // The stand-in's 5 kHz component would fold onto 3 kHz at 8 kHz without the anti-alias filter.
    const alias = toneAt(pcm, mid, len, 3000, 8000).amplitude;
    assert.ok(Math.abs(voice - 0.4 * 32767) < 0.05 * 0.4 * 32767, `500 Hz amplitude ${voice}`);
    assert.ok(20 * Math.log10(alias / voice) < -50, `alias at ${(20 * Math.log10(alias / voice)).toFixed(1)} dB`);
    assert.deepEqual(tts.usageFor(text), { provider: 'tts', model: VOICE, meters: { characters: text.length } });
  } finally {
    await tts.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('Piper TTS: clauses are synthesized in order within a reply, each reply\'s first clause before another\'s later ones, a cancelled reply\'s clauses dropped, and the event loop never blocked', async () => {
  const root = dataDir();
  const tts = new PiperTts({ dataDir: root, voice: VOICE, numThreads: 1, addon: STAND_IN });
  try {
    await tts.ready();
    const done: string[] = [];
    const speak = (text: string, signal: AbortSignal) => collect(tts.synthesize(text, signal)).then((pcm) => (pcm.length && done.push(text), pcm));
    // The stand-in blocks its thread 10 ms per character (~300 ms a clause here), as a real voice would:
    // on the event loop each clause would stall it that long.
    let worstGapMs = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      worstGapMs = Math.max(worstGapMs, now - last);
      last = now;
    }, 5);
    const a = new AbortController();
    const b = new AbortController();
    const c = new AbortController();
    const all = [
      speak('say 300, the first clause of A', a.signal),
      speak('say 400, the second clause of A', a.signal),
      speak('say 500, the third clause of A.', a.signal),
      speak('say 600, the first clause of B', b.signal),
      speak('say 700, the first clause of C', c.signal),
      speak('say 800, the second clause of C', c.signal),
    ];
    c.abort();
    const pcms = await Promise.all(all);
    clearInterval(timer);
    assert.deepEqual(done, ['say 300, the first clause of A', 'say 600, the first clause of B', 'say 400, the second clause of A', 'say 500, the third clause of A.']);
    assert.equal(pcms[4].length + pcms[5].length, 0, 'the cancelled reply made no audio');
    assert.ok(toneAt(pcms[1], 400, 2000, 400, 8000).amplitude > 0.3 * 32767, 'each clause got its own audio');
    assert.ok(worstGapMs < 150, `event loop stalled ${worstGapMs.toFixed(0)} ms while ~1.2 s of synthesis ran`);
  } finally {
    await tts.close();
    rmSync(root, { recursive: true, force: true });
  }
});
