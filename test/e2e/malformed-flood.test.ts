import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FULL_CONVERSATION, withStack, until, endedEvents, assertTranscriptIsWhatWasSaid } from './helpers.js';
import type { CalleeStep } from '../sim/twilio/index.js';
import type { Stack } from '../sim/stack.js';

/** Frames Twilio would never send, in every way the codec can reject one. */
function malformed(i: number): string {
  switch (i % 8) {
    case 0:
      return '{"event":"media","media":{"payload":"AAA';
    case 1:
      return `{"event":"bogus-${i}"}`;
    case 2:
      return '{"event":"media","streamSid":"MZ0","media":{"payload":"not base64!!"}}';
    case 3:
      return '[1,2,3]';
    case 4:
      return `{"event":"mark","streamSid":"MZ0","mark":{"name":${i}}}`;
    case 5:
      return '{"event":"dtmf","streamSid":"MZ0","dtmf":{"digit":"xyz"}}';
    case 6:
      return '\u0000\uFFFD\u00e9 not json at all';
    default:
      // Oversized: above the codec's 64 KiB frame limit (the socket itself accepts up to 1 MiB).
      return `{"event":"media","media":{"payload":"${'A'.repeat(70_000)}"}}`;
  }
}

const FLOOD = 4000;
const flood = (from: number, n: number): CalleeStep[] => Array.from({ length: n }, (_, k) => ({ sendRaw: malformed(from + k) }));

async function timeline(stack: Stack, id: string): Promise<Array<{ seq: number; type: string; data: any }>> {
  const text = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
  return [...text.matchAll(/^id: (\d+)\nevent: (\S+)\ndata: (.*)$/gm)].map((m) => ({ seq: Number(m[1]), ...JSON.parse(m[3]) }));
}

// The callee hangs up after the goodbye (rather than the agent's end_call), so every frame it sent
// precedes its `stop` and must have reached the AI: the audio counts below can be compared exactly.
const SCENARIO = { ...FULL_CONVERSATION.scenario, turns: FULL_CONVERSATION.scenario.turns.map(({ say }) => ({ say })) };
const SCRIPT = { steps: [...FULL_CONVERSATION.script.steps, { hangup: true as const }] };

test('a flood of malformed frames on one media stream is dropped and counted; the other live calls lose nothing', async () => {
  const [first, ...rest] = SCRIPT.steps;
  const floodedScript = { steps: [first, ...flood(0, FLOOD / 2), ...rest.slice(0, 2), ...flood(FLOOD / 2, FLOOD / 2), ...rest.slice(2)] };
  let dialled = 0;
  await withStack(
    {
      scenario: () => SCENARIO,
      // The first call placed is the flooded one.
      script: () => (dialled++ === 0 ? floodedScript : SCRIPT),
    },
    async (stack) => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push(await stack.placeCall());
        await until(`engine session ${i}`, () => stack.openai.sessions.length === i + 1);
      }
      const calls = await Promise.all(ids.map((id) => stack.waitForEnd(id, 40_000)));
      const flooded = 0;
      for (const [i, call] of calls.entries()) {
        assert.equal(call.endReason, 'callee-hangup', `call ${i} ended normally`);
        assert.equal(await endedEvents(stack, ids[i]), 1);
      }
      for (const [i, id] of ids.entries()) {
        const tw = stack.twilio.calls.find((c) => c.params.Url?.includes(id))!;
        const session = stack.openai.sessions[i];
        // Every line the callee said, and one agent line per response the AI spoke (the flood slows the event
        // loop the other calls share: turn-taking may differ, nothing may be lost).
        assertTranscriptIsWhatWasSaid(calls[i], session, FULL_CONVERSATION.scenario.userTranscripts, `call ${i}`);
        const stream = tw.streams[0];
        // Callee -> AI: every frame the callee sent reached the AI. AI -> callee: every byte the AI sent reached the callee.
        const appended = session.received.filter((e) => e.type === 'input_audio_buffer.append').length;
        assert.equal(appended, stream.sent.media, `call ${i}: callee frames sent ${stream.sent.media}, reached the AI ${appended}`);
        const aiBytes = session.responses.reduce((n, r) => n + r.audioMsSent * 8, 0);
        assert.equal(tw.agentAudioBytesReceived, aiBytes, `call ${i}: AI audio bytes`);
        const invalidReports = (await timeline(stack, id)).filter((e) => e.type === 'media.invalidFrames');
        if (i !== flooded) {
          assert.equal(invalidReports.length, 0, `call ${i} saw no bad frames`);
          continue;
        }
        // The flooded call's record says what happened, in a few lines rather than thousands.
        const total = invalidReports.reduce((n, e) => n + e.data.count, 0);
        assert.equal(total, FLOOD, 'every malformed frame was counted');
        assert.equal(invalidReports.at(-1)!.data.total, FLOOD);
        assert.ok(invalidReports.length <= 2 + Math.ceil(calls[i].durationSec), `rate-limited: ${invalidReports.length} reports`);
        assert.match(invalidReports[0].data.lastReason, /./);
      }
    },
  );
});
