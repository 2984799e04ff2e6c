/**
 * Call-screening assistants (Google Call Screen, iOS "Ask Reason for Calling") are not voicemail: the
 * agent answers who is calling and why, briefly and honestly, and the call goes on when the person picks
 * up. Every engine, through the real server and the simulators.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack } from './helpers.js';
import type { Engine, Stack } from '../sim/stack.js';
import { GREETING_TEXT, PERSON_PICKS_UP, SCREENER_TAKES_MESSAGE, SCREENING_HOLD, SCREENING_PROMPTS, mailbox, screeningAssistant } from '../sim/twilio/index.js';
import type { Conversation } from '../sim/stack.js';

const ANSWER = "I'm an AI assistant calling on behalf of Raju Kumar about his pickup order for tonight.";
const HOLDING = 'Sure, I will hold.';
const TO_PERSON = "Hi Sam, I'm an AI assistant calling for Raju Kumar. He'd like to order one chicken biryani for pickup at seven.";

async function timeline(stack: Stack, id: string): Promise<any[]> {
  const body = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
  return body
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)));
}

// Which verdict: AMD often calls these assistants a machine (README, "Call screening"), sent with
// DetectMessageEnd only once the prompt is over. OpenAI and the cascade hear the opening before the
// greeting, so its transcript wins over a machine verdict. Gemini hears nothing before the greeting: a
// long opening is transcribed aside (a second, transcription-only session), so it does too.
const CASES: Array<{ engine: Engine; answeredBy: 'machine_end_silence' | 'human'; prompt: keyof typeof SCREENING_PROMPTS }> = [
  { engine: 'openai', answeredBy: 'machine_end_silence', prompt: 'google' },
  { engine: 'openai', answeredBy: 'human', prompt: 'ios' },
  { engine: 'cascade', answeredBy: 'machine_end_silence', prompt: 'google' },
  { engine: 'cascade', answeredBy: 'human', prompt: 'ios' },
  { engine: 'gemini', answeredBy: 'human', prompt: 'google' },
  { engine: 'gemini', answeredBy: 'human', prompt: 'pixel' },
  { engine: 'gemini', answeredBy: 'machine_end_silence', prompt: 'google' },
  { engine: 'gemini', answeredBy: 'machine_end_silence', prompt: 'ios' },
];

for (const c of CASES) {
  test(`[${c.engine}] a ${c.prompt} screening assistant (verdict ${c.answeredBy}) gets a short honest answer; the call goes on when the person picks up`, async () => {
    await withStack(
      {
        engine: c.engine,
        // Even with leave-message set, a screener is not a mailbox.
        env: { VOICEMAIL_MODE: 'leave-message' },
        script: () => screeningAssistant({ prompt: c.prompt, answeredBy: c.answeredBy, promptMs: 3000, personAfterMs: 500 }),
        conversation:
          c.engine === 'gemini'
            ? split('gemini', { turns: [{ say: ANSWER }, { say: HOLDING }, { say: TO_PERSON }], userTranscripts: [SCREENING_HOLD, PERSON_PICKS_UP] }, [SCREENING_PROMPTS[c.prompt]])
            : () => ({ turns: [{ say: ANSWER }, { say: HOLDING }, { say: TO_PERSON }], userTranscripts: [SCREENING_PROMPTS[c.prompt], SCREENING_HOLD, PERSON_PICKS_UP] }),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 30_000);
        const tw = stack.twilio.calls[0];
        assert.equal(call.endReason, 'callee-hangup', 'the person hung up at the end, not us');
        assert.ok(!tw.log.some((l) => l.type === 'callee-timeout'), `the callee heard each reply: ${JSON.stringify(tw.log.filter((l) => l.type === 'callee-timeout'))}`);
        assert.deepEqual(
          call.transcript.map((t: any) => [t.speaker, t.text]),
          [
            ['callee', SCREENING_PROMPTS[c.prompt]],
            ['agent', ANSWER],
            ['callee', SCREENING_HOLD],
            ['agent', HOLDING],
            ['callee', PERSON_PICKS_UP],
            ['agent', TO_PERSON],
          ],
        );
        const events = await timeline(stack, id);
        const modes = events.filter((e) => e.type === 'mode.changed').map((e) => `${e.data.to}:${e.data.reason}`);
        assert.ok(modes.includes('screening:screening-assistant'), modes.join(' '));
        assert.equal(modes.at(-2), 'talking:person-answered', modes.join(' '));
        assert.ok(!modes.some((m) => m.startsWith('voicemail')), 'never treated as voicemail');
        if (c.answeredBy !== 'human') {
          assert.ok(events.some((e) => e.type === 'amd.ignored' && e.data.answeredBy === c.answeredBy), 'the machine verdict was set aside');
          // Answered before the verdict came: the agent did not wait for it.
          const verdictMs = tw.log.find((l) => l.type === 'amd')!.durationMs as number;
          assert.ok(tw.firstAgentAudioLineMs! < verdictMs, `answered at ${tw.firstAgentAudioLineMs} ms, verdict at ${verdictMs} ms`);
          const start = events.find((e) => e.type === 'greeting.start');
          assert.equal(start?.data.reason, 'screening');
          assert.match(firstReplyInstructions(stack, c.engine), /call-screening assistant/);
        }
        if (c.engine === 'gemini') {
          // The prompt, longer than a "Hello?", was transcribed aside while it played; the conversation
          // never heard it (no reply of its own to it) and was asked for the answer with its words quoted.
          const [conv, aside] = stack.gemini.sessions;
          assert.match(aside.setup.model, /transcribe-live/);
          assert.equal(aside.turns.length, 0, 'the transcriber never spoke');
          assert.equal(conv.turns[0].trigger, 'clientContent');
          assert.match(conv.clientContents[0].text, /call-screening assistant[\s\S]*What the assistant said/);
          assert.equal(conv.userTurns[0].transcript, SCREENING_HOLD, 'the conversation heard the call from the answer on');
        }
      },
    );
  });
}

/**
 * The instructions the answer to the screener was asked with: OpenAI's first response.create; on the
 * cascade the first chat request that was not cut off (one prepared at the screener's pause, before the
 * bridge knew it for one, is asked again with them).
 */
