import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack } from './helpers.js';
import type { Pacing } from '../sim/openai-realtime/index.js';

const LONG_GREETING =
  "Hi, I'm an AI assistant calling on behalf of Raju Kumar. I'd like to place an order for pickup this evening, one chicken biryani, mild, with an extra raita on the side, and I can confirm the pickup time once we are done.";

for (const pacing of ['burst', 'realtime'] as Pacing[]) {
  test(`barge-in (${pacing} audio): clear, cancel, truncate at what the callee heard`, async () => {
    await withStack(
      {
        pacing,
        script: () => ({
          steps: [{ say: 'Hello?' }, { waitAgentPlayedMs: 1500 }, { say: 'Sorry, who is this?' }, { waitForAgent: true, quietMs: 300 }, { say: 'Okay, bye.' }, { waitForAgent: true, quietMs: 300, timeoutMs: 5000 }],
        }),
        scenario: () => ({
          turns: [{ say: LONG_GREETING }, { say: "I'm Raju's assistant." }, { say: 'Goodbye!', call: { name: 'end_call', arguments: {} } }],
          userTranscripts: ['Hello?', 'Sorry, who is this?', 'Okay, bye.'],
        }),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 30_000);
        const session = stack.openai.sessions[0];
        const stream = stack.twilio.calls[0].streams[0];

        // 1. Twilio's buffer was flushed.
        assert.equal(stream.clears.length, 1, 'exactly one clear');
        assert.ok(stream.clears[0].segmentPlayedMs >= 1500, `the callee heard ${stream.clears[0].segmentPlayedMs} ms before interrupting`);
        // The reply cut is the call's first agent audio: all the stream played before the clear was heard of it.
        const played = stream.clears[0].playedMs;
        if (pacing === 'burst') assert.ok(stream.clears[0].droppedMs > 0, 'queued audio was dropped');

        // 2. The engine's memory was cut at what was heard, per echoed marks (not the clock).
        const truncs = session.truncations;
        assert.equal(truncs.length, 1);
        assert.equal(truncs[0].accepted, true);
        assert.equal(truncs[0].itemId, session.responses[0].itemId);
        assert.ok(Math.abs(truncs[0].audioEndMs - played) <= 60, `audio_end_ms ${truncs[0].audioEndMs} vs played ${played}`);
        assert.ok(truncs[0].audioEndMs < truncs[0].audioMsSentForItem);

        // 3. The response was cancelled (by the client, or by server VAD) and none of its audio played later.
        if (pacing === 'realtime') assert.equal(session.responses[0].status, 'cancelled');
        assert.equal(session.errorsSent.filter((e: any) => e.code !== 'response_cancel_not_active').length, 0, JSON.stringify(session.errorsSent));

        // 4. The transcript keeps the heard part and marks the cut.
        const greeting = call.transcript.find((t: any) => t.speaker === 'agent');
        assert.ok(greeting.interrupted, 'interrupted turn is marked');
        assert.equal(greeting.interrupted.heardMs, truncs[0].audioEndMs);
        assert.ok(LONG_GREETING.startsWith(greeting.interrupted.heardText));
        // The heard text is the heard fraction of the generated turn, cut back to a word boundary. In a
        // burst the whole turn was generated; at real-time pace generation stopped at the cancel.
        const expectedChars = (greeting.text.length * greeting.interrupted.heardMs) / greeting.interrupted.totalMs;
        assert.ok(greeting.interrupted.heardText.length <= expectedChars && greeting.interrupted.heardText.length > expectedChars - 15, `${greeting.interrupted.heardText.length} chars vs ${expectedChars}`);
        if (pacing === 'burst') {
          assert.equal(greeting.text, LONG_GREETING);
          assert.ok(Math.abs(greeting.interrupted.totalMs - LONG_GREETING.length * 20) <= 100, `total ${greeting.interrupted.totalMs} ms generated`);
        } else {
          assert.ok(greeting.interrupted.totalMs - greeting.interrupted.heardMs <= 200, 'at real-time pace little was generated beyond what was heard');
        }
        assert.deepEqual(call.transcript.map((t: any) => t.speaker), ['callee', 'agent', 'callee', 'agent', 'callee', 'agent']);
        assert.equal(call.endReason, 'agent-hangup');
        const txt = (await stack.api('GET', `/api/calls/${id}/transcript.txt`)).body as string;
        assert.match(txt, /— \[interrupted after \d+\.\d s/);
      },
    );
  });
}

for (const pacing of ['burst', 'realtime'] as Pacing[]) test(`end_call does nothing when the goodbye is interrupted (${pacing} audio)`, async () => {
  await withStack(
    {
      pacing,
      script: () => ({
        steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { say: 'Can I ask something?' }, { waitAgentPlayedMs: 600 }, { say: 'Wait, one more thing!' }, { waitForAgent: true, quietMs: 300 }, { say: 'Thanks, bye.' }, { waitForAgent: true, quietMs: 300, timeoutMs: 5000 }],
      }),
      scenario: () => ({
        turns: [
          { say: 'Hi, this is an AI assistant for Raju.' },
          { say: 'I think we are done here, thank you so much for your time today and have a lovely evening, goodbye!', call: { name: 'end_call', arguments: {} } },
          { say: 'Of course, what is it?' },
          { say: 'Bye!', call: { name: 'end_call', arguments: {} } },
        ],
        userTranscripts: ['Hello?', 'Can I ask something?', 'Wait, one more thing!', 'Thanks, bye.'],
      }),
    },
    async (stack) => {
      const id = await stack.placeCall();
      const call = await stack.waitForEnd(id, 30_000);
      const session = stack.openai.sessions[0];
      assert.equal(call.endReason, 'agent-hangup');
      assert.ok(call.transcript.some((t: any) => t.text === 'Of course, what is it?'), 'the conversation continued');
      if (pacing === 'burst') {
        // The goodbye's end_call arrived with its audio: it was answered "still connected", the second hung up.
        assert.equal(call.toolCalls.length, 2);
        assert.match(call.toolCalls[0].result, /interrupted your goodbye/);
        assert.equal(session.functionOutputs.length, 1);
        const events = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
        assert.match(events, /event: hangup\.cancelled/);
      } else {
        // At real-time pace the goodbye was cancelled before its end_call was even generated.
        assert.equal(session.responses[1].status, 'cancelled');
        assert.equal(call.toolCalls.length, 1);
      }
    },
  );
});
