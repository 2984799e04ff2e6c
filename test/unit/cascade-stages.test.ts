/**
 * The cascade engine's stages against the simulator of their wire protocols (test/sim/cascade): the LLM in
 * each shape servers send (tool calls whole or in fragments, thinking inline or in a field, tool_choice
 * refused), the transcription upload, the speech download in pcm and wav; plus the text and audio helpers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCascadeSim, type CascadeSimOptions } from '../sim/cascade/index.js';
import { OpenAIChatLlm } from '../../src/voice/cascade/llm/openai-chat.js';
import { OpenAITranscriptionStt } from '../../src/voice/cascade/stt/openai-transcriptions.js';
import { OpenAISpeechTts, PcmDecoder } from '../../src/voice/cascade/tts/openai-speech.js';
import { ThinkFilter } from '../../src/voice/cascade/llm/think-filter.js';
import { ClauseSplitter } from '../../src/voice/cascade/clauses.js';
import { SincResampler, resamplerTo8k } from '../../src/voice/cascade/audio.js';
import { toneAt } from '../../src/media/resample-quality.js';
import type { LlmChunk } from '../../src/voice/cascade/stages.js';
import { StageError } from '../../src/voice/cascade/stages.js';

const TOOLS = [
  { name: 'lookup_context', description: 'Look up', parameters: { type: 'object', properties: { query: { type: 'string' } } } },
  { name: 'end_call', description: 'Hang up', parameters: { type: 'object', properties: { reason: { type: 'string' } } } },
];

async function run(o: CascadeSimOptions): Promise<{ chunks: LlmChunk[]; sim: Awaited<ReturnType<typeof startCascadeSim>> }> {
  const sim = await startCascadeSim(o);
  try {
    const llm = new OpenAIChatLlm({ baseUrl: sim.baseUrl, model: 'm' });
    const chunks: LlmChunk[] = [];
    for await (const c of llm.stream({ messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }], tools: TOOLS }, new AbortController().signal)) chunks.push(c);
    return { chunks, sim };
  } finally {
    await sim.close();
  }
}

const text = (chunks: LlmChunk[]) => chunks.flatMap((c) => (c.type === 'text' ? [c.text] : [])).join('');
const calls = (chunks: LlmChunk[]) => chunks.flatMap((c) => (c.type === 'toolCall' ? [[c.call.name, JSON.parse(c.call.arguments)]] : []));

for (const shape of ['fragments', 'whole', 'whole-index0'] as const) {
  test(`LLM: tool calls streamed ${shape} come out whole, two in one reply kept apart; no tool_choice is sent`, async () => {
    const { chunks, sim } = await run({
      shape,
      rejectToolChoice: true,
      reply: () => ({ say: 'Let me check that for you.', call: { name: 'lookup_context', args: { query: 'pickup time, "seven"' } }, call2: { name: 'end_call', args: { reason: 'done' } } }),
    });
    assert.equal(text(chunks), 'Let me check that for you.');
    assert.deepEqual(calls(chunks), [
      ['lookup_context', { query: 'pickup time, "seven"' }],
      ['end_call', { reason: 'done' }],
    ]);
    const ids = chunks.flatMap((c) => (c.type === 'toolCall' ? [c.call.id] : []));
    assert.equal(new Set(ids).size, 2);
    const body = sim.llm[0].body;
    assert.equal(body.tool_choice, undefined);
    assert.deepEqual(body.tools?.map((t) => t.function.name), ['lookup_context', 'end_call']);
    assert.equal(body.stream, true);
    const usage = chunks.find((c) => c.type === 'usage');
    assert.ok(usage && usage.type === 'usage' && usage.usage.meters.text_input > 0 && usage.usage.provider === 'llm');
  });
}

for (const reasoning of ['think-tags', 'reasoning-field'] as const) {
  test(`LLM: reasoning sent as ${reasoning} is never part of the words to speak`, async () => {
    const { chunks } = await run({ reasoning, reply: () => ({ say: 'Seven works.' }) });
    assert.equal(text(chunks).trim(), 'Seven works.');
    assert.doesNotMatch(text(chunks), /think|callee asked/);
  });
}

test('LLM: an HTTP error and an unreachable server are stage errors, the latter marked unreachable', async () => {
  const sim = await startCascadeSim({});
  sim.server.llmFailure = { status: 500, message: 'model crashed' };
  const llm = new OpenAIChatLlm({ baseUrl: sim.baseUrl, model: 'm' });
  const drain = async (l: OpenAIChatLlm) => {
    for await (const _ of l.stream({ messages: [{ role: 'user', content: 'x' }], tools: [] }, new AbortController().signal)) void _;
  };
  await assert.rejects(drain(llm), (e: unknown) => e instanceof StageError && !e.unreachable && /500/.test(e.message));
  await sim.close();
  await assert.rejects(drain(llm), (e: unknown) => e instanceof StageError && e.unreachable);
});

test('STT: the utterance goes up as a 16 kHz mono WAV (the 8 kHz line doubled), the text comes back with its seconds', async () => {
  const sim = await startCascadeSim({ transcripts: ['Sure, what would you like?'] });
  try {
    const stt = new OpenAITranscriptionStt({ baseUrl: sim.baseUrl, model: 'whisper-x', language: 'en' });
    const s = stt.open();
    for (let i = 0; i < 50; i++) s.push(new Int16Array(160).fill(i % 2 ? 1000 : -1000));
    const t = await s.finish();
    assert.equal(t.text, 'Sure, what would you like?');
    assert.deepEqual(t.usage, { provider: 'stt', model: 'whisper-x', meters: { audio_seconds: 1 } });
    assert.equal(sim.stt.length, 1);
    assert.deepEqual(sim.stt[0].wav, { sampleRate: 16000, channels: 1, bitsPerSample: 16, samples: 16000 });
    assert.equal(sim.stt[0].model, 'whisper-x');
    assert.equal(sim.stt[0].language, 'en');
  } finally {
    await sim.close();
  }
});

for (const format of ['pcm', 'wav'] as const) {
  test(`TTS: ${format} audio streams back in pieces, resampled to 8 kHz at the right length`, async () => {
    const sim = await startCascadeSim({ msPerChar: 20, wavRate: 22050, ttsChunkDelayMs: 2 });
    try {
      const tts = new OpenAISpeechTts({ baseUrl: sim.baseUrl, model: 'kokoro', voice: 'af', format, sampleRate: 24000 });
      const input = 'Hello there, this is a test.';
      let samples = 0;
      let pieces = 0;
      for await (const pcm of tts.synthesize(input, new AbortController().signal)) {
        samples += pcm.length;
        pieces++;
      }
      const expected = input.length * 20 * 8;
      assert.ok(Math.abs(samples - expected) <= 40, `${samples} samples at 8 kHz, expected about ${expected}`);
      assert.ok(pieces > 3, 'streamed, not in one piece');
      assert.deepEqual(sim.tts.map((r) => [r.input, r.voice, r.format]), [[input, 'af', format]]);
    } finally {
      await sim.close();
    }
  });
}

test('TTS: a WAV header split across chunks and odd byte boundaries decode the same as one piece', () => {
  const pcm = new Int16Array(2205).map((_, i) => Math.round(8000 * Math.sin(i / 5)));
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(22050, 24);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(0xffffffff, 40);
  const all = Buffer.concat([header, Buffer.from(pcm.buffer)]);
  const whole = new PcmDecoder('wav', 0).push(all);
  const d = new PcmDecoder('wav', 0);
  const parts: number[] = [];
  for (let i = 0; i < all.length; i += 13) parts.push(...d.push(all.subarray(i, i + 13)));
  assert.deepEqual(parts, [...whole]);
  // The resampler holds back its filter's half-length (about 14 samples at 8 kHz) until more audio comes.
  assert.ok(Math.abs(whole.length - 800) <= 16);
});

function rms(x: Int16Array, from = 0): number {
  let s = 0;
  for (let i = from; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s / Math.max(1, x.length - from));
}
function tone(hz: number, rate: number, n: number): Int16Array {
  return new Int16Array(n).map((_, i) => Math.round(10000 * Math.sin((2 * Math.PI * hz * i) / rate)));
}

test('resampling to 8 kHz keeps the voice band and removes what would alias (22.05 and 16 kHz, and the 24 kHz filter)', () => {
  for (const rate of [22050, 16000, 24000]) {
    const pass = resamplerTo8k(rate).process(tone(1000, rate, rate));
    assert.ok(Math.abs(rms(pass, 100) / (10000 / Math.SQRT2) - 1) < 0.05, `${rate}: 1 kHz kept (${rms(pass, 100)})`);
    const stop = resamplerTo8k(rate).process(tone(6000, rate, rate));
    assert.ok(rms(stop, 100) < 10000 / Math.SQRT2 / 100, `${rate}: 6 kHz at least 40 dB down (${rms(stop, 100)})`);
  }
  // Streaming in odd pieces gives the same samples as one call.
  const x = tone(700, 22050, 4000);
  const one = new SincResampler(22050, 8000).process(x);
  const r = new SincResampler(22050, 8000);
  const pieces: number[] = [];
  for (let i = 0; i < x.length; i += 333) pieces.push(...r.process(x.subarray(i, i + 333)));
  assert.deepEqual(pieces, [...one]);
});

test('resampling 22.05 and 16 kHz to 8 kHz: the telephone band within 0.5 dB up to 3.4 kHz, every tone from 4.6 kHz that would fold onto it 60 dB down', () => {
  for (const rate of [22050, 16000]) {
    for (const hz of [300, 1000, 2000, 3000, 3400]) {
      const out = resamplerTo8k(rate).process(tone(hz, rate, rate));
      const db = 20 * Math.log10(toneAt(out, 1000, 4000, hz, 8000).amplitude / 10000);
      assert.ok(Math.abs(db) < 0.5, `${rate}: ${hz} Hz at ${db.toFixed(2)} dB`);
    }
    for (let hz = 4600; hz < rate / 2; hz += 250) {
      const out = resamplerTo8k(rate).process(tone(hz, rate, rate));
      const folded = Math.abs(((hz + 4000) % 8000) - 4000);
      const db = 20 * Math.log10(Math.max(1e-9, toneAt(out, 1000, 4000, folded, 8000).amplitude) / 10000);
      assert.ok(db < -60, `${rate}: ${hz} Hz folds onto ${folded} Hz at ${db.toFixed(1)} dB`);
    }
  }
});

test('ThinkFilter: thinking is dropped however the tags are split; text around it is kept', () => {
  const input = 'Ok<th|ink>hmm, let me think</thi|nk> Seven works. <think>more</think>Bye.';
  for (const cut of [1, 2, 3, 5, 100]) {
    const f = new ThinkFilter();
    let out = '';
    const s = input.replace(/\|/g, '');
    for (let i = 0; i < s.length; i += cut) out += f.push(s.slice(i, i + cut));
    out += f.flush();
    assert.equal(out, 'Ok Seven works. Bye.', `chunks of ${cut}`);
  }
  const unclosed = new ThinkFilter();
  assert.equal(unclosed.push('<think>never closed') + unclosed.flush(), '');
  const lt = new ThinkFilter();
  assert.equal(lt.push('a < b and 3<4') + lt.flush(), 'a < b and 3<4');
});

test('ClauseSplitter: sentences and long clauses as they complete, not decimals or abbreviations; markdown dropped', () => {
  const s = new ClauseSplitter();
  const out: string[] = [];
  for (const w of 'Hi, I am calling for Dr. Smith. The total is 3.50 dollars, which includes the pickup fee and tax; is that **fine**? Yes'.match(/\s*\S+/g)!) out.push(...s.push(w));
  assert.deepEqual(out, ['Hi, I am calling for Dr. Smith.', 'The total is 3.50 dollars,', 'which includes the pickup fee and tax;', 'is that fine?']);
  assert.deepEqual(s.flush(), ['Yes']);
});