function firstReplyInstructions(stack: Stack, engine: Engine): string {
  if (engine === 'cascade') return stack.cascade.llm.find((r) => !r.aborted && r.instructions)?.instructions ?? '';
  if (engine === 'gemini') return stack.gemini.sessions[0].clientContents[0]?.text ?? '';
  return stack.openai.sessions[0].responses[0].instructions ?? '';
}

/**
 * Gemini's conversation session hears nothing while a machine verdict stands; the machine's words are
 * transcribed by a second, transcription-only session (the call's second simulator session). What each
 * of them hears, in order: the conversation what comes after the transcribed opening, the transcriber the opening.
 * OpenAI and the cascade hear everything themselves (the cascade with its own transcriber): one conversation.
 */
function split(engine: Engine, conversation: Conversation, opening: string[]): (i: number) => Conversation {
  if (engine !== 'gemini') return () => ({ ...conversation, userTranscripts: [...opening, ...(conversation.userTranscripts ?? [])] });
  return (i) => (i === 0 ? conversation : { turns: [], userTranscripts: opening });
}

// Both plans: a call set to hang up on machines listens to an early verdict's machine first too.
for (const [engine, plan] of [
  ['openai', 'leave-message'],
  ['gemini', 'leave-message'],
  ['cascade', 'leave-message'],
  ['gemini', 'hangup'],
  ['openai', 'hangup'],
  ['cascade', 'hangup'],
] as Array<[Engine, 'hangup' | 'leave-message']>) {
  test(`[${engine}] AMD says machine before the screener has finished speaking (VOICEMAIL_MODE=${plan}): its words are still transcribed, and it gets its answer`, async () => {
    const promptMs = 3000;
    // Twilio's machine_start comes while the prompt is still playing.
    const verdictAt = 1500;
    await withStack(
      {
        engine,
        env: { VOICEMAIL_MODE: plan },
        script: () => ({ ...screeningAssistant({ prompt: 'google', promptMs, personAfterMs: 500 }), answeredBy: 'machine_start', amdDelayMs: verdictAt }),
        conversation: split(engine, { turns: [{ say: ANSWER }, { say: HOLDING }, { say: TO_PERSON }], userTranscripts: [SCREENING_HOLD, PERSON_PICKS_UP] }, [SCREENING_PROMPTS.google]),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 30_000);
        const tw = stack.twilio.calls[0];
        assert.equal(call.endReason, 'callee-hangup', 'the person hung up at the end, not us');
        assert.deepEqual(
          call.transcript.map((t: any) => [t.speaker, t.text]),
          [
            ['callee', SCREENING_PROMPTS.google],
            ['agent', ANSWER],
            ['callee', SCREENING_HOLD],
            ['agent', HOLDING],
            ['callee', PERSON_PICKS_UP],
            ['agent', TO_PERSON],
          ],
        );
        const events = await timeline(stack, id);
        const modes = events.filter((e) => e.type === 'mode.changed').map((e) => `${e.data.to}:${e.data.reason}`);
        assert.deepEqual(modes.slice(0, 2), ['voicemail:answering-machine', 'screening:screening-assistant'], modes.join(' '));
        assert.equal(modes.at(-2), 'talking:person-answered', modes.join(' '));
        assert.ok(events.some((e) => e.type === 'amd.ignored' && e.data.answeredBy === 'machine_start' && e.data.heardAfterVerdict), 'the verdict was set aside');
        assert.ok(!events.some((e) => e.type === 'voicemail.message'), 'no voicemail message was left');
        assert.equal(events.find((e) => e.type === 'greeting.start')?.data.reason, 'screening');
        // Nothing was said over the prompt: the answer came after it.
        const promptEndMs = tw.log.find((l) => l.type === 'callee-said')!.lineMs as number;
        const verdictMs = tw.log.find((l) => l.type === 'amd')!.durationMs as number;
        assert.ok(verdictMs < promptEndMs, `the verdict (${verdictMs} ms) came mid-prompt (its end: ${promptEndMs} ms)`);
        assert.ok(tw.firstAgentAudioLineMs! >= promptEndMs, `answered at ${tw.firstAgentAudioLineMs} ms, after the prompt (${promptEndMs} ms)`);
        if (engine === 'gemini') {
          const [conv, transcriber] = stack.gemini.sessions;
          assert.match(transcriber.setup.model, /transcribe-live/);
          assert.equal(transcriber.turns.length, 0, 'the transcriber never spoke');
          assert.equal(transcriber.userTurns[0].transcript, SCREENING_PROMPTS.google);
          // The conversation did not hear the prompt: the answer was asked for with its words quoted.
          assert.equal(conv.turns[0].trigger, 'clientContent');
          assert.match(conv.clientContents[0].text, /call-screening assistant[\s\S]*screening service from Google/);
          assert.equal(conv.userTurns[0].transcript, SCREENING_HOLD, 'the conversation hears the call again once the screener is known');
        } else if (engine === 'cascade') {
          // Its own transcriber heard the prompt under the verdict (no second session): the answer's request
          // carries the prompt as the callee's turn, and the screener's instructions.
          const answer = stack.cascade.llm.find((r) => !r.aborted && /call-screening assistant/.test(r.instructions ?? ''));
          assert.ok(answer, JSON.stringify(stack.cascade.llm.map((r) => [r.aborted, r.instructions])));
          assert.deepEqual(answer.body.messages.filter((m) => m.role === 'user').map((m) => m.content), [SCREENING_PROMPTS.google]);
          assert.equal(stack.cascade.stt.length >= 3, true, 'the prompt, the hold line and the person were transcribed');
        } else {
          assert.match(firstReplyInstructions(stack, engine), /call-screening assistant/);
        }
      },
    );
  });
}

