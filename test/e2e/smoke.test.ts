import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../sim/stack.js';

test('smoke: one full call', async () => {
  const stack = await startStack({
    log: (l) => process.env.DEBUG_SIM && console.log(l),
    script: () => ({
      steps: [{ say: 'Hello?' }, { waitForAgent: true }, { say: 'Sure, what would you like?' }, { waitForAgent: true }, { say: 'Got it. Anything else?' }, { waitForAgent: true, timeoutMs: 5000 }],
    }),
    scenario: () => ({
      turns: [
        { say: "Hi, I'm an AI assistant calling on behalf of Raju Kumar." },
        { say: "I'd like one chicken biryani for pickup at seven." },
        { say: "That's all, thank you. Goodbye!", call: { name: 'end_call', arguments: { reason: 'order placed' } } },
      ],
      userTranscripts: ['Hello?', 'Sure, what would you like?', 'Got it. Anything else?'],
    }),
  });
  try {
    const id = await stack.placeCall();
    const call = await stack.waitForEnd(id, 30000);
    console.log(JSON.stringify(call, null, 1).slice(0, 4000));
  } finally {
    await stack.close();
  }
});
