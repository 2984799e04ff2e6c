/**
 * The cascade engine (AI_PROVIDER=cascade) through the real server, the Twilio simulator and the
 * simulated STT, LLM and TTS servers (test/sim/cascade), with the real Silero VAD deciding the turns:
 * a full call (greeting, a question answered with lookup_context, end_call), barge-in with the LLM's
 * memory cut to what the callee heard, and the cost on the record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack, timelineOf } from './helpers.js';
import { startCascadeSim, cascadeEnv, type CascadeSim } from '../sim/cascade/index.js';
import type { ChatRequest, LlmTurn } from '../sim/cascade/llm.js';

const GREETING = "Hi, I'm an AI assistant calling on behalf of Raju Kumar.";

/**
 * A scripted LLM that answers by what it was sent, not by how many requests came: replies prepared at a
 * pause and then dropped are requests too. `answers` maps the callee's last words (or `tool` after a tool
 * result) to the reply; anything else (the opening cue) gets `first`.
 */
function byContent(first: LlmTurn, answers: Record<string, LlmTurn>, seen: ChatRequest[]) {
  return (_i: number, body: ChatRequest): LlmTurn => {
    seen.push(body);
    const last = body.messages.at(-1)!;
    if (last.role === 'tool') return answers.tool ?? { say: 'Okay.' };
    return answers[String(last.content)] ?? first;
  };
}
const lastUser = (b: ChatRequest) => b.messages.at(-1)?.content;

async function withCascade(o: Parameters<typeof startCascadeSim>[0], fn: (sim: CascadeSim) => Promise<void>): Promise<void> {
  const sim = await startCascadeSim({ msPerChar: 20, ...o });
  try {
    await fn(sim);
  } finally {
    await sim.close();
  }
}

test('cascade: a full call, greeting, a question answered from the client profile with lookup_context, goodbye and end_call, priced per stage', async () => {
  const seen: ChatRequest[] = [];
  const reply = byContent(
    { say: GREETING },
    {
      'When can you pick it up?': { say: 'Let me check.', call: { name: 'lookup_context', args: { query: 'preferred pickup' } } },
      tool: { say: 'Pickup in the evening works best.' },
      'Great, bye.': { say: 'Thank you, goodbye!', call: { name: 'end_call', args: { reason: 'done' } } },
    },
    seen,
  );
  await withCascade(
    { shape: 'whole', reasoning: 'think-tags', rejectToolChoice: true, transcripts: ['Hello?', 'When can you pick it up?', 'Great, bye.'], reply },
    async (sim) =>
      withStack(
        {
          script: () => ({
            steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { say: 'When can you pick it up?' }, { waitForAgent: true, quietMs: 3000 }, { say: 'Great, bye.' }, { waitForAgent: true, quietMs: 300, timeoutMs: 5000 }],
          }),
          env: { ...cascadeEnv(sim), LLM_PRICE_INPUT_PER_MTOK: '2', LLM_PRICE_OUTPUT_PER_MTOK: '8', STT_PRICE_PER_MINUTE: '0.006' },
        },
        async (stack) => {
          const id = await stack.placeCall();
          const call = await stack.waitForEnd(id, 30_000);
          assert.equal(call.endReason, 'agent-hangup');
          assert.deepEqual(
            call.transcript.map((t: any) => [t.speaker, t.text]),
            [
              ['callee', 'Hello?'],
              ['agent', GREETING],
              ['callee', 'When can you pick it up?'],
              ['agent', 'Let me check.'],
              ['agent', 'Pickup in the evening works best.'],
              ['callee', 'Great, bye.'],
              ['agent', 'Thank you, goodbye!'],
            ],
          );
          assert.deepEqual(call.toolCalls.map((t: any) => t.name), ['lookup_context', 'end_call']);
          // The tool's result went back to the LLM right after its call, and the profile had the answer.
          const after = seen.find((b) => b.messages.at(-1)?.role === 'tool')!.messages;
          const callAt = after.findIndex((m) => m.tool_calls?.[0]?.function.name === 'lookup_context');
          assert.equal(after[callAt + 1].role, 'tool');
          assert.equal(after[callAt + 1].tool_call_id, after[callAt].tool_calls![0].id);
          assert.match(String(after[callAt + 1].content), /evenings/);
          // The product's tools, no tool_choice, thinking never spoken.
          assert.ok(seen[0].tools!.some((t) => t.function.name === 'end_call') && seen[0].tools!.some((t) => t.function.name === 'lookup_context'));
          assert.ok(sim.tts.every((r) => !/think|callee asked/i.test(r.input)), 'no reasoning reached the TTS');
          // The callee's words went to the STT as 16 kHz WAV (the start of a turn may go first, for a
          // reply prepared at a pause).
          assert.ok(sim.stt.length >= 3);
          assert.ok(sim.stt.every((r) => r.wav.sampleRate === 16000 && r.wav.samples > 16000 * 0.3));
          // Mu-law to the carrier: the goodbye played to the end before the hang-up.
          const stream = stack.twilio.calls[0].streams[0];
          assert.equal(stream.clears.length, 0);
          assert.equal(stack.twilio.calls[0].hangupBy, 'api');

          const cost = call.cost;
          const line = (re: RegExp) => cost.lines.find((l: any) => re.test(l.item));
          const llmIn = line(/^llm llm-sim text input$/);
          assert.ok(llmIn.quantity > 0);
          assert.equal(llmIn.amount, Math.round(llmIn.quantity * 2e-6 * 1e6) / 1e6);
          const stt = line(/^stt whisper-sim audio seconds$/);
          assert.ok(stt.quantity > 1);
          assert.equal(stt.unitPrice, 0.006 / 60);
          const tts = line(/^tts tts-sim characters$/);
          assert.equal(tts.quantity, sim.tts.reduce((a, r) => a + r.input.length, 0));
          assert.equal(tts.amount, 0, 'a local TTS costs nothing');
          assert.deepEqual(cost.unpriced, []);
        },
      ),
  );
});

