import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseServerMessage, usageMeters, GeminiMessageError, type ServerMessage } from '../../src/voice/gemini-live/protocol.js';
import { isBase64 } from '../../src/media/audio-chunk.js';
import { anyJson, anyText, check, mutated, noEscapes, base64Audio, parsedOrRefused, VALID_RUNS, RUNS } from './fuzz-kit.js';
import { assertCounts } from './usage-check.js';

const count = fc.nat({ max: 100_000 });
const details = fc.array(fc.record({ modality: fc.constantFrom('AUDIO', 'TEXT'), tokenCount: count }), { maxLength: 3 });
const text = fc.string({ unit: 'grapheme', maxLength: 40 });

/** BidiGenerateContent server messages as Gemini Live sends them. */
const validMessage: fc.Arbitrary<object> = fc.oneof(
  fc.constant({ setupComplete: {} }),
  fc.record(
    {
      serverContent: fc.record(
        {
          modelTurn: fc.record({ parts: fc.array(fc.record({ inlineData: fc.record({ mimeType: fc.constant('audio/pcm;rate=24000'), data: base64Audio }) }), { minLength: 1, maxLength: 3 }) }),
          outputTranscription: fc.record({ text }),
          inputTranscription: fc.record({ text, finished: fc.boolean() }),
          interrupted: fc.boolean(),
          generationComplete: fc.boolean(),
          turnComplete: fc.boolean(),
        },
        { requiredKeys: [] },
      ),
      usageMetadata: fc.record({ promptTokenCount: count, responseTokenCount: count, totalTokenCount: count, promptTokensDetails: details, responseTokensDetails: details }),
    },
    { requiredKeys: ['serverContent'] },
  ),
  fc.record({ toolCall: fc.record({ functionCalls: fc.array(fc.record({ id: fc.uuid(), name: fc.constant('end_call'), args: fc.record({ reason: text }) }), { minLength: 1, maxLength: 2 }) }) }),
  fc.record({ toolCallCancellation: fc.record({ ids: fc.array(fc.uuid(), { maxLength: 2 }) }) }),
  fc.record({ goAway: fc.record({ timeLeft: fc.nat({ max: 60 }).map((s) => `${s}s`) }) }),
  fc.record({ sessionResumptionUpdate: fc.record({ newHandle: fc.base64String({ minLength: 4, maxLength: 40 }), resumable: fc.boolean() }) }),
);

/** Gemini has no type field: hostile messages put random values under the keys it reads. */
const KEYS = ['setupComplete', 'serverContent', 'toolCall', 'toolCallCancellation', 'usageMetadata', 'goAway', 'sessionResumptionUpdate'];
const keyedJson = fc.dictionary(fc.constantFrom(...KEYS), fc.jsonValue({ maxDepth: 4 }), { minKeys: 1, maxKeys: 3 }).map((d) => JSON.stringify(d));
const hostile = fc.oneof({ arbitrary: anyText, weight: 1 }, { arbitrary: anyJson, weight: 1 }, { arbitrary: keyedJson, weight: 2 }, { arbitrary: mutated(validMessage), weight: 4 });

function assertWellFormed(m: ServerMessage): void {
  for (const a of m.audio) assert.ok(isBase64(a), 'audio is base64');
  for (const c of m.toolCalls) assert.ok(typeof c.id === 'string' && typeof c.name === 'string');
  for (const id of m.toolCallCancellations) assert.equal(typeof id, 'string');
  for (const k of ['setupComplete', 'inputFinished', 'interrupted', 'generationComplete', 'turnComplete'] as const) assert.equal(typeof m[k], 'boolean');
  for (const t of [m.inputTranscript, m.outputTranscript, m.goAwayTimeLeft]) assert.ok(t === undefined || typeof t === 'string');
  if (m.resumption) assert.ok(typeof m.resumption.handle === 'string' && m.resumption.handle.length > 0);
  if (m.usage) {
    assertCounts(m.usage);
    // The engine bills every usage report by meter: that must never throw or yield NaN.
    assertCounts(usageMeters(m.usage), 'meters');
  }
}

const FIELDS = /serverContent|modelTurn|inlineData|toolCall|functionCall|JSON/;

function parseOrClearError(raw: string): void {
  parsedOrRefused(() => parseServerMessage(raw), GeminiMessageError, (err) => assert.match(err.message, FIELDS, 'the error names the field at fault'), assertWellFormed);
}

test('Gemini Live server messages: 100k hostile messages parse or fail with a GeminiMessageError naming the field', async () => {
  await noEscapes(() => check('gemini hostile', hostile, parseOrClearError, RUNS));
});

test('Gemini Live server messages: every valid message parses to what it carries', async () => {
  await noEscapes(() =>
    check(
      'gemini valid',
      validMessage,
      (msg: any) => {
        const m = parseServerMessage(JSON.stringify(msg));
        const sc = msg.serverContent;
        assert.equal(m.setupComplete, 'setupComplete' in msg);
        assert.deepEqual(m.audio, sc?.modelTurn?.parts.map((p: any) => p.inlineData.data) ?? []);
        assert.equal(m.outputTranscript, sc?.outputTranscription?.text);
        assert.equal(m.inputTranscript, sc?.inputTranscription?.text);
        assert.equal(m.turnComplete, sc?.turnComplete === true);
        assert.deepEqual(m.toolCalls.map((c) => c.id), msg.toolCall?.functionCalls.map((c: any) => c.id) ?? []);
        assert.deepEqual(m.toolCallCancellations, msg.toolCallCancellation?.ids ?? []);
        assert.equal(m.goAwayTimeLeft, msg.goAway?.timeLeft);
        if (msg.usageMetadata) assert.deepEqual(JSON.parse(JSON.stringify(m.usage)), JSON.parse(JSON.stringify(msg.usageMetadata)));
        if (msg.sessionResumptionUpdate) assert.deepEqual(m.resumption, { handle: msg.sessionResumptionUpdate.newHandle, resumable: msg.sessionResumptionUpdate.resumable });
      },
      VALID_RUNS,
    ),
  );
});
