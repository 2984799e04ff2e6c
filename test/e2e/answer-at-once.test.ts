/**
 * Answer at once: a callee who says "Hello?" is greeted as soon as their turn ends, whenever the
 * answering-machine verdict comes; the verdict is a veto that stops the agent mid-greeting. Measured on
 * the Twilio simulator's line clock (media time), on every engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack, FAST, ENGINES } from './helpers.js';
import type { CalleeScript, SimCall } from '../sim/twilio/index.js';

const GREETING = "Hi, I'm an AI assistant calling on behalf of Raju Kumar.";
const LONG_GREETING =
  "Hi, I'm an AI assistant calling on behalf of Raju Kumar. I'd like to place an order for pickup this evening, one chicken biryani, mild, with an extra raita on the side, please.";
/** End-of-turn silence as both engine simulators apply it (the bridge passes VAD_SILENCE_MS to them). */
const VAD_SILENCE_MS = Number(FAST.env!.VAD_SILENCE_MS);
/**
 * The engine simulators answer without a think time, and the cascade's stage simulators (STT, LLM, TTS)
 * are given no delays here: every engine's response latency is 0, so the bar is the same for all.
 */
const ENGINE_RESPONSE_LATENCY_MS = 0;
const BAR_MS = VAD_SILENCE_MS + ENGINE_RESPONSE_LATENCY_MS + 100;

/** Media time at which the callee finished the `index`-th step's utterance. */
function saidEndMs(call: SimCall, index = 0): number {
  const e = call.log.find((l) => l.type === 'callee-said' && l.index === index);
  assert.ok(e, 'the callee spoke');
  return e.lineMs as number;
}

function verdictMs(call: SimCall): number {
  const e = call.log.find((l) => l.type === 'amd');
  assert.ok(e, 'the verdict was sent');
  return e.durationMs as number;
}