const MESSAGE = 'This is the assistant of Raju Kumar about his pickup order. Please call Raju back. Thank you!';

test('[gemini] a mailbox under an early machine verdict: its greeting is transcribed, never answered, and the message follows the beep', async () => {
  await withStack(
    {
      engine: 'gemini',
      script: () => mailbox({ answeredBy: 'machine_start', amdDelayMs: 1000, greetingMs: 4000 }),
      conversation: split('gemini', { turns: [{ say: MESSAGE }] }, [GREETING_TEXT]),
    },
    async (stack) => {
      const id = await stack.placeCall({ voicemail: { action: 'leave-message', message: MESSAGE } });
      const call = await stack.waitForEnd(id, 30_000);
      const tw = stack.twilio.calls[0];
      assert.equal(call.endReason, 'voicemail-left');
      assert.equal(tw.mailbox?.agentMsOverGreeting, 0, 'nothing said over the greeting');
      assert.deepEqual(
        call.transcript.map((t: any) => [t.speaker, t.text]),
        [
          ['callee', GREETING_TEXT],
          ['agent', MESSAGE],
        ],
      );
      const events = await timeline(stack, id);
      assert.equal(events.find((e) => e.type === 'voicemail.message')?.data.trigger, 'beep');
      assert.ok(!events.some((e) => e.type === 'screening.detected'));
      const [conv, transcriber] = stack.gemini.sessions;
      assert.match(transcriber.setup.model, /transcribe-live/);
      assert.equal(transcriber.turns.length, 0);
      // The conversation heard none of the greeting: its only turn is the message, asked for after the beep.
      assert.deepEqual(conv.turns.map((t) => t.trigger), ['clientContent']);
      assert.equal(conv.userTurns.length, 0);
    },
  );
});

