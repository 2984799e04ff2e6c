import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack } from './helpers.js';

test('an answering machine is hung up on before the agent says anything', async () => {
  await withStack(
    {
      script: () => ({ answeredBy: 'machine_end_beep', greetingMs: 1500, steps: [] }),
      scenario: () => ({ turns: [{ say: 'Hi, this is an AI assistant.' }] }),
    },
    async (stack) => {
      const id = await stack.placeCall();
      const call = await stack.waitForEnd(id, 20_000);
      assert.equal(call.endReason, 'voicemail');
      assert.equal(call.answeredBy, 'machine_end_beep');
      const tw = stack.twilio.calls[0];
      assert.equal(tw.agentAudioBytesReceived, 0, 'no agent audio reached the machine');
      assert.equal(tw.hangupBy, 'api');
      const session = stack.openai.sessions[0];
      assert.equal(session.responses.length, 0, 'no response was ever requested');
      assert.equal(call.transcript.filter((t: any) => t.speaker === 'agent').length, 0);
      // The engine never had auto-response on, so the machine's greeting could not trigger a reply.
      assert.equal((session.config.audio as any).input.turn_detection.create_response, false);
    },
  );
});

test('a long voicemail greeting does not open the greeting at its end: only the verdict decides', async () => {
  // The greeting (4 s) is far longer than a person's "Hello?" and is followed by seconds of quiet
  // before the verdict (the beep): neither its end nor the silence after it may start the greeting.
  await withStack(
    {
      script: () => ({ answeredBy: 'machine_end_beep', greetingMs: 4000, amdDelayMs: 7000, steps: [] }),
      scenario: () => ({ turns: [{ say: 'Hi, this is an AI assistant.' }] }),
    },
    async (stack) => {
      const id = await stack.placeCall();
      const call = await stack.waitForEnd(id, 20_000);
      assert.equal(call.endReason, 'voicemail');
      assert.equal(stack.twilio.calls[0].agentAudioBytesReceived, 0);
      const session = stack.openai.sessions[0];
      assert.equal(session.responses.length, 0);
      assert.ok(!session.received.some((e: any) => e.type === 'response.create'), 'no greeting was requested');
      const events = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
      assert.match(events, /"type":"greeting\.held","data":\{"openingMs":/);
      assert.doesNotMatch(events, /"type":"greeting\.start"/);
    },
  );
});

test('a person who answers silently is greeted after GREETING_SILENCE_MS, long before the verdict', async () => {
  await withStack(
    { env: { GREETING_SILENCE_MS: '800' }, script: () => ({ answeredBy: 'unknown', amdDelayMs: 20_000, steps: [{ waitForAgent: true, quietMs: 300 }, { hangup: true }] }), scenario: () => ({ turns: [{ say: 'Hi, this is an AI assistant for Raju.' }] }) },
    async (stack) => {
      const id = await stack.placeCall();
      const call = await stack.waitForEnd(id, 20_000);
      assert.equal(call.transcript[0]?.speaker, 'agent');
      assert.equal(call.endReason, 'callee-hangup');
      const first = stack.twilio.calls[0].firstAgentAudioLineMs;
      assert.ok(first !== null && first >= 800 && first < 1500, `greeted at ${first} ms`);
    },
  );
});

test('calls that are not answered end with the carrier reason', async () => {
  await withStack({ script: () => ({ result: 'busy', steps: [] }) }, async (stack) => {
    const id = await stack.placeCall();
    const call = await stack.waitForEnd(id);
    assert.equal(call.endReason, 'busy');
    assert.equal(call.answeredAt, null);
    // The engine session opened during ringing is closed again.
    await stack.openai.sessions[0].closed;
  });
});
