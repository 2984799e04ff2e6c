/**
 * The in-process STT (sherpa-onnx streaming Zipformer) and TTS (Piper through sherpa-onnx) stages: model
 * files and config, the missing-model error, and the glue around the native calls (the worker thread,
 * resampling, previews at a pause, clause ordering, cancellation).
 *
 * NO REAL MODEL RUNS HERE: no model files exist where the tests run and none may be downloaded. The
 * child process loads test/fixtures/sherpa-stand-in.cjs instead of sherpa-onnx-node, a stand-in with the
 * same API that "recognizes" a tone's frequency and "speaks" tones (see its header). One test loads the
 * real addon, with damaged (empty) model files. Real models are
 * checked with `npm run sherpa-check` (docs/cascade.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SherpaStreamingStt, PEEK_TAIL_MS } from '../../src/voice/cascade/stt/sherpa-streaming.js';
import { PiperTts } from '../../src/voice/cascade/tts/piper-sherpa.js';
import { installedModel, piperConfig, recognizerConfig } from '../../src/voice/cascade/sherpa/model-files.js';
import { findModel, INSTALL_MANIFEST, MODEL_CATALOG, modelDir } from '../../src/models/catalog.js';
import { StageError } from '../../src/voice/cascade/stages.js';
import { cosineInt16, toneAt } from '../../src/media/resample-quality.js';
import { mulawDecode } from '../../src/media/mulaw.js';
import { CascadeEngine } from '../../src/voice/cascade/engine.js';
import type { LlmChunk } from '../../src/voice/cascade/stages.js';
import type { EngineEvent } from '../../src/voice/engine.js';

const STAND_IN = fileURLToPath(new URL('../fixtures/sherpa-stand-in.cjs', import.meta.url));
/** A streaming Zipformer and a Piper voice from the catalog (whatever it names them). */
const ZIPFORMER_ENTRY = MODEL_CATALOG.find((m) => m.engine === 'sherpa-onnx-online-transducer')!;
const VOICE_ENTRY = MODEL_CATALOG.find((m) => m.engine === 'sherpa-onnx-vits-piper')!;
const ZIPFORMER = ZIPFORMER_ENTRY.name;
const VOICE = VOICE_ENTRY.name;
const pullHint = (name: string) => `callwright models pull ${name}`;

/**
 * A DATA_DIR with the two models laid out as `callwright models pull` leaves them: the catalog's files
 * (empty: the stand-in only checks they exist) and the install manifest, written last by a pull.
 */
function dataDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'cw-sherpa-'));
  for (const name of [ZIPFORMER, VOICE]) {
    const entry = findModel(name)!;
    const dir = modelDir(root, name);
    for (const [role, rel] of Object.entries(entry.files)) {
      if (role.endsWith('Dir')) mkdirSync(join(dir, rel), { recursive: true });
      else {
        mkdirSync(dirname(join(dir, rel)), { recursive: true });
        writeFileSync(join(dir, rel), '');
      }
    }
    writeFileSync(join(dir, INSTALL_MANIFEST), '{}');
  }
  return root;
}

