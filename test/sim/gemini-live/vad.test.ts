import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodePcm16, OUTPUT_RATE, parsePcmMime, synthVoice } from './audio.js';
import { closeReason, durationJson } from './protocol.js';
import { totals, turnUsage } from './usage.js';
import { EnergyVad } from '../shared/energy-vad.js';
import { concat, loud, silence } from './test-client.js';

function run(audio: Uint8Array, rate: number, chunkSizes: number[], silenceMs = 200): string[] {
  const vad = new EnergyVad({ rmsThreshold: 600, minSpeechMs: 60 });
  const pcm = decodePcm16(audio);
  const events: string[] = [];
  let offset = 0;
  let i = 0;
  while (offset < pcm.length) {
    const n = chunkSizes[i++ % chunkSizes.length];
    for (const ev of vad.push(pcm.subarray(offset, offset + n), rate, silenceMs)) events.push(`${ev.kind}@${ev.atMs}`);
    offset += n;
  }
  return events;
}

const script = (rate: number) => concat(silence(400, rate), loud(1000, rate), silence(300, rate), loud(40, rate), silence(100, rate), loud(500, rate), silence(200, rate));

test('VAD: onset of the speech run and end of the silence run; blips shorter than minSpeech are ignored', () => {
  assert.deepEqual(run(script(16000), 16000, [320]), ['start@400', 'end@1600', 'start@1840', 'end@2540']);
});

test('VAD events do not depend on how the audio is chunked, nor on the input rate', () => {
  const expected = run(script(16000), 16000, [320]);
  const at8k = script(8000);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 2000 }), { minLength: 1, maxLength: 8 }), (sizes) => {
      assert.deepEqual(run(script(16000), 16000, sizes), expected);
      assert.deepEqual(run(at8k, 8000, sizes), expected);
    }),
    { numRuns: 60 },
  );
});

test('agent voice: about -20 dBFS RMS, never clipping, identical however it is chunked', () => {
  const whole = synthVoice(0, OUTPUT_RATE, 137);
  let sum = 0;
  let peak = 0;
  for (const v of whole) {
    sum += v * v;
    peak = Math.max(peak, Math.abs(v));
  }
  const dbfs = 20 * Math.log10(Math.sqrt(sum / whole.length) / 32768);
  assert.ok(dbfs > -21 && dbfs < -19, `level ${dbfs.toFixed(2)} dBFS`);
  assert.ok(peak < 32767);
  const pieces = [synthVoice(0, 1000, 137), synthVoice(1000, 2400, 137), synthVoice(3400, OUTPUT_RATE - 3400, 137)];
  assert.deepEqual(Int16Array.from(pieces.flatMap((p) => [...p])), whole);
});

test('per-turn usage: the prompt (context) never shrinks, responses add up to all output, zero counts omitted', () => {
  assert.deepEqual(turnUsage(totals({ inputAudioMs: 0, inputTextChars: 0, outputAudioMs: 0 }), 0), {});
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(5000), fc.nat(200), fc.nat(5000)), { maxLength: 20 }), (steps) => {
      const c = { inputAudioMs: 0, inputTextChars: 0, outputAudioMs: 0 };
      let lastPrompt = 0;
      let reported = 0;
      let responses = 0;
      for (const [a, t, o] of steps) {
        c.inputAudioMs += a + 0.5;
        c.inputTextChars += t;
        c.outputAudioMs += o;
        const tt = totals(c);
        const u = turnUsage(tt, reported);
        assert.ok((u.promptTokenCount ?? 0) >= lastPrompt);
        lastPrompt = u.promptTokenCount ?? 0;
        responses += u.responseTokenCount ?? 0;
        reported = tt.responseAudio;
      }
      assert.equal(responses, totals(c).responseAudio);
    }),
  );
});

test('wire helpers: pcm mime parsing, durations, close reasons cut to 123 bytes on a character boundary', () => {
  assert.deepEqual(parsePcmMime('audio/pcm;rate=16000'), { rate: 16000 });
  assert.deepEqual(parsePcmMime('audio/pcm; rate=8000'), { rate: 8000 });
  assert.deepEqual(parsePcmMime('audio/pcm'), { rate: 16000 });
  assert.equal(parsePcmMime('audio/x-mulaw;rate=8000'), null);
  assert.equal(durationJson(5000), '5s');
  assert.equal(durationJson(250), '0.250s');
  const long = 'é'.repeat(100);
  assert.equal(Buffer.byteLength(closeReason(long)), 122);
  assert.equal(closeReason('short'), 'short');
});
