import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FULL_CONVERSATION, withStack, until, assertTranscriptIsWhatWasSaid, storedTimeline } from './helpers.js';

const BAD_TO = '+14155550199';


test('a media stream that is not mu-law 8 kHz mono is refused and its call ends as media-error, saying what arrived; a concurrent call is unaffected', async () => {
  await withStack(
    {
      // The first call's stream announces 16-bit linear PCM at 16 kHz; the second is an ordinary call.
      script: (p) => (p.To === BAD_TO ? { ...FULL_CONVERSATION.script, mediaFormat: { encoding: 'audio/x-l16', sampleRate: 16000, channels: 1 } } : FULL_CONVERSATION.script),
      scenario: () => FULL_CONVERSATION.scenario,
    },
    async (stack) => {
      const bad = await stack.placeCall({ to: BAD_TO });
      // The good call's session is the second: its engine session opens at creation, before either stream.
      await until('the first call\'s engine session', () => stack.openai.sessions.length === 1);
      const good = await stack.placeCall();
      const [cb, cg] = await Promise.all([stack.waitForEnd(bad, 30_000), stack.waitForEnd(good, 30_000)]);

      assert.equal(cb.endReason, 'media-error');
      assert.match(cb.error, /media stream format audio\/x-l16, 16000 Hz, 1 channel is not supported/);
      assert.deepEqual(cb.transcript, [], 'nothing was bridged');
      assert.equal(stack.openai.sessions[0].inputAudioMs, 0, 'no audio reached the voice engine');
      const refused = (await storedTimeline(stack, bad)).filter((e) => e.type === 'error' && e.data.code === 'media_format_unsupported');
      assert.equal(refused.length, 1);
      assert.deepEqual(refused[0].data.mediaFormat, { encoding: 'audio/x-l16', sampleRate: 16000, channels: 1 });
      assert.equal(refused[0].data.fatal, true);
      const twBad = stack.twilio.calls.find((c) => c.params.To === BAD_TO)!;
      assert.ok(twBad.log.some((e) => e.type === 'stream-closed' && e.code === 1003), 'the stream was closed as unsupported data');
      assert.equal(twBad.hangupBy, 'api', 'the carrier call was hung up, not left open');

      assert.equal(cg.endReason, 'agent-hangup');
      assertTranscriptIsWhatWasSaid(cg, stack.openai.sessions[1], FULL_CONVERSATION.scenario.userTranscripts, 'the concurrent call');
      assert.ok(!(await storedTimeline(stack, good)).some((e) => e.type === 'error'));
    },
  );
});
