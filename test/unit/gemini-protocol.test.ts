import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAudioStreamEnd, buildSetup, buildTranscriberSetup, parseServerMessage, usageMeters } from '../../src/voice/gemini-live/protocol.js';
import { RealtimeInputSchema, SetupSchema } from '../sim/gemini-live/schemas.js';

test('a usageMetadata is billed as one turn: every meter, cached moved out of input, thinking and tool-use counted', () => {
  // Shape of a live report on a thinking model (discuss.ai.google.dev, gemini-3.8-live): the details do not
  // cover the whole prompt, and thoughts sit beside the response count.
  const m = parseServerMessage(
    JSON.stringify({
      serverContent: { turnComplete: true },
      usageMetadata: {
        promptTokenCount: 522,
        responseTokenCount: 42,
        totalTokenCount: 564,
        cachedContentTokenCount: 100,
        cacheTokensDetails: [{ modality: 'TEXT', tokenCount: 60 }, { modality: 'AUDIO', tokenCount: 40 }],
        promptTokensDetails: [{ modality: 'TEXT', tokenCount: 332 }, { modality: 'AUDIO', tokenCount: 165 }],
        responseTokensDetails: [{ modality: 'AUDIO', tokenCount: 42 }],
        thoughtsTokenCount: 136,
        toolUsePromptTokenCount: 30,
        toolUsePromptTokensDetails: [{ modality: 'TEXT', tokenCount: 30 }],
      },
    }),
  );
  assert.deepEqual(usageMeters(m.usage!), {
    audio_cached_input: 40,
    audio_input: 125,
    // 332 text + 25 the details leave out, minus 60 cached, plus 30 of tool results.
    text_cached_input: 60,
    text_input: 327,
    audio_output: 42,
    thinking_output: 136,
  });
});

test('counts without details are text; zero and missing counts give no meter', () => {
  assert.deepEqual(usageMeters({ promptTokenCount: 10, responseTokenCount: 4 }), { text_input: 10, text_output: 4 });
  assert.deepEqual(usageMeters({}), {});
  // A cached count larger than the prompt (malformed) never makes a negative input.
  assert.deepEqual(usageMeters({ promptTokenCount: 5, cachedContentTokenCount: 9 }), { text_cached_input: 5 });
});

test('tools are declared BLOCKING: gemini-3.8-live would otherwise talk on while end_call waits', () => {
  const setup = JSON.parse(buildSetup({ model: 'gemini-3.8-live', instructions: 'x', voice: 'Puck', silenceMs: 500, tools: [{ name: 'end_call', description: 'd', parameters: { type: 'object' } }] }));
  assert.equal(setup.setup.model, 'models/gemini-3.8-live');
  assert.deepEqual(setup.setup.tools[0].functionDeclarations[0].behavior, 'BLOCKING');
});

test('the transcription-only setup asks for TEXT and input transcription from a transcribe model, and passes the setup schema', () => {
  const setup = JSON.parse(buildTranscriberSetup({ model: 'gemini-3.5-transcribe-live', silenceMs: 500 })).setup;
  assert.equal(setup.model, 'models/gemini-3.5-transcribe-live');
  assert.deepEqual(setup.generationConfig, { responseModalities: ['TEXT'] });
  assert.deepEqual(setup.inputAudioTranscription, {});
  assert.equal(setup.systemInstruction, undefined, 'no agent: no instructions, no tools, no voice');
  assert.equal(setup.tools, undefined);
  assert.ok(SetupSchema.safeParse(setup).success);
  assert.ok(RealtimeInputSchema.safeParse(JSON.parse(buildAudioStreamEnd()).realtimeInput).success);
  // A finished fragment ends an utterance.
  const m = parseServerMessage(JSON.stringify({ serverContent: { inputTranscription: { text: 'and why', finished: true } } }));
  assert.equal(m.inputTranscript, 'and why');
  assert.equal(m.inputFinished, true);
});
