/**
 * One behaviour suite for every engine: the same calls, through the same server, against each engine's
 * simulator. What differs between engines is only what the engine's capabilities say it can do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack, endedEvents, timelineOf, ENGINES } from './helpers.js';
import { parseSettings } from '../../src/config/settings.js';
import { DEFAULT_PRICES } from '../../src/records/pricing.js';
import type { Conversation } from '../sim/stack.js';
import type { Pacing } from '../sim/openai-realtime/index.js';

const GREETING = "Hi, I'm an AI assistant calling on behalf of Raju Kumar.";
const LONG =
  "Hi, I'm an AI assistant calling on behalf of Raju Kumar. I'd like to place an order for pickup this evening, one chicken biryani, mild, with an extra raita on the side, and I can confirm the pickup time once we are done.";

const conversation = (turns: Conversation['turns'], userTranscripts: string[], extra: Partial<Conversation> = {}) => () => ({ turns, userTranscripts, ...extra });

for (const engine of ENGINES) {
  test(`[${engine}] full call: greeting, two exchanges, goodbye and end_call; usage priced`, async () => {
    await withStack(
      {
        engine,
        script: () => ({ steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { say: 'Sure, what would you like?' }, { waitForAgent: true, quietMs: 300 }, { say: 'Got it. Anything else?' }, { waitForAgent: true, quietMs: 300, timeoutMs: 5000 }] }),
        conversation: conversation(
          [{ say: GREETING }, { say: "I'd like one chicken biryani for pickup at seven." }, { say: "That's all, thank you. Goodbye!", call: { name: 'end_call', args: { reason: 'order placed' } } }],
          ['Hello?', 'Sure, what would you like?', 'Got it. Anything else?'],
          { thoughtsTokensPerTurn: 11 },
        ),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 30_000);
        assert.equal(call.provider, engine);
        assert.equal(call.endReason, 'agent-hangup');
        assert.deepEqual(
          call.transcript.map((t: any) => [t.speaker, t.text]),
          [
            ['callee', 'Hello?'],
            ['agent', GREETING],
            ['callee', 'Sure, what would you like?'],
            ['agent', "I'd like one chicken biryani for pickup at seven."],
            ['callee', 'Got it. Anything else?'],
            ['agent', "That's all, thank you. Goodbye!"],
          ],
        );
        assert.deepEqual(call.toolCalls.map((t: any) => t.name), ['end_call']);
        // The goodbye played to its end (no clear) before the hang-up.
        const tw = stack.twilio.calls[0];
        assert.equal(tw.hangupBy, 'api');
        assert.equal(tw.streams[0].clears.length, 0);
        assert.equal(tw.streams[0].agentPlayedMs * 8, tw.agentAudioBytesReceived, 'everything sent was played');
        const usage = call.cost.lines.filter((l: any) => l.source === 'usage' && (engine === 'cascade' ? /^(llm|stt|tts) / : new RegExp(`^${engine}`)).test(l.item));
        if (engine === 'cascade') {
          // One meter per stage (docs/cascade.md): the LLM's tokens, the seconds transcribed, the characters
          // spoken (every character sent to the TTS, all of it played here), free for local stages.
          const q = (re: RegExp) => usage.find((l: any) => re.test(l.item))?.quantity ?? 0;
          assert.ok(q(/^llm llm-sim text input$/) > 0 && q(/^llm llm-sim text output$/) > 0);
          assert.ok(q(/^stt whisper-sim audio seconds$/) > 1);
          assert.equal(q(/^tts tts-sim characters$/), stack.cascade.tts.reduce((a, r) => a + r.input.length, 0));
          assert.ok(usage.every((l: any) => l.amount === 0), 'local stages cost nothing');
        } else {
          assert.ok(usage.some((l: any) => /audio input$/.test(l.item) && l.quantity > 0));
          assert.ok(usage.some((l: any) => /audio output$/.test(l.item) && l.quantity > 0));
        }
        assert.deepEqual(call.cost.unpriced, []);
        assert.equal(await endedEvents(stack, id), 1);
        if (engine === 'gemini') {
          // Every usageMetadata is one turn's bill (its prompt re-bills the context). The expected cost is
          // computed here from what the simulator sent, with the published prices, not from the engine.
          const reports = (stack.gemini.sessions[0] as any).usageReports as any[];
          assert.ok(reports.length >= 2, 'one report per finished turn');
          const model = parseSettings({}).GEMINI_LIVE_MODEL;
          const p = DEFAULT_PRICES.models[`gemini:${model}`];
          const audio = (list: any[] | undefined) => list?.find((d) => d.modality === 'AUDIO')?.tokenCount ?? 0;
          let audioIn = 0;
          let expectedUsd = 0;
          for (const r of reports) {
            const aIn = audio(r.promptTokensDetails);
            const aOut = audio(r.responseTokensDetails);
            audioIn += aIn;
            expectedUsd +=
              (aIn * p.audio_input + ((r.promptTokenCount ?? 0) - aIn) * p.text_input + aOut * p.audio_output + ((r.responseTokenCount ?? 0) - aOut) * p.text_output + (r.thoughtsTokenCount ?? 0) * p.thinking_output) / 1e6;
          }
          assert.equal(usage.find((l: any) => /audio input$/.test(l.item)).quantity, audioIn, 'audio input: the sum of every report');
          assert.equal(usage.find((l: any) => /thinking output$/.test(l.item)).quantity, 11 * reports.length);
          const billedUsd = usage.reduce((a: number, l: any) => a + l.amount, 0);
          assert.ok(Math.abs(billedUsd - expectedUsd) < 1e-5, `billed ${billedUsd} vs ${expectedUsd} from the simulator's reports`);
        }
      },
    );
  });

  for (const pacing of ['burst', 'realtime'] as Pacing[]) {
    test(`[${engine}] barge-in with ${pacing} audio: clear, rest of the turn dropped, heard part kept`, async () => {
      await withStack(
        {
          engine,
          pacing,
          script: () => ({ steps: [{ say: 'Hello?' }, { waitAgentPlayedMs: 1500 }, { say: 'Sorry, who is this?' }, { waitForAgent: true, quietMs: 300 }, { say: 'Okay, bye.' }, { waitForAgent: true, quietMs: 300, timeoutMs: 5000 }] }),
          conversation: conversation([{ say: LONG }, { say: "I'm Raju's assistant." }, { say: 'Goodbye!', call: { name: 'end_call', args: {} } }], ['Hello?', 'Sorry, who is this?', 'Okay, bye.']),
        },
        async (stack) => {
          const id = await stack.placeCall();
          const call = await stack.waitForEnd(id, 30_000);
          const stream = stack.twilio.calls[0].streams[0];
          assert.equal(stream.clears.length, 1, 'exactly one clear');
          assert.ok(stream.clears[0].segmentPlayedMs >= 1500);
          // The reply cut is the call's first agent audio, so all the stream played before the clear is what
          // was heard of it, even where its audio ran dry midway on a loaded machine and the segment restarted.
          const played = stream.clears[0].playedMs;
          const cut = call.transcript.find((t: any) => t.speaker === 'agent');
          assert.ok(cut.interrupted, 'the interrupted turn is marked');
          assert.ok(Math.abs(cut.interrupted.heardMs - played) <= 60, `heard ${cut.interrupted.heardMs} vs played ${played} (${stream.clears[0].segmentPlayedMs} in the segment cut)`);
          assert.ok(cut.interrupted.heardText.length > 0 && LONG.startsWith(cut.interrupted.heardText));
          assert.deepEqual(call.transcript.map((t: any) => t.speaker), ['callee', 'agent', 'callee', 'agent', 'callee', 'agent']);
          assert.equal(call.endReason, 'agent-hangup');
          if (engine === 'openai') {
            const s = stack.openai.sessions[0];
            assert.equal(s.truncations.length, 1);
            assert.ok(Math.abs(s.truncations[0].audioEndMs - played) <= 60);
          } else if (engine === 'cascade') {
            // The LLM's next request holds the greeting as the callee heard it, and nothing after.
            const after = stack.cascade.llm.find((r) => r.body.messages.at(-1)?.content === 'Sorry, who is this?')!;
            assert.ok(after, 'a request answering the callee');
            const remembered = after.body.messages.filter((m) => m.role === 'assistant').map((m) => m.content);
            assert.deepEqual(remembered, [cut.interrupted.heardText]);
          } else {
            const s = stack.gemini.sessions[0] as any;
            // Gemini is set not to interrupt itself (NO_INTERRUPTION, docs/barge-in.md): the bridge heard
            // the callee, cleared the carrier and dropped the rest of the turn, which Gemini generated in full.
            assert.equal(s.setup.realtimeInputConfig.activityHandling, 'NO_INTERRUPTION');
            assert.deepEqual(s.interruptions, []);
            assert.equal(s.turns[0].generationComplete, true);
          }
        },
      );
    });
  }

  test(`[${engine}] end_call does nothing when the goodbye is interrupted`, async () => {
    await withStack(
      {
        engine,
        script: () => ({
          steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { say: 'Can I ask something?' }, { waitAgentPlayedMs: 600 }, { say: 'Wait, one more thing!' }, { waitForAgent: true, quietMs: 300 }, { say: 'Thanks, bye.' }, { waitForAgent: true, quietMs: 300, timeoutMs: 5000 }],
        }),
        conversation: conversation(
          [
            { say: 'Hi, this is an AI assistant for Raju.' },
            { say: 'I think we are done here, thank you so much for your time today and have a lovely evening, goodbye!', call: { name: 'end_call', args: {} } },
            { say: 'Of course, what is it?' },
            { say: 'Bye!', call: { name: 'end_call', args: {} } },
          ],
          ['Hello?', 'Can I ask something?', 'Wait, one more thing!', 'Thanks, bye.'],
        ),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 30_000);
        assert.equal(call.endReason, 'agent-hangup');
        assert.ok(call.toolCalls.length >= 2);
        const events = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
        assert.match(events, /event: hangup\.cancelled/);
        assert.ok(call.transcript.some((t: any) => t.text === 'Of course, what is it?'), 'the conversation continued');
        if (engine === 'gemini') {
          // Gemini does not interrupt itself (NO_INTERRUPTION), so it withdraws no call: the first end_call
          // was answered "still connected" by the bridge, which heard the callee talk over the goodbye.
          const g = stack.gemini.sessions[0];
          const first = g.toolCalls[0].id;
          assert.equal(g.toolCalls[0].status, 'answered');
          assert.ok(!g.sent.some((m: any) => m.message.toolCallCancellation), 'no toolCallCancellation');
          assert.match(call.toolCalls[0].result, /interrupted your goodbye/);
          assert.equal(g.toolResponses.filter((r) => r.id === first).length, 1, 'one result for the first end_call');
          assert.doesNotMatch(events, /event: tool\.cancelled/);
        } else if (engine === 'cascade') {
          // The result followed its call in the LLM's next request, as chat completions require.
          assert.match(call.toolCalls[0].result, /interrupted your goodbye/);
          const results = stack.cascade.llm.flatMap((r) => r.body.messages.filter((m) => m.role === 'tool').map((m) => m.content));
          assert.ok(results.some((c) => /interrupted your goodbye/.test(String(c))));
        } else {
          // The tool result went back to the engine with the call's id.
          assert.match(call.toolCalls[0].result, /interrupted your goodbye/);
          assert.equal(stack.openai.sessions[0].functionOutputs.length, 1);
        }
      },
    );
  });

  test(`[${engine}] the provider dropping mid-call`, async () => {
    await withStack(
      {
        engine,
        // The line drops halfway through the agent's second turn; the callee, hearing it stop, speaks again.
        script: () => ({
          steps: [
            { say: 'Hello?' },
            { waitForAgent: true, quietMs: 300 },
            { say: 'Sure, what would you like?' },
            { waitForAgent: true, quietMs: 300 },
            { say: 'Hello? You cut out.' },
            { waitForAgent: true, quietMs: 300 },
            { say: 'Got it. Anything else?' },
            { waitForAgent: true, quietMs: 300, timeoutMs: 6000 },
          ],
        }),
        conversation: conversation(
          [{ say: GREETING }, { say: "I'd like one chicken biryani for pickup at seven, please, and that would be all for today." }, { say: 'Goodbye!', call: { name: 'end_call', args: {} } }],
          ['Hello?', 'Sure, what would you like?', 'Got it. Anything else?'],
          { dropAfterResponses: 2 },
        ),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 30_000);
        const events = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
        if (engine === 'openai') {
          // No resumption in the Realtime API: the call ends cleanly, with the reason.
          assert.equal(call.endReason, 'provider-error');
          assert.equal(stack.twilio.calls[0].hangupBy, 'api');
        } else if (engine === 'cascade') {
          // The LLM server's connection dropped mid-reply: as a lost connection, the call ends cleanly
          // with the stage named (docs/cascade.md), and nothing more was asked of the stages.
          assert.equal(call.endReason, 'provider-error');
          assert.equal(stack.twilio.calls[0].hangupBy, 'api');
          assert.match(events, /"type":"error","data":\{"source":"cascade","fatal":true,"code":"llm_unreachable"/);
          assert.equal(call.transcript.filter((t: any) => t.speaker === 'agent')[0].text, GREETING);
        } else {
          // Gemini resumes the session with its handle (the state as of its last finished turn): a short
          // pause, the cut turn is said again, and the conversation goes on to its end.
          assert.match(events, /"type":"engine\.resumed","data":\{"reason":"socket closed \(1006\)"/);
          assert.equal((stack.gemini.sessions[0] as any).resumptions.length, 1);
          assert.equal(call.endReason, 'agent-hangup');
          const agent = call.transcript.filter((t: any) => t.speaker === 'agent').map((t: any) => t.text);
          assert.equal(agent[0], GREETING);
          assert.ok(agent.includes("I'd like one chicken biryani for pickup at seven, please, and that would be all for today."));
          assert.equal(agent[agent.length - 1], 'Goodbye!');
        }
      },
    );
  });
}

test('[gemini] goAway: the session is resumed on a new connection without losing the conversation', async () => {
  await withStack(
    {
      engine: 'gemini',
      script: () => ({ steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { pauseMs: 1200 }, { say: 'Sure, what would you like?' }, { waitForAgent: true, quietMs: 300, timeoutMs: 6000 }] }),
      conversation: conversation([{ say: GREETING }, { say: 'One biryani, bye!', call: { name: 'end_call', args: {} } }], ['Hello?', 'Sure, what would you like?'], { goAwayAfterMs: 2500 }),
    },
    async (stack) => {
      const id = await stack.placeCall();
      const call = await stack.waitForEnd(id, 30_000);
      const events = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
      assert.match(events, /"type":"engine\.resumed","data":\{"reason":"goAway/);
      assert.equal(call.endReason, 'agent-hangup');
      assert.deepEqual(call.transcript.map((t: any) => t.speaker), ['callee', 'agent', 'callee', 'agent']);
      assert.ok((stack.gemini as any).connections >= 2);
    },
  );
});

test('the engine can be chosen per call, whatever AI_PROVIDER says', async () => {
  await withStack(
    { engine: 'openai', script: () => ({ steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { hangup: true }] }), conversation: conversation([{ say: GREETING }], ['Hello?']) },
    async (stack) => {
      const id = await stack.placeCall({ provider: 'gemini' });
      const call = await stack.waitForEnd(id);
      assert.equal(call.provider, 'gemini');
      assert.equal(stack.gemini.sessions.length, 1);
      assert.equal(stack.openai.sessions.length, 0);
      assert.equal(call.transcript.find((t: any) => t.speaker === 'agent')?.text, GREETING);
    },
  );
});

test('the cascade can be chosen per call too, with no AI key of its own', async () => {
  await withStack(
    { engine: 'openai', script: () => ({ steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { hangup: true }] }), conversation: conversation([{ say: GREETING }], ['Hello?']) },
    async (stack) => {
      const id = await stack.placeCall({ provider: 'cascade' });
      const call = await stack.waitForEnd(id);
      assert.equal(call.provider, 'cascade');
      assert.equal(stack.openai.sessions.length, 0);
      assert.ok(stack.cascade.llm.length >= 1);
      assert.equal(call.transcript.find((t: any) => t.speaker === 'agent')?.text, GREETING);
    },
  );
});