test('sherpa config: the catalog\'s files, 16 kHz features, no endpointing (the VAD ends turns); a Piper voice with its tokens and espeak-ng data; a model of the wrong kind refused', () => {
  const root = dataDir();
  try {
    const dir = modelDir(root, ZIPFORMER);
    const c = recognizerConfig(installedModel(root, ZIPFORMER, 'stt', 'sherpa-onnx-online-transducer'), { numThreads: 2 });
    assert.deepEqual(c.modelConfig.transducer, { encoder: join(dir, ZIPFORMER_ENTRY.files.encoder), decoder: join(dir, ZIPFORMER_ENTRY.files.decoder), joiner: join(dir, ZIPFORMER_ENTRY.files.joiner) });
    assert.equal(c.modelConfig.tokens, join(dir, 'tokens.txt'));
    assert.deepEqual([c.featConfig.sampleRate, c.modelConfig.numThreads, c.enableEndpoint], [16000, 2, 0]);
    const vdir = modelDir(root, VOICE);
    const v = piperConfig(installedModel(root, VOICE, 'tts', 'sherpa-onnx-vits-piper'), { numThreads: 1 });
    assert.deepEqual(v.model.vits, { model: join(vdir, VOICE_ENTRY.files.model), tokens: join(vdir, 'tokens.txt'), dataDir: join(vdir, 'espeak-ng-data') });
    assert.throws(() => installedModel(root, VOICE, 'stt', 'sherpa-onnx-online-transducer'), (e: Error) => e.message.startsWith(`stt: model ${VOICE} is a tts model`));
    rmSync(join(dir, 'tokens.txt'));
    assert.throws(() => installedModel(root, ZIPFORMER, 'stt', 'sherpa-onnx-online-transducer'), (e: StageError) => e.unreachable && e.message.includes('tokens.txt is missing') && e.message.includes(pullHint(ZIPFORMER)));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('sherpa STT: a model not downloaded fails ready() as unreachable, naming the model and the pull command', async () => {
  const root = mkdtempSync(join(tmpdir(), 'cw-sherpa-'));
  try {
    const stt = new SherpaStreamingStt({ dataDir: root, model: ZIPFORMER, numThreads: 1, addon: STAND_IN });
    await assert.rejects(stt.ready(), (e: StageError) => e instanceof StageError && e.unreachable && e.stage === 'stt' && e.message.includes(`model ${ZIPFORMER} is not downloaded`) && e.message.includes(pullHint(ZIPFORMER)));
    const tts = new PiperTts({ dataDir: root, voice: VOICE, numThreads: 1, addon: STAND_IN });
    await assert.rejects(tts.ready(), (e: StageError) => e.unreachable && e.message.startsWith(`tts: model ${VOICE} is not downloaded`) && e.message.includes(pullHint(VOICE)));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('sherpa STT: when the child cannot load the model (here: no addon for this platform) ready() fails with the reason, as unreachable', async () => {
  const root = dataDir();
  try {
    const stt = new SherpaStreamingStt({ dataDir: root, model: ZIPFORMER, numThreads: 1, addon: join(root, 'no-such-addon.cjs') });
    await assert.rejects(stt.ready(), (e: StageError) => e.unreachable && e.message.startsWith(`stt: could not load model ${ZIPFORMER}: `) && e.message.includes('no-such-addon'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('sherpa STT with the REAL sherpa-onnx-node: a damaged model aborts its own process only; ready() fails with sherpa\'s reason and this process goes on', async () => {
  // The catalog's files exist but are empty: sherpa-onnx 1.13.8 aborts (an uncaught Ort::Exception),
  // which in a worker thread would take the whole server down with every live call.
  const root = dataDir();
  const stt = new SherpaStreamingStt({ dataDir: root, model: ZIPFORMER, numThreads: 1 });
  try {
    await assert.rejects(stt.ready(), (e: StageError) => e.unreachable && e.message.startsWith(`stt: could not load model ${ZIPFORMER}: `) && /Load model from .* failed|exited on SIGABRT/.test(e.message));
    // The next call tries again (a fresh process), and fails the same way rather than hanging.
    await assert.rejects(stt.ready(), /could not load model/);
  } finally {
    await stt.close();
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

test('Piper TTS in the engine: the first clause is heard while the LLM is still writing, clauses play in order as 8 kHz mu-law, and an interrupted reply stops', async () => {
  const root = dataDir();
  const tts = new PiperTts({ dataDir: root, voice: VOICE, numThreads: 1, addon: STAND_IN });
  let firstAudio!: () => void;
  const heard = new Promise<void>((r) => (firstAudio = r));
  const replies: Array<(signal: AbortSignal) => AsyncIterable<LlmChunk>> = [
    async function* () {
      yield { type: 'text', text: 'say 500, this is the first clause. ' };
      await heard; // the LLM writes on only once the callee hears the first clause
      yield { type: 'text', text: 'And say 700 the second.' };
    },
    async function* (signal) {
      yield { type: 'text', text: 'say 900, a long answer begins. say 300 and goes on. say 600 and on. ' };
      await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
    },
  ];
  const events: EngineEvent[] = [];
  const clauses: Array<{ text: string; pieces: number; ended: Promise<void> }> = [];
  let wake: (() => void) | undefined;
  const engine = new CascadeEngine({
    stages: {
      turns: () => ({ hear: (_pcm, heard) => heard(undefined), close: () => undefined }),
      stt: { model: 'stt-x', open: () => ({ push: () => undefined, finish: async () => ({ text: '' }), abort: () => undefined }) },
      llm: { model: 'llm-x', stream: (_req, signal) => replies.shift()!(signal) },
      // The voice, watched: each clause's synthesis, when it has ended and how much audio it gave.
      tts: {
        model: tts.model,
        ready: () => tts.ready(),
        synthesize: (text, signal) => {
          const clause = { text, pieces: 0, ended: undefined as unknown as Promise<void> };
          let end!: () => void;
          clause.ended = new Promise<void>((r) => (end = r));
          clauses.push(clause);
          return (async function* () {
            try {
              for await (const p of tts.synthesize(text, signal)) (clause.pieces++, yield p);
            } finally {
              end();
            }
          })();
        },
      },
    },
    noThink: true,
    onEvent: (e) => {
      events.push(e);
      if (e.type === 'agent.audio') firstAudio();
      wake?.();
    },
  });
  const until = async (p: () => boolean) => {
    while (!p()) await new Promise<void>((r) => (wake = r));
  };
  try {
    await engine.start({ instructions: 'Book a table.', tools: [], autoRespond: false });
    engine.generateReply();
    await until(() => events.some((e) => e.type === 'agent.responseDone'));
    const audio = (from: number, to = events.length) => {
      const bytes = events.slice(from, to).flatMap((e) => (e.type === 'agent.audio' ? [...e.audio.bytes] : []));
      return mulawDecode(Uint8Array.from(bytes));
    };
    const pcm = audio(0);
    const first = 0.04 * 'say 500, this is the first clause.'.length * 8000;
    assert.ok(toneAt(pcm, 800, 1600, 500, 8000).amplitude > 0.3 * 32767, 'the first clause first');
    assert.ok(toneAt(pcm, first + 800, 1600, 700, 8000).amplitude > 0.3 * 32767, 'then the second');
    const said = events.find((e) => e.type === 'agent.transcript');
    assert.equal(said?.type === 'agent.transcript' && said.text, 'say 500, this is the first clause. And say 700 the second.');

    // A barge-in: the reply is cancelled after its first audio, and nothing more is spoken.
    const mark = events.length;
    engine.generateReply();
    await until(() => events.slice(mark).some((e) => e.type === 'agent.audio'));
    engine.interrupt();
    await until(() => events.slice(mark).some((e) => e.type === 'agent.responseDone'));
    const stopped = events.length;
    await Promise.all(clauses.map((c) => c.ended));
    assert.deepEqual(
      clauses.slice(2).map((c) => [c.text, c.pieces > 0]),
      [
        ['say 900, a long answer begins.', true],
        ['say 300 and goes on.', false],
        ['say 600 and on.', false],
      ],
      'the clauses queued behind the one playing were dropped',
    );
    assert.equal(events.slice(stopped).filter((e) => e.type === 'agent.audio').length, 0);
    const done = events.slice(mark).find((e) => e.type === 'agent.responseDone');
    assert.equal(done?.type === 'agent.responseDone' && done.status, 'cancelled');
  } finally {
    await engine.close();
    await tts.close();
    rmSync(root, { recursive: true, force: true });
  }
});