async function timeline(stack: { api(m: string, p: string): Promise<{ body: any }> }, id: string): Promise<string> {
  return (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
}

for (const engine of ENGINES) {
  test(`[${engine}] "Hello?" is answered within end-of-turn silence + 100 ms, with the verdict at 1, 2.5 or 4 s`, async () => {
    const delays = [1000, 2500, 4000];
    let n = 0;
    await withStack(
      {
        engine,
        script: () => ({ answeredBy: 'human', amdDelayMs: delays[n++], steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { hangup: true }] }),
        conversation: () => ({ turns: [{ say: GREETING }], userTranscripts: ['Hello?'] }),
      },
      async (stack) => {
        const measured: string[] = [];
        for (const [i, delay] of delays.entries()) {
          const id = await stack.placeCall();
          const call = await stack.waitForEnd(id, 20_000);
          const tw = stack.twilio.calls[i];
          assert.equal(call.endReason, 'callee-hangup');
          assert.ok(tw.firstAgentAudioLineMs !== null, 'the agent spoke');
          const gap = tw.firstAgentAudioLineMs - saidEndMs(tw);
          measured.push(`verdict ${delay} ms: ${gap} ms`);
          assert.ok(gap >= 0, `the agent waited for the callee (gap ${gap} ms)`);
          assert.ok(gap <= BAR_MS, `end of "Hello?" to first agent audio: ${gap} ms > ${BAR_MS} ms (verdict at ${delay} ms)`);
          assert.deepEqual(
            call.transcript.map((t: any) => [t.speaker, t.text]),
            [
              ['callee', 'Hello?'],
              ['agent', GREETING],
            ],
          );
          assert.match(await timeline(stack, id), /"type":"greeting\.start","data":\{"reason":"end-of-turn"/);
        }
        console.log(`[${engine}] end of "Hello?" -> first agent audio: ${measured.join(', ')} (bar ${BAR_MS} ms)`);
      },
    );
  });

  test(`[${engine}] a machine verdict mid-greeting stops the agent at once and ends the call as voicemail`, async () => {
    await withStack(
      {
        engine,
        // A machine that answers with a short "Hello?": the agent starts greeting, then the verdict comes.
        script: () => ({ answeredBy: 'machine_start', greetingMs: 0, amdDelayMs: 2500, steps: [{ say: 'Hello?' }] }),
        conversation: () => ({ turns: [{ say: LONG_GREETING }], userTranscripts: ['Hello?'] }),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 20_000);
        const tw = stack.twilio.calls[0];
        assert.equal(call.endReason, 'voicemail');
        assert.equal(call.answeredBy, 'machine_start');
        const verdict = verdictMs(tw);
        assert.ok(tw.firstAgentAudioLineMs !== null && tw.firstAgentAudioLineMs < verdict, 'the agent was greeting when the verdict came');
        assert.equal(tw.streams[0].clears.length, 1, 'the carrier buffer was cleared');
        const after = tw.lastAgentAudioLineMs! - verdict;
        assert.ok(after <= 100, `agent audio went on ${after} ms after the verdict`);
        assert.ok(tw.streams[0].agentPlayedMs * 8 < tw.agentAudioBytesReceived, 'queued agent audio was dropped');
        const events = await timeline(stack, id);
        assert.match(events, /"type":"amd\.veto","data":\{"answeredBy":"machine_start"/);
        assert.match(events, /"type":"agent\.interrupted","data":\{"cause":"answering-machine"/, 'the cut is put down to the machine, not the callee');
        // What the machine heard is what the transcript keeps.
        const agent = call.transcript.filter((t: any) => t.speaker === 'agent');
        assert.equal(agent.length, 1, 'the greeting is in the transcript');
        assert.ok(agent[0].interrupted && agent[0].interrupted.heardMs > 0 && agent[0].interrupted.heardMs < agent[0].interrupted.totalMs, 'cut where the machine stopped hearing it');
        console.log(`[${engine}] machine verdict at ${verdict} ms: last agent audio ${after} ms later; heard ${agent[0].interrupted.heardMs} of ${agent[0].interrupted.totalMs} ms`);
      },
    );
  });

  test(`[${engine}] a machine_end_other verdict (often a phone menu) does not hang up`, async () => {
    await withStack(
      {
        engine,
        script: () => ({ answeredBy: 'machine_end_other', greetingMs: 0, amdDelayMs: 2500, steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { pauseMs: 1500 }, { hangup: true }] }),
        conversation: () => ({ turns: [{ say: GREETING }], userTranscripts: ['Hello?'] }),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 20_000);
        assert.equal(call.endReason, 'callee-hangup');
        assert.equal(call.answeredBy, 'machine_end_other');
        assert.equal(stack.twilio.calls[0].hangupBy, 'callee');
        const events = await timeline(stack, id);
        assert.match(events, /"type":"amd\.menuSuspected","data":\{"answeredBy":"machine_end_other"/);
        assert.ok(call.transcript.some((t: any) => t.speaker === 'agent' && t.text === GREETING && !t.interrupted));
      },
    );
  });

  test(`[${engine}] a long opening waits for the verdict; a person verdict long after it still gets the greeting`, async () => {
    // 3 s of speech is no "Hello?": the gate holds until the verdict (at 7 s), by which time the opening
    // is older than anything an engine keeps from before the greeting.
    await withStack(
      {
        engine,
        script: () => ({ answeredBy: 'human', amdDelayMs: 7000, steps: [{ say: 'Good afternoon, you have reached the front desk of the Raju household.', durationMs: 3000 }, { waitForAgent: true, quietMs: 300, timeoutMs: 10_000 }, { hangup: true }] }),
        conversation: () => ({ turns: [{ say: GREETING }] }),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 20_000);
        const tw = stack.twilio.calls[0];
        assert.equal(call.endReason, 'callee-hangup');
        assert.ok(tw.firstAgentAudioLineMs !== null && tw.firstAgentAudioLineMs >= verdictMs(tw), `greeted at ${tw.firstAgentAudioLineMs} ms, after the verdict`);
        assert.ok(!tw.log.some((l) => l.type === 'callee-timeout'), 'the callee heard the greeting');
        const events = await timeline(stack, id);
        assert.match(events, /"type":"greeting\.held"/);
        assert.match(events, /"type":"greeting\.start","data":\{"reason":"verdict"/);
      },
    );
  });

  test(`[${engine}] a callee who says nothing is greeted after about 2 s of silence, not after the verdict`, async () => {
    const script: CalleeScript = { answeredBy: 'unknown', amdDelayMs: 20_000, steps: [{ waitForAgent: true, quietMs: 300 }, { hangup: true }] };
    await withStack(
      { engine, env: { GREETING_SILENCE_MS: '2000' }, script: () => script, conversation: () => ({ turns: [{ say: GREETING }] }) },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 20_000);
        assert.equal(call.endReason, 'callee-hangup');
        const first = stack.twilio.calls[0].firstAgentAudioLineMs;
        assert.ok(first !== null && first >= 2000 && first <= 2600, `first agent audio at ${first} ms of the call`);
        assert.deepEqual(call.transcript.map((t: any) => t.speaker), ['agent']);
        assert.match(await timeline(stack, id), /"type":"greeting\.start","data":\{"reason":"silence"/);
      },
    );
  });
}
