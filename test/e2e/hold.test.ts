/**
 * Hold, through the real server on both engines: the callee asks us to hold (or music starts), hold
 * music with recorded announcements plays, and a person comes back; or nobody does and the hold limit
 * ends the call politely. The engine must stay silent on hold, hear only speech, and resume with one
 * reminder of why we called.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack, ENGINES } from './helpers.js';
const GREETING = "Hi, I'm an AI assistant calling on behalf of Raju Kumar.";
const ACK = "Sure, I'll hold.";
const REMINDER = "Hi Sam, thanks. I'm calling for Raju Kumar to order one chicken biryani for pickup at seven.";
const BYE = 'Perfect, thank you. Goodbye!';
const ANNOUNCEMENT = 'Please continue to hold.';
const PERSON = 'Thanks for holding, this is Sam, how can I help?';

async function events(stack: any, id: string): Promise<Array<{ type: string; data: any; at: string }>> {
  const text = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
  return text
    .split('\n\n')
    .map((block) => {
      const data = block.split('\n').find((l) => l.startsWith('data: '));
      const type = block.split('\n').find((l) => l.startsWith('event: '))?.slice(7);
      return type && data ? { type, ...JSON.parse(data.slice(6)) } : undefined;
    })
    .filter(Boolean) as any;
}

for (const engine of ENGINES) {
  test(`[${engine}] "please hold": silent through music and announcements, one reminder when a person is back`, async () => {
    await withStack(
      {
        engine,
        script: () => ({
          steps: [
            { say: 'Hello?' },
            { waitForAgent: true, quietMs: 300 },
            { say: 'Please hold.' },
            { waitForAgent: true, quietMs: 300 },
            { holdMs: 12_000, announcement: ANNOUNCEMENT, announceEveryMs: 5000 },
            { say: PERSON },
            { waitForAgent: true, quietMs: 300 },
            { say: 'Okay, one chicken biryani at seven.' },
            { waitForAgent: true, quietMs: 300, timeoutMs: 8000 },
          ],
        }),
        conversation: () => ({
          turns: [{ say: GREETING }, { say: ACK }, { say: REMINDER }, { say: BYE, call: { name: 'end_call', args: { reason: 'order placed' } } }],
          // OpenAI transcribes what it hears on hold (the music's onset, two announcements, the person);
          // Gemini hears nothing on hold; the cascade's transcriber is sent the speech on hold and
          // transcribes what each file holds.
          userTranscripts:
            engine === 'openai'
              ? ['Hello?', 'Please hold.', '(music)', ANNOUNCEMENT, PERSON, 'Okay, one chicken biryani at seven.']
              : engine === 'cascade'
                ? ['Hello?', 'Please hold.', ANNOUNCEMENT, PERSON, 'Okay, one chicken biryani at seven.']
                : ['Hello?', 'Please hold.', 'Okay, one chicken biryani at seven.'],
          transcribeBySound: engine === 'cascade',
        }),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 45_000).catch(async (err) => {
          if (process.env.HOLD_DEBUG) for (const e of await events(stack, id)) if (e.type !== 'usage') console.log(e.at, e.type, JSON.stringify(e.data));
          throw err;
        });
        const ev = await events(stack, id);
        if (process.env.HOLD_DEBUG) for (const e of ev) if (e.type !== 'usage') console.log(e.at, e.type, JSON.stringify(e.data));
        const modes = ev.filter((e) => e.type === 'mode.changed').map((e) => [e.data.to, e.data.reason]);
        assert.deepEqual(modes.slice(0, 3), [['talking', modes[0][1]], ['on-hold', 'asked'], ['talking', 'person-returned']]);
        assert.equal(call.endReason, 'agent-hangup');
        const agent = call.transcript.filter((t: any) => t.speaker === 'agent').map((t: any) => t.text);
        assert.deepEqual(agent, [GREETING, ACK, REMINDER, BYE], 'one reminder, nothing said on hold');
        // Nothing reached the callee during the hold (the acknowledgement ends right after it starts).
        const tw = stack.twilio.calls[0];
        const hold = tw.log.find((l) => l.type === 'callee-hold-end')!;
        assert.ok((hold.lastAgentPlayMs as number) < (hold.startMs as number) + 2000, `agent heard at ${hold.lastAgentPlayMs} ms, hold ${hold.startMs}-${hold.lineMs}`);
        const heard = ev.filter((e) => e.type === 'hold.heard').map((e) => e.data.verdict);
        assert.equal(heard.at(-1), 'person');
        assert.ok(heard.slice(0, -1).every((v) => v === 'announcement'), JSON.stringify(heard));
        assert.ok(!ev.some((e) => e.type === 'agent.interrupted'), 'no barge-in on the music');
        const heldMs = (hold.lineMs as number) - (hold.startMs as number);
        if (engine === 'cascade') {
          // Hold is cheap: the transcriber is sent only the lines spoken on hold (each with its pre-roll
          // and silent tail, as for OpenAI below), never the music, and the LLM is not asked at all.
          const holdFrom = Date.parse(ev.find((e) => e.type === 'mode.changed' && e.data.to === 'on-hold')!.at);
          const holdTo = Date.parse(ev.find((e) => e.type === 'mode.changed' && e.data.reason === 'person-returned')!.at);
          const onHold = stack.cascade.stt.filter((r) => r.at >= holdFrom && r.at <= holdTo);
          const onHoldMs = onHold.reduce((a, r) => a + (r.wav.samples / r.wav.sampleRate) * 1000, 0);
          const lines = ev.filter((e) => e.type === 'hold.heard');
          const speechMs = lines.reduce((a, e) => a + e.data.speechMs, 0);
          assert.ok(onHoldMs > 1000, `the announcement was transcribed (${onHoldMs} ms)`);
          assert.ok(onHoldMs <= speechMs + lines.length * 1500 + 500 + 100, `transcriber sent ${onHoldMs} ms for ${lines.length} lines of ${speechMs} ms`);
          assert.ok(onHoldMs < holdTo - holdFrom - 4000, `transcriber sent ${onHoldMs} ms of a ${holdTo - holdFrom} ms hold`);
          const asked = stack.cascade.llm.filter((r) => r.at > holdFrom + 500 && r.at < holdTo).length;
          assert.equal(asked, 0, 'no chat request while on hold');
        } else if (engine === 'openai') {
          const ai = stack.openai.sessions[0];
          // Only speech (with a short pre-roll and a silent tail) reached the engine while on hold: the
          // audio appended between auto-replies going off (hold) and on again (the person is back).
          const rx = ai.received as any[];
          const autoReply = (e: any) => e.type === 'session.update' && e.session?.audio?.input?.turn_detection ? e.session.audio.input.turn_detection.create_response : undefined;
          const lastIndex = (want: boolean) => rx.reduce((found, e, i) => (autoReply(e) === want ? i : found), -1);
          const off = lastIndex(false);
          const on = lastIndex(true);
          assert.ok(off > 0 && on > off, 'auto-replies went off for the hold and on again after it');
          const onHoldMs = rx.slice(off, on).reduce((a, e) => a + (e.type === 'input_audio_buffer.append' ? e.audio / 8 : 0), 0);
          assert.ok(onHoldMs > 2000, `the announcement and the person were heard (${onHoldMs} ms)`);
          // Each line costs its speech plus pre-roll (700 ms), the end-of-speech hang (300 ms) and the
          // silent tail (VAD_SILENCE_MS + 200 = 500 ms); one more tail on entering the hold. No music.
          const lines = ev.filter((e) => e.type === 'hold.heard');
          const speechMs = lines.reduce((a, e) => a + e.data.speechMs, 0);
          assert.ok(onHoldMs <= speechMs + lines.length * 1500 + 500 + 100, `engine heard ${onHoldMs} ms for ${lines.length} lines of ${speechMs} ms`);
          const inHoldMs = ev.find((e) => e.type === 'mode.changed' && e.data.reason === 'person-returned')!.data.heldMs;
          assert.ok(onHoldMs < inHoldMs - 4000, `engine heard ${onHoldMs} ms of a ${inHoldMs} ms hold`);
        } else {
          const ai = stack.gemini.sessions[0];
          // Gemini answers everything it hears: on hold it is sent nothing at all.
          const calleeMs = tw.streams.reduce((a, st) => a + st.sent.media * 20, 0);
          assert.ok(ai.inputAudioMs <= calleeMs - heldMs + 500, `engine heard ${ai.inputAudioMs} ms of the callee's ${calleeMs} ms; hold ${heldMs} ms`);
        }
      },
    );
  });

  test(`[${engine}] put on hold without a word: music for 3 s means hold; the person back gets the reminder`, async () => {
    await withStack(
      {
        engine,
        script: () => ({
          steps: [
            { say: 'Hello?' },
            { waitForAgent: true, quietMs: 300 },
            { holdMs: 9000, music: 'noise' },
            { pauseMs: 300 },
            { say: PERSON },
            { waitForAgent: true, quietMs: 300 },
            { say: 'Okay, one chicken biryani at seven.' },
            { waitForAgent: true, quietMs: 300, timeoutMs: 8000 },
          ],
        }),
        conversation: () => ({
          // Gemini answers the music it heard before the hold was recognised: that reply is cut unheard.
          turns: [{ say: GREETING }, ...(engine === 'gemini' ? [{ say: 'Sorry, could you repeat that?' }] : []), { say: REMINDER }, { say: BYE, call: { name: 'end_call', args: { reason: 'order placed' } } }],
          userTranscripts: engine === 'openai' ? ['Hello?', '(music)', PERSON, 'Okay, one chicken biryani at seven.'] : engine === 'cascade' ? ['Hello?', PERSON, 'Okay, one chicken biryani at seven.'] : ['Hello?', '(music)', 'Okay, one chicken biryani at seven.'],
          transcribeBySound: engine === 'cascade',
        }),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 45_000);
        const ev = await events(stack, id);
        if (process.env.HOLD_DEBUG) for (const e of ev) if (e.type !== 'usage') console.log(e.at, e.type, JSON.stringify(e.data));
        const modes = ev.filter((e) => e.type === 'mode.changed').map((e) => [e.data.to, e.data.reason]);
        assert.deepEqual(modes.slice(1, 3), [['on-hold', 'music'], ['talking', 'person-returned']]);
        const enteredAfterMs = ev.find((e) => e.type === 'mode.changed' && e.data.to === 'on-hold')!.data.afterMs;
        assert.equal(call.endReason, 'agent-hangup');
        const heardAgent = call.transcript.filter((t: any) => t.speaker === 'agent' && t.interrupted?.heardMs !== 0);
        assert.deepEqual(heardAgent.map((t: any) => t.text), [GREETING, REMINDER, BYE]);
        const hold = stack.twilio.calls[0].log.find((l) => l.type === 'callee-hold-end')!;
        assert.ok((hold.lastAgentPlayMs as number) < (hold.startMs as number), 'the agent said nothing over the music');
        assert.ok(enteredAfterMs > 0);
      },
    );
  });

  test(`[${engine}] the model recognises hold itself (wait_on_hold): silent on hold, reminder when a person is back`, async () => {
    await withStack(
      {
        engine,
        script: () => ({
          steps: [
            { say: 'Hello?' },
            { waitForAgent: true, quietMs: 300 },
            { say: 'Un momento, por favor.' },
            { waitForAgent: true, quietMs: 300 },
            { holdMs: 5000 },
            { pauseMs: 300 },
            { say: PERSON },
            { waitForAgent: true, quietMs: 300 },
            { say: 'Okay, one chicken biryani at seven.' },
            { waitForAgent: true, quietMs: 300, timeoutMs: 8000 },
          ],
        }),
        conversation: () => ({
          turns: [
            { say: GREETING },
            { say: 'Claro.', call: { name: 'wait_on_hold', args: {} } },
            // Gemini goes on by itself after a tool result: that turn is cut, unheard.
            ...(engine === 'gemini' ? [{ say: 'I will wait here.' }] : []),
            { say: REMINDER },
            { say: BYE, call: { name: 'end_call', args: { reason: 'order placed' } } },
          ],
          userTranscripts: engine === 'openai' ? ['Hello?', 'Un momento, por favor.', '(music)', PERSON, 'Okay, one chicken biryani at seven.'] : engine === 'cascade' ? ['Hello?', 'Un momento, por favor.', PERSON, 'Okay, one chicken biryani at seven.'] : ['Hello?', 'Un momento, por favor.', 'Okay, one chicken biryani at seven.'],
          transcribeBySound: engine === 'cascade',
        }),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 45_000);
        const ev = await events(stack, id);
        if (process.env.HOLD_DEBUG) for (const e of ev) if (e.type !== 'usage') console.log(e.at, e.type, JSON.stringify(e.data));
        const modes = ev.filter((e) => e.type === 'mode.changed').map((e) => [e.data.to, e.data.reason]);
        assert.deepEqual(modes.slice(1, 3), [['on-hold', 'tool'], ['talking', 'person-returned']]);
        assert.equal(call.endReason, 'agent-hangup');
        const heardAgent = call.transcript.filter((t: any) => t.speaker === 'agent' && t.interrupted?.heardMs !== 0);
        assert.deepEqual(heardAgent.map((t: any) => t.text), [GREETING, 'Claro.', REMINDER, BYE]);
        const hold = stack.twilio.calls[0].log.find((l) => l.type === 'callee-hold-end')!;
        assert.ok((hold.lastAgentPlayMs as number) < (hold.startMs as number) + 1000, 'the agent said nothing on hold');
      },
    );
  });

  test(`[${engine}] nobody comes back: after hold.maxMinutes the agent says goodbye and the call ends hold-timeout`, async () => {
    await withStack(
      {
        engine,
        script: () => ({ steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { say: 'Please hold.' }, { waitForAgent: true, quietMs: 300 }, { holdMs: 20_000, music: 'noise', announcement: ANNOUNCEMENT, announceEveryMs: 2000 }] }),
        conversation: () => ({
          turns: [{ say: GREETING }, { say: ACK }, { say: "I'm sorry, I can't hold any longer. I'll try again later. Goodbye!" }],
          userTranscripts: engine === 'openai' ? ['Hello?', 'Please hold.', '(music)', ANNOUNCEMENT, ANNOUNCEMENT, ANNOUNCEMENT] : engine === 'cascade' ? ['Hello?', 'Please hold.', ANNOUNCEMENT] : ['Hello?', 'Please hold.'],
          transcribeBySound: engine === 'cascade',
        }),
      },
      async (stack) => {
        const id = await stack.placeCall({ hold: { maxMinutes: 0.08 } });
        const call = await stack.waitForEnd(id, 30_000);
        assert.equal(call.endReason, 'hold-timeout');
        const ev = await events(stack, id);
        const wrap = ev.find((e) => e.type === 'wrapup.requested');
        assert.equal(wrap?.data.reason, 'hold-timeout');
        assert.equal(wrap?.data.maxMinutes, 0.08);
        // 0.08 min = 4800 ms; Node's timers may fire a millisecond before Date.now() says the time is up.
        assert.ok(wrap.data.heldMs >= 4795 && wrap.data.heldMs < 7000, `held ${wrap.data.heldMs} ms`);
        assert.equal(call.transcript.at(-1).text, "I'm sorry, I can't hold any longer. I'll try again later. Goodbye!");
        assert.ok(!ev.some((e) => e.type === 'hold.heard' && e.data.verdict === 'person'), 'announcements are not people');
      },
    );
  });
}

test('hold.maxMinutes is validated: 400 naming the field', async () => {
  await withStack({}, async (stack) => {
    // A bad or missing maxMinutes is named in full (hold.maxMinutes); a hold that is not an object, as hold.
    const refused: Array<[unknown, string]> = [[{ maxMinutes: 0 }, 'hold.maxMinutes'], [{ maxMinutes: -1 }, 'hold.maxMinutes'], [{ maxMinutes: 'ten' }, 'hold.maxMinutes'], [{ maxMinutes: 601 }, 'hold.maxMinutes'], [{ minutes: 5 }, 'hold.maxMinutes'], [5, 'hold']];
    for (const [hold, field] of refused) {
      const r = await stack.api('POST', '/api/calls', { to: '+14155550123', instructions: 'x', hold });
      assert.equal(r.status, 400, JSON.stringify(hold));
      assert.equal(r.body.error.field, field, JSON.stringify(hold));
    }
  });
});
