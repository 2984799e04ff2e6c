/**
 * The cascade engine's per-turn latency breakdown (docs/cascade.md#latency) through the real server, the
 * Twilio simulator and the stage simulator with fixed, known delays: each callee turn the engine answers
 * puts one `turn.latency` event on the call's timeline, its marks in order, and each stage measured at
 * least as long as the simulator was told to take (upper bounds would depend on the machine's load).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack, timelineOf } from './helpers.js';
import { startCascadeSim, cascadeEnv } from '../sim/cascade/index.js';
import type { ChatRequest, LlmTurn } from '../sim/cascade/llm.js';

const STT_MS = 150;
const LLM_FIRST_TOKEN_MS = 300;
const TTS_FIRST_AUDIO_MS = 120;
const SILENCE_MS = 300;
/** Timers and the monotonic clock may disagree by a fraction of a millisecond. */
const SLACK = 1;

test('cascade latency: one turn.latency event per callee turn, marks in order, stage times at least the simulated delays', async () => {
  const answers: Record<string, LlmTurn> = {
    'When can you pick it up?': { say: 'Around seven, if that suits you.' },
    'Great, bye.': { say: 'Thank you, goodbye!', call: { name: 'end_call', args: { reason: 'done' } } },
  };
  const sim = await startCascadeSim({
    msPerChar: 20,
    transcripts: ['Hello?', 'When can you pick it up?', 'Great, bye.'],
    reply: (_i: number, body: ChatRequest) => answers[String(body.messages.at(-1)?.content)] ?? { say: 'Hi, this is Raju’s assistant.' },
    sttDelayMs: STT_MS,
    firstTokenDelayMs: LLM_FIRST_TOKEN_MS,
    ttsFirstAudioDelayMs: TTS_FIRST_AUDIO_MS,
  });
  try {
    await withStack(
      {
        script: () => ({ steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { say: 'When can you pick it up?' }, { waitForAgent: true, quietMs: 300 }, { say: 'Great, bye.' }, { waitForAgent: true, quietMs: 300, timeoutMs: 5000 }] }),
        env: { ...cascadeEnv(sim), VAD_SILENCE_MS: String(SILENCE_MS) },
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 30_000);
        assert.equal(call.endReason, 'agent-hangup');
        const events = await timelineOf(stack, id);
        const reports = events.filter((e) => e.type === 'turn.latency').map((e) => e.data);
        // Every callee turn was answered by the engine itself ("Hello?" by the greeting, once the gate opened).
        const calleeItems = events.filter((e) => e.type === 'transcript' && e.data.speaker === 'callee').map((e) => e.data.itemId);
        assert.equal(calleeItems.length, 3);
        assert.deepEqual(reports.map((r) => r.itemId), calleeItems, JSON.stringify(reports));
        for (const r of reports) {
          const m = r.marks;
          const why = JSON.stringify(r);
          assert.equal(r.silenceMs, SILENCE_MS);
          assert.equal(m.speechEnd, 0);
          // The six marks: the reply's chain in order, and the end of turn before any speech is made.
          for (const [a, b] of [['speechEnd', 'sttFinal'], ['sttFinal', 'llmFirstToken'], ['llmFirstToken', 'ttsFirstAudio'], ['ttsFirstAudio', 'carrierFirstAudio'], ['speechEnd', 'endOfTurn'], ['endOfTurn', 'ttsFirstAudio']]) {
            assert.ok(typeof m[a] === 'number' && typeof m[b] === 'number' && m[a] <= m[b], `${a} <= ${b}: ${why}`);
          }
          // Each stage took at least its simulated time.
          assert.ok(r.stages.stt.end - r.stages.stt.start >= STT_MS - SLACK, why);
          assert.ok(m.llmFirstToken - r.stages.llm.start >= LLM_FIRST_TOKEN_MS - SLACK, why);
          assert.ok(r.stages.llm.end >= m.llmFirstToken, why);
          assert.ok(r.stages.tts.end - r.stages.tts.start >= TTS_FIRST_AUDIO_MS - SLACK, why);
          assert.equal(m.ttsFirstAudio, r.stages.tts.end);
          // The total is the last mark, and the project's share is what the stages and the silence do not cover.
          assert.equal(r.totalMs, m.carrierFirstAudio);
          assert.ok(r.ownMs >= 0 && r.ownMs <= r.totalMs, why);
          // The stages run one after another (the LLM needs the words, the TTS a clause), whatever overlaps the silence.
          assert.ok(r.totalMs >= STT_MS + LLM_FIRST_TOKEN_MS + TTS_FIRST_AUDIO_MS - 3 * SLACK, why);
        }
      },
    );
  } finally {
    await sim.close();
  }
});