for (const c of [
  { engine: 'openai' as Engine, answeredBy: 'machine_end_silence' as const },
  { engine: 'gemini' as Engine, answeredBy: 'human' as const },
  { engine: 'cascade' as Engine, answeredBy: 'machine_end_silence' as const },
]) {
  test(`[${c.engine}] a screener that ends in message-taking gets the voicemail message after its beep`, async () => {
    await withStack(
      {
        engine: c.engine,
        script: () => screeningAssistant({ prompt: 'pixel', answeredBy: c.answeredBy, promptMs: 3000, personAfterMs: 500, takesMessage: true }),
        // The reply the engine may start to the message-taking line is cut; each later turn is the message.
        conversation: () => ({ turns: [{ say: ANSWER }, { say: HOLDING }, { say: MESSAGE }, { say: MESSAGE }], userTranscripts: [SCREENING_PROMPTS.pixel, SCREENING_HOLD, SCREENER_TAKES_MESSAGE] }),
      },
      async (stack) => {
        const id = await stack.placeCall({ voicemail: { action: 'leave-message', message: MESSAGE } });
        const call = await stack.waitForEnd(id, 30_000);
        const tw = stack.twilio.calls[0];
        assert.equal(call.endReason, 'voicemail-left');
        assert.equal(tw.hangupBy, 'api');
        const agent = call.transcript.filter((t: any) => t.speaker === 'agent');
        assert.deepEqual(agent.slice(0, 2).map((t: any) => t.text), [ANSWER, HOLDING]);
        assert.equal(agent.at(-1).text, MESSAGE);
        assert.ok(!agent.at(-1).interrupted, 'the message was heard in full');
        assert.ok(tw.mailbox && tw.mailbox.agentMsRecorded >= MESSAGE.length * 20 - 40, `recorded ${tw.mailbox?.agentMsRecorded} ms`);
        const events = await timeline(stack, id);
        const modes = events.filter((e) => e.type === 'mode.changed').map((e) => `${e.data.to}:${e.data.answeredBy ?? e.data.reason}`);
        // Its words or its beep, whichever the bridge has first, hand it to voicemail handling.
        assert.ok(modes.includes('voicemail:screener-took-message') || modes.includes('voicemail:beep-after-screening'), modes.join(' '));
        assert.equal(events.find((e) => e.type === 'voicemail.message')?.data.trigger, 'beep');
      },
    );
  });
}

/** Every reply's own instructions the engine was asked with: OpenAI's response.create, the cascade's chat requests (cut ones too). */
function replyInstructions(stack: Stack, engine: Engine): string[] {
  if (engine === 'cascade') return stack.cascade.llm.map((r) => r.instructions ?? '');
  return stack.openai.sessions[0].responses.map((r) => r.instructions ?? '');
}

// Engines that hear the greeting themselves. Its transcript sounds like a screener; the beep right after it
// makes it a mailbox, whichever the bridge has first (the cascade's can come while the beep still plays).
for (const engine of ['openai', 'cascade'] as Engine[]) {
  test(`[${engine}] a mailbox whose greeting asks for a name and reason is still a mailbox: the beep decides`, async () => {
    const greeting = "You've reached Doctor Smith's office. Please state your name and the reason for your call.";
    await withStack(
      {
        engine,
        script: () => ({ answeredBy: 'machine_end_beep', greetingMs: 0, amdDelayMs: 6000, steps: [{ say: greeting, durationMs: 3000 }, { beep: { hz: 1000, durationMs: 400 } }] }),
        conversation: () => ({ turns: [{ say: MESSAGE }, { say: MESSAGE }], userTranscripts: [greeting] }),
      },
      async (stack) => {
        const id = await stack.placeCall({ voicemail: { action: 'leave-message', message: MESSAGE } });
        const call = await stack.waitForEnd(id, 30_000);
        const tw = stack.twilio.calls[0];
        assert.equal(call.endReason, 'voicemail-left');
        assert.equal(tw.mailbox?.agentMsOverGreeting, 0, 'nothing said over the greeting');
        const agent = call.transcript.filter((t: any) => t.speaker === 'agent');
        assert.deepEqual(agent.map((t: any) => t.text), [MESSAGE]);
        assert.ok(!replyInstructions(stack, engine).some((i) => /call-screening assistant/.test(i)), 'no screening answer was asked for');
        // The transcript made it look like a screener; the beep just before it settled it.
        const modes = (await timeline(stack, id)).filter((e) => e.type === 'mode.changed').map((e) => `${e.data.to}:${e.data.answeredBy ?? e.data.reason}`);
        assert.ok(modes.includes('voicemail:beep-after-screening'), modes.join(' '));
      },
    );
  });
}