const LONG_GREETING =
  "Hi, I'm an AI assistant calling on behalf of Raju Kumar. I'd like to place an order for pickup this evening, one chicken biryani, mild, with an extra raita on the side. I can confirm the pickup time once we are done.";

test('cascade barge-in: the carrier is cleared, the reply cancelled, and the LLM then sees only what the callee heard', async () => {
  const seen: ChatRequest[] = [];
  const reply = byContent({ say: LONG_GREETING }, { 'Sorry, who is this?': { say: "I'm Raju's assistant." }, 'Okay, bye.': { say: 'Goodbye!', call: { name: 'end_call', args: {} } } }, seen);
  await withCascade({ transcripts: ['Hello?', 'Sorry, who is this?', 'Okay, bye.'], reply }, async (sim) =>
    withStack(
      {
        script: () => ({ steps: [{ say: 'Hello?' }, { waitAgentPlayedMs: 2500 }, { say: 'Sorry, who is this?' }, { waitForAgent: true, quietMs: 300 }, { say: 'Okay, bye.' }, { waitForAgent: true, quietMs: 300, timeoutMs: 5000 }] }),
        env: cascadeEnv(sim),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 30_000);
        const stream = stack.twilio.calls[0].streams[0];
        assert.equal(stream.clears.length, 1, 'exactly one clear');
        assert.ok(stream.clears[0].segmentPlayedMs >= 2500, `heard ${stream.clears[0].segmentPlayedMs} ms`);
        // The greeting is the call's first agent audio: all the stream played before the clear was heard of it.
        const played = stream.clears[0].playedMs;

        const greeting = call.transcript.find((t: any) => t.speaker === 'agent');
        assert.ok(greeting.interrupted, 'the greeting is marked as cut');
        assert.ok(LONG_GREETING.startsWith(greeting.interrupted.heardText));
        // The LLM's next request holds the greeting as heard: whole clauses played, and the heard share
        // of the clause cut (20 ms of speech per character in the simulator).
        const after = seen.find((b) => lastUser(b) === 'Sorry, who is this?')!;
        assert.ok(after, `a request answering the callee: ${JSON.stringify({ asked: seen.map(lastUser), transcript: call.transcript.map((t: any) => [t.speaker, t.text]), stt: sim.stt.length })}`);
        const remembered = String(after.messages.find((m) => m.role === 'assistant')?.content);
        assert.ok(LONG_GREETING.startsWith(remembered), remembered);
        assert.ok(remembered.length < LONG_GREETING.length);
        assert.ok(Math.abs(remembered.length - played / 20) <= 12, `${remembered.length} chars remembered for ${played} ms heard`);
        assert.equal(after.messages.filter((m) => m.role === 'assistant').length, 1);
        const events = await timelineOf(stack, id);
        assert.ok(events.some((e) => e.type === 'agent.interrupted' && e.data.cause === 'callee'));
        assert.ok(sim.llm.length >= 2);
        assert.deepEqual(
          call.transcript.filter((t: any) => t.speaker === 'callee').map((t: any) => t.text),
          ['Hello?', 'Sorry, who is this?', 'Okay, bye.'],
        );
      },
    ),
  );
});
