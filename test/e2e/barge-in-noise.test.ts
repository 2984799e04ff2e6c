/**
 * Barge-in on speech, not noise (docs/barge-in.md), on both engines, through the real server and the
 * simulators: line noise and backchannels while the agent talks do not cut it; real speech does, long
 * speech by its length and a short "Stop." by its words. The engines are generating in real time, so an
 * engine that cut itself off on the noise would show here too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack, ENGINES } from './helpers.js';
import type { Conversation } from '../sim/stack.js';
import type { CalleeStep } from '../sim/twilio/index.js';
import { CLIP_TEXT } from '../sim/twilio/clips.js';

const LONG =
  "Hi, I'm an AI assistant calling on behalf of Raju Kumar. I'd like to place an order for pickup this evening, one chicken biryani, mild, with an extra raita on the side, and I can confirm the pickup time once we are done.";
/** The callee starts after this much of the greeting has played. */
const AFTER_MS = 800;

const conversation = (turns: Conversation['turns'], userTranscripts: string[]) => () => ({ turns, userTranscripts });
const overTheAgent = (...steps: CalleeStep[]): (() => { steps: CalleeStep[] }) => () => ({
  steps: [{ say: 'Hello?' }, { waitAgentPlayedMs: AFTER_MS }, ...steps, { waitForAgent: true, quietMs: 300, timeoutMs: 15_000 }, { hangup: true }],
});

async function events(stack: { api: (m: string, p: string) => Promise<{ body: unknown }> }, id: string): Promise<Array<{ event: string; data: any }>> {
  const text = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
  return text
    .split('\n\n')
    // Each SSE data line is the whole timeline event; its payload is `.data`.
    .map((block) => ({ event: /^event: (.*)$/m.exec(block)?.[1] ?? '', data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? '{}').data }))
    .filter((e) => e.event);
}

function assertGreetingWhole(call: any): void {
  const greeting = call.transcript.find((t: any) => t.speaker === 'agent');
  assert.equal(greeting.text, LONG);
  assert.equal(greeting.interrupted, undefined, 'the greeting was not cut');
}

for (const engine of ENGINES) {
  test(`[${engine}] line noise while the agent talks (hiss, music, hum, clicks, crackle) does not cut it`, async () => {
    await withStack(
      {
        engine,
        pacing: 'realtime',
        script: overTheAgent({ noise: 'hiss', durationMs: 800 }, { noise: 'music', durationMs: 800 }, { noise: 'hum', durationMs: 600 }, { noise: 'clicks', durationMs: 600 }, { noise: 'crackle', durationMs: 600 }),
        conversation: conversation([{ say: LONG }, { say: 'Sorry, I could not hear you.' }, { say: 'Hello?' }], ['Hello?', '', '', '']),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 30_000);
        assert.deepEqual(stack.twilio.calls[0].streams[0].clears, [], 'no clear');
        assertGreetingWhole(call);
        const evs = await events(stack, id);
        assert.ok(!evs.some((e) => e.event === 'agent.interrupted'));
        // The engine's own VAD took the noise for speech (as the old barge-in did) and said so; that no
        // longer cuts the agent (with interrupt_response off the response was not cancelled either).
        if (engine === 'openai') {
          const s = stack.openai.sessions[0];
          assert.ok(s.sent.filter((e) => e.type === 'input_audio_buffer.speech_started').length >= 2, 'speech_started on the noise');
          assert.equal(s.responses[0].status, 'completed');
        } else if (engine === 'gemini') {
          assert.ok(stack.gemini.sessions[0].userTurns.length >= 2, 'Gemini heard the noise as a user turn');
        } else {
          // Whatever the cascade's own VAD made of the noise, the greeting's reply was never cancelled.
          assert.ok(!stack.cascade.llm.some((r) => r.aborted), 'no reply was cut');
        }
      },
    );
  });

  test(`[${engine}] backchannels ("mhm", "okay") while the agent talks do not cut it`, async () => {
    await withStack(
      {
        engine,
        pacing: 'realtime',
        script: overTheAgent({ backchannel: 'mhm' }, { pauseMs: 700 }, { backchannel: 'okay' }),
        conversation: conversation([{ say: LONG }, { say: 'Great.' }, { say: 'Great.' }], ['Hello?', CLIP_TEXT['backchannel-mhm'], CLIP_TEXT['backchannel-okay']]),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 30_000);
        assert.deepEqual(stack.twilio.calls[0].streams[0].clears, [], 'no clear');
        assertGreetingWhole(call);
        const evs = await events(stack, id);
        assert.ok(!evs.some((e) => e.event === 'agent.interrupted'));
        const ignored = evs.filter((e) => e.event === 'bargeIn.ignored').map((e) => e.data);
        assert.ok(ignored.length >= 1, 'the backchannels were heard and let pass');
        for (const v of ignored) assert.equal(v.reason, 'backchannel', JSON.stringify(v));
      },
    );
  });

  test(`[${engine}] real speech over the agent cuts it, once it has lasted BARGE_IN_BACKCHANNEL_MAX_MS`, async () => {
    await withStack(
      {
        engine,
        pacing: 'realtime',
        script: overTheAgent({ speech: 'repeat' }),
        conversation: conversation([{ say: LONG }, { say: "Of course: I'm calling for Raju Kumar." }], ['Hello?', CLIP_TEXT['speech-repeat']]),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 30_000);
        const clears = stack.twilio.calls[0].streams[0].clears;
        assert.equal(clears.length, 1, 'exactly one clear');
        // The callee started talking at AFTER_MS of the greeting; the agent stopped after 800 ms of speech
        // (the setting's default), plus at most a few frames of transport.
        const reactionMs = clears[0].segmentPlayedMs - AFTER_MS;
        assert.ok(reactionMs >= 700 && reactionMs <= 1000, `cut ${reactionMs} ms into the callee's speech`);
        const greeting = call.transcript.find((t: any) => t.speaker === 'agent');
        assert.ok(greeting.interrupted, 'the greeting was cut');
        assert.ok(call.transcript.some((t: any) => t.speaker === 'agent' && t.text === "Of course: I'm calling for Raju Kumar."), 'the agent answered');
      },
    );
  });

  test(`[${engine}] a short "Stop." over the agent cuts it by its words; the agent answers`, async () => {
    await withStack(
      {
        engine,
        pacing: 'realtime',
        // The cut comes once the words are in (the end of the callee's turn); the answer may come only
        // after the engine has finished the turn it was generating (Gemini, NO_INTERRUPTION): wait for it.
        script: overTheAgent({ speech: 'stop' }, { pauseMs: 800 }, { waitAgentPlayedMs: 300, timeoutMs: 10_000 }),
        conversation: conversation([{ say: LONG }, { say: 'Sorry, go ahead.' }], ['Hello?', CLIP_TEXT['speech-stop']]),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 30_000);
        const clears = stack.twilio.calls[0].streams[0].clears;
        assert.equal(clears.length, 1, 'exactly one clear');
        const greeting = call.transcript.find((t: any) => t.speaker === 'agent');
        assert.ok(greeting.interrupted, 'the greeting was cut');
        assert.ok(call.transcript.some((t: any) => t.speaker === 'agent' && t.text === 'Sorry, go ahead.'), 'the agent answered');
        const evs = await events(stack, id);
        assert.ok(!evs.some((e) => e.event === 'bargeIn.ignored'));
      },
    );
  });
}
