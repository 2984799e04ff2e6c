/**
 * The cascade engine's in-process stages (STT_PROVIDER=sherpa, TTS_PROVIDER=piper) through the built
 * server, where no model has been pulled: the call fails at engine start as a provider error whose
 * message names the model and the command that fetches it. (No model files exist where the tests run;
 * the stages' glue is tested against a stand-in in test/unit/cascade-sherpa.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack, timelineOf } from './helpers.js';
import { MODEL_CATALOG } from '../../src/models/catalog.js';

const STT = MODEL_CATALOG.find((m) => m.engine === 'sherpa-onnx-online-transducer')!.name;
const VOICE = MODEL_CATALOG.find((m) => m.engine === 'sherpa-onnx-vits-piper')!.name;

for (const [what, env, model] of [
  ['speech-to-text', { STT_PROVIDER: 'sherpa', STT_SHERPA_MODEL: STT }, STT],
  ['text-to-speech', { TTS_PROVIDER: 'piper', TTS_PIPER_VOICE: VOICE }, VOICE],
] as const) {
  test(`cascade: an in-process ${what} model that was never pulled ends the call at engine start, naming the model and \`callwright models pull\``, async () => {
    await withStack({ script: () => ({ steps: [{ say: 'Hello?' }] }), env: { AI_PROVIDER: 'cascade', ...env } }, async (stack) => {
      const id = await stack.placeCall();
      const call = await stack.waitForEnd(id, 20_000);
      assert.equal(call.endReason, 'provider-error');
      const failed = (await timelineOf(stack, id)).find((e) => e.type === 'error' && e.data.code === 'connect_failed');
      assert.ok(failed, 'the failure is on the timeline');
      assert.match(failed.data.message, new RegExp(`model ${model} is not downloaded .*run \`callwright models pull ${model}\``));
      assert.equal(call.transcript.length, 0);
    });
  });
}
