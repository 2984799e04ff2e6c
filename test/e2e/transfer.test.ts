/**
 * Handing a call over (transfer_call, POST /api/calls/:id/transfer) through the real server and the
 * Twilio simulator: cold (the carrier <Dial>s the owner, the AI leaves), warm (the owner is called as a
 * second carrier call, hears the brief, and both legs meet in a conference; or the owner does not answer
 * and the agent is back with the callee), and destinations the dial policy refuses (a clear error, the
 * call goes on, nothing lost). The destination is only ever a label: OWNER_PHONE or the call's transferTo.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GREETING, until, withStack, ENGINES } from './helpers.js';
import type { Engine, Stack } from '../sim/stack.js';
import type { CalleeScript } from '../sim/twilio/index.js';

const CALLEE = '+14155550123';
const OWNER = '+14155550142';
const OWNER_MASKED = '+14*******42';

async function timeline(stack: Stack, id: string): Promise<Array<{ type: string; data: any }>> {
  const body = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
  return body
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)))
    .filter((e) => e && typeof e.type === 'string');
}

/** What the model was told as the tool's result, on either engine. */
function toolOutputs(stack: Stack, engine: Engine): string[] {
  if (engine === 'cascade') return [...new Set(stack.cascade.llm.flatMap((r) => r.body.messages.filter((m) => m.role === 'tool').map((m) => String(m.content))))];
  return engine === 'openai' ? stack.openai.sessions[0].functionOutputs.map((f) => f.output) : (stack.gemini.sessions[0] as any).toolResponses.map((r: any) => JSON.stringify(r.response));
}

for (const engine of ENGINES) {
  test(`[${engine}] cold transfer: after the preamble has played, Twilio <Dial>s the owner, the AI leaves, the record ends "transferred" with its transcript`, async () => {
    const preamble = "Sure, I'll put you through to Raju now.";
    await withStack(
      {
        engine,
        env: { OWNER_PHONE: OWNER },
        script: (p): CalleeScript =>
          p.To === OWNER
            ? { steps: [], idleHangupMs: 30_000 }
            : { steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { say: 'Can I talk to Raju directly?' }, { waitForAgent: true, quietMs: 300 }, { waitForBridge: true, timeoutMs: 10_000 }, { pauseMs: 400 }, { hangup: true }] },
        conversation: () => ({ turns: [{ say: GREETING }, { say: preamble, call: { name: 'transfer_call', args: { mode: 'cold' } } }], userTranscripts: ['Hello?', 'Can I talk to Raju directly?'] }),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 30_000);
        assert.equal(call.endReason, 'transferred');
        assert.equal(call.error, null);
        const tw = stack.twilio.calls[0];
        assert.equal(stack.twilio.calls.length, 1, 'a cold transfer places no call of its own');
        // The carrier connected the callee to the owner and the call went on without the AI.
        assert.equal(tw.dials.length, 1);
        assert.equal(tw.dials[0].to, OWNER);
        assert.equal(tw.dials[0].callerId, '+14155550100');
        assert.ok(tw.dials[0].answeredAtMs !== null, 'the owner answered');
        // The record ended with the hand-over; the carrier call went on until the callee hung up.
        await until('the callee to hang up', () => tw.hangupBy, 15_000);
        assert.equal(tw.hangupBy, 'callee', 'the callee was still on the line (with the owner) until they hung up');
        assert.equal(tw.streams.length, 1);
        assert.equal(tw.streams[0].closedBy, 'sim', 'Twilio ended the stream when the TwiML changed');
        // The transfer waited for the preamble: the TwiML update came after the last agent audio played.
        const answeredAt = tw.log.find((e) => e.type === 'answered')!.atMs;
        const update = tw.log.find((e) => e.type === 'rest-update' && /<Dial/.test(String((e.fields as any)?.Twiml)));
        assert.ok(update, 'the call was updated with <Dial>');
        assert.ok(update!.atMs - answeredAt >= tw.lastAgentAudioLineMs!, `update at ${update!.atMs - answeredAt} ms, last agent audio at ${tw.lastAgentAudioLineMs} ms`);
        // The record keeps the conversation and says where it went, masked.
        assert.ok(call.transcript.some((t: any) => t.speaker === 'agent' && t.text === preamble));
        assert.ok(call.transcript.some((t: any) => t.speaker === 'callee' && /talk to Raju/.test(t.text)));
        const ev = await timeline(stack, id);
        const done = ev.find((e) => e.type === 'transfer.completed')!;
        assert.deepEqual({ ...done.data, at: undefined }, { mode: 'cold', label: 'owner', number: OWNER_MASKED, at: undefined });
        assert.ok(!JSON.stringify(ev).includes(OWNER), 'the full number is never on the timeline');
        const transcript = (await stack.api('GET', `/api/calls/${id}/transcript.txt`)).body as string;
        assert.match(transcript, /put you through to Raju/);
        if (engine === 'openai') {
          const closed = await Promise.race([stack.openai.sessions[0].closed.then(() => true), new Promise((r) => setTimeout(() => r(false), 2000))]);
          assert.ok(closed, 'the AI session was closed');
        }
      },
    );
  });

  test(`[${engine}] warm transfer: the owner is called, hears the brief, and is joined to the callee in a conference`, async () => {
    const brief = 'The restaurant wants to confirm your biryani order.';
    await withStack(
      {
        engine,
        env: { OWNER_PHONE: OWNER },
        script: (p): CalleeScript =>
          p.To === OWNER
            ? { answeredBy: 'human', steps: [{ say: 'Hello?' }], idleHangupMs: 30_000 }
            : { steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { say: 'Can I talk to Raju?' }, { waitForAgent: true, quietMs: 300 }, { waitForBridge: true, timeoutMs: 15_000 }, { pauseMs: 400 }, { hangup: true }] },
        conversation: () => ({
          turns: [{ say: GREETING }, { say: 'One moment, please hold while I get Raju on the line.', call: { name: 'transfer_call', args: { mode: 'warm', brief } } }],
          userTranscripts: ['Hello?', 'Can I talk to Raju?'],
        }),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 30_000);
        assert.equal(call.endReason, 'transferred');
        const [callee, owner] = stack.twilio.calls;
        assert.equal(owner.params.To, OWNER);
        assert.equal(owner.params.MachineDetection, 'Enable', 'a voicemail would not be briefed');
        // The owner was called only once the preamble ("please hold") had played to the callee.
        const calleeAnsweredAt = callee.dateCreated.getTime() + callee.log.find((e) => e.type === 'answered')!.atMs;
        // 25 ms: two clocks (wall and monotonic) and 20 ms ticks; dialling early would be off by most of the preamble.
        assert.ok(owner.dateCreated.getTime() + 25 >= calleeAnsweredAt + callee.lastAgentAudioLineMs!, 'the owner was dialled before the preamble had played');
        assert.ok(owner.log.some((e) => e.type === 'say' && e.text === brief), 'the owner heard the brief');
        // Both legs met in one room, which started once both were in it; the callee hanging up ended it.
        await until('the owner leg to end', () => owner.status === 'completed');
        assert.equal(stack.twilio.conferences.length, 1);
        const room = stack.twilio.conferences[0];
        assert.match(room.friendlyName, /^cw-[0-9a-f-]{36}$/, 'no personal data in the room name');
        assert.deepEqual(room.participants.map((p) => p.callSid), [owner.sid, callee.sid]);
        assert.deepEqual(room.events.map((e) => e.event), ['participant-join', 'participant-join', 'conference-start', 'participant-leave', 'participant-leave', 'conference-end']);
        assert.equal(callee.hangupBy, 'callee');
        assert.equal(callee.streams.length, 1);
        const ev = await timeline(stack, id);
        assert.ok(ev.some((e) => e.type === 'mode.changed' && e.data.to === 'transferring'), 'the agent held while the owner was called');
        assert.deepEqual(ev.find((e) => e.type === 'transfer.ownerAnswered')?.data, { label: 'owner', human: true });
        assert.equal(ev.find((e) => e.type === 'transfer.completed')?.data.mode, 'warm');
        assert.ok(!JSON.stringify(ev).includes(OWNER));
        assert.ok(call.transcript.some((t: any) => t.speaker === 'agent' && /please hold/.test(t.text)));
      },
    );
  });

  test(`[${engine}] warm transfer, the owner does not answer: the agent is back with the callee and the call goes on`, async () => {
    const relay = "Sorry, Raju isn't picking up right now. Can I help with anything else?";
    await withStack(
      {
        engine,
        env: { OWNER_PHONE: OWNER },
        script: (p): CalleeScript =>
          p.To === OWNER
            ? { result: 'no-answer', steps: [] }
            : {
                steps: [
                  { say: 'Hello?' },
                  { waitForAgent: true, quietMs: 300 },
                  { say: 'Can I talk to Raju?' },
                  // The hold line, then (the owner's phone rings out in 200 ms here) the relay: quiet in between is
                  // the product's own latency, well under 2 s.
                  { waitForAgent: true, quietMs: 2000 },
                  { say: 'No, that is all. Bye.' },
                  { waitForAgent: true, quietMs: 300, timeoutMs: 5000 },
                ],
              },
        conversation: () => ({
          turns: [{ say: GREETING }, { say: 'Please hold while I try to reach Raju.', call: { name: 'transfer_call', args: { mode: 'warm' } } }, { say: relay }, { say: 'Goodbye!', call: { name: 'end_call', args: {} } }],
          userTranscripts: ['Hello?', 'Can I talk to Raju?', 'No, that is all. Bye.'],
        }),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 30_000);
        assert.equal(call.endReason, 'agent-hangup', 'the call went on after the transfer did not go through');
        const [callee, owner] = stack.twilio.calls;
        assert.equal(owner.status, 'no-answer');
        assert.equal(callee.streams.length, 1, 'the callee never left the AI');
        assert.equal(stack.twilio.conferences.length, 0);
        const ev = await timeline(stack, id);
        assert.deepEqual(ev.find((e) => e.type === 'transfer.returned')?.data, { mode: 'warm', label: 'owner', number: OWNER_MASKED, reason: 'no-answer' });
        const modes = ev.filter((e) => e.type === 'mode.changed').map((e) => e.data.to);
        assert.deepEqual(modes.slice(-3), ['transferring', 'talking', 'ending']);
        assert.ok(toolOutputs(stack, engine).some((o) => /owner was not reached \(no-answer\)/.test(o)), JSON.stringify(toolOutputs(stack, engine)));
        assert.ok(call.transcript.some((t: any) => t.speaker === 'agent' && t.text === relay), 'the agent told the callee');
        assert.ok(call.transcript.some((t: any) => t.speaker === 'callee' && /that is all/.test(t.text)), 'and heard them again');
      },
    );
  });
}

test('a destination the dial policy refuses: a clear error to the model and to the API naming the field; the call goes on, nothing lost', async () => {
  await withStack(
    {
      engine: 'openai',
      // The callee is allowed; the owner's number is not.
      env: { OWNER_PHONE: OWNER, ALLOWED_DESTINATIONS: CALLEE },
      script: () => ({
        steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { say: 'Can I talk to Raju?' }, { waitForAgent: true, quietMs: 600 }, { say: 'No thanks, bye.' }, { waitForAgent: true, quietMs: 300, timeoutMs: 5000 }],
      }),
      conversation: () => ({
        turns: [
          { say: GREETING },
          { say: 'Let me put you through.', call: { name: 'transfer_call', args: { mode: 'cold' } } },
          { say: "I'm sorry, I can't transfer you right now. Anything else?" },
          { say: 'Goodbye!', call: { name: 'end_call', args: {} } },
        ],
        userTranscripts: ['Hello?', 'Can I talk to Raju?', 'No thanks, bye.'],
      }),
    },
    async (stack) => {
      // transferTo is checked when the call is placed: emergency, premium-rate and malformed numbers never get in.
      // A bad entry is named with its position (transferTo.0); a bad list as a whole, as transferTo.
      const refused: Array<[unknown, string]> = [[['911'], 'transferTo.0'], [['+19005550123'], 'transferTo.0'], [['abc'], 'transferTo.0'], [[], 'transferTo'], [[{ label: 'owner', number: CALLEE }], 'transferTo'], ['x', 'transferTo']];
      for (const [transferTo, field] of refused) {
        const r = await stack.api('POST', '/api/calls', { to: CALLEE, instructions: 'Order food.', transferTo });
        assert.equal(r.status, 400, JSON.stringify(transferTo));
        assert.equal(r.body.error.field, field, JSON.stringify(transferTo));
      }
      assert.equal(stack.twilio.calls.length, 0);

      const id = await stack.placeCall({ transferTo: [{ label: 'desk', number: '+14155550199' }] });
      await until('the call to be talking', async () => (await stack.api('GET', `/api/calls/${id}`)).body.status === 'talking');
      // The API: bad fields are 400s naming them; the owner is refused by the allow list (403 naming `to`).
      const bad = await stack.api('POST', `/api/calls/${id}/transfer`, { mode: 'sideways' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.field, 'mode');
      const number = await stack.api('POST', `/api/calls/${id}/transfer`, { mode: 'warm', to: OWNER });
      assert.equal(number.status, 400, 'a phone number is never a destination');
      assert.equal(number.body.error.field, 'to');
      const unknown = await stack.api('POST', `/api/calls/${id}/transfer`, { mode: 'cold', to: 'sales' });
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.error.message, /^to: unknown destination "sales"; choose one of: owner, desk$/);
      for (const to of [undefined, 'desk']) {
        const refused = await stack.api('POST', `/api/calls/${id}/transfer`, { mode: 'cold', ...(to ? { to } : {}) });
        assert.equal(refused.status, 403);
        assert.equal(refused.body.error.field, 'to');
        assert.match(refused.body.error.message, /dial policy refuses destination "(owner|desk)" \(\+14\*+\d\d\): not on the allow list/);
        assert.ok(!JSON.stringify(refused.body).includes(OWNER));
      }

      const call = await stack.waitForEnd(id, 30_000);
      assert.equal(call.endReason, 'agent-hangup', 'the call went on');
      const tw = stack.twilio.calls[0];
      assert.equal(stack.twilio.calls.length, 1, 'nothing was dialled');
      assert.equal(tw.dials.length, 0);
      assert.ok(!tw.log.some((e) => e.type === 'rest-update' && /Twiml/.test(JSON.stringify(e))), 'the call was never updated');
      const out = stack.openai.sessions[0].functionOutputs.map((f) => f.output);
      assert.ok(out.some((o) => /^The transfer was refused: to: the dial policy refuses destination "owner" \(\+14\*{7}42\): not on the allow list/.test(o)), JSON.stringify(out));
      const ev = await timeline(stack, id);
      assert.equal(ev.filter((e) => e.type === 'transfer.refused').length, 5, "4 API refusals and the tool's");
      assert.ok(!ev.some((e) => e.type === 'transfer.started'));
      assert.ok(!JSON.stringify(ev).includes(OWNER), 'a number given as `to` is masked on the record too');
      // Nothing lost: every turn is in the record.
      assert.deepEqual(call.transcript.filter((t: any) => t.speaker === 'callee').map((t: any) => t.text), ['Hello?', 'Can I talk to Raju?', 'No thanks, bye.']);
      assert.equal(stack.openai.sessions.length, 1);
      const after = await stack.api('POST', `/api/calls/${id}/transfer`, { mode: 'cold' });
      assert.equal(after.status, 409, 'an ended call cannot be transferred');
    },
  );
});

for (const engine of ENGINES) {
  test(`[${engine}] the callee talks over the preamble: nothing is transferred, the call goes on`, async () => {
    const preamble = 'Sure, let me put you through to Raju now. It will only take a moment, so please stay on the line while I connect you to him.';
    await withStack(
      {
        engine,
        env: { OWNER_PHONE: OWNER },
        script: (p): CalleeScript =>
          p.To === OWNER
            ? { steps: [], idleHangupMs: 30_000 }
            : {
                steps: [
                  { say: 'Hello?' },
                  { waitForAgent: true, quietMs: 300 },
                  { say: 'Can I talk to Raju?' },
                  { waitAgentPlayedMs: 800, timeoutMs: 10_000 },
                  { say: 'Actually, never mind, I will call him later.' },
                  { waitForAgent: true, quietMs: 300 },
                  { say: 'Bye.' },
                  { waitForAgent: true, quietMs: 300, timeoutMs: 5000 },
                ],
              },
        conversation: () => ({
          turns: [{ say: GREETING }, { say: preamble, call: { name: 'transfer_call', args: { mode: 'cold' } } }, { say: 'No problem. Anything else?' }, { say: 'Goodbye!', call: { name: 'end_call', args: {} } }],
          userTranscripts: ['Hello?', 'Can I talk to Raju?', 'Actually, never mind, I will call him later.', 'Bye.'],
        }),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 30_000);
        assert.equal(call.endReason, 'agent-hangup', 'the call went on');
        const tw = stack.twilio.calls[0];
        assert.equal(tw.dials.length, 0, 'nobody was dialled');
        assert.equal(stack.twilio.calls.length, 1);
        assert.ok(!tw.log.some((e) => e.type === 'rest-update' && /Twiml/.test(JSON.stringify(e))), 'the call was never updated');
        const ev = await timeline(stack, id);
        assert.ok(ev.some((e) => e.type === 'tool.call' && e.data.name === 'transfer_call'), 'the model did ask for the transfer');
        assert.match(ev.find((e) => e.type === 'transfer.failed')?.data.reason ?? '', /spoke over the preamble|withdrawn/);
        assert.ok(!ev.some((e) => e.type === 'transfer.started' || e.type === 'transfer.completed'));
        assert.ok(call.transcript.some((t: any) => t.speaker === 'callee' && /never mind/.test(t.text)));
      },
    );
  });
}

test('POST /api/calls/:id/transfer {mode: "warm"}: 202 at once; the agent says one holding line, the owner hears the default brief and joins the callee', async () => {
  await withStack(
    {
      engine: 'openai',
      env: { OWNER_PHONE: OWNER },
      script: (p): CalleeScript =>
        p.To === OWNER
          ? { answeredBy: 'human', steps: [{ say: 'Hello?' }], idleHangupMs: 30_000 }
          : { idleHangupMs: 30_000, steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { waitForBridge: true, timeoutMs: 20_000 }, { pauseMs: 300 }, { hangup: true }] },
      conversation: () => ({ turns: [{ say: GREETING }, { say: 'Please hold a moment while I connect you to Raju.' }], userTranscripts: ['Hello?'] }),
    },
    async (stack) => {
      const id = await stack.placeCall();
      await until('the greeting to have played', () => (stack.twilio.calls[0]?.lastAgentAudioLineMs ?? 0) > 0 && stack.twilio.calls[0].log.some((e) => e.type === 'callee-step' && (e as any).index === 2));
      const r = await stack.api('POST', `/api/calls/${id}/transfer`, { mode: 'warm' });
      assert.equal(r.status, 202);
      assert.deepEqual(r.body, { id, status: 'dialing' });
      const again = await stack.api('POST', `/api/calls/${id}/transfer`, { mode: 'cold' });
      assert.equal(again.status, 409, 'one transfer at a time');
      const call = await stack.waitForEnd(id, 30_000);
      assert.equal(call.endReason, 'transferred');
      const owner = stack.twilio.calls[1];
      assert.ok(owner.log.some((e) => e.type === 'say' && /^Hello Raju Kumar, this is your Callwright assistant\./.test(String(e.text))), 'the default brief');
      assert.ok(call.transcript.some((t: any) => t.speaker === 'agent' && /please hold/i.test(t.text)), 'the holding line');
      const ev = await timeline(stack, id);
      assert.equal(ev.find((e) => e.type === 'transfer.started')?.data.via, 'api');
      assert.equal(ev.find((e) => e.type === 'transfer.completed')?.data.mode, 'warm');
      await until('the conference to end', () => stack.twilio.conferences[0]?.ended);
    },
  );
});

test('warm transfer: the callee hangs up while the owner is being called: the owner is not left on a call, nor in a room', async () => {
  await withStack(
    {
      engine: 'openai',
      env: { OWNER_PHONE: OWNER },
      script: (p): CalleeScript =>
        p.To === OWNER
          ? { answeredBy: 'human', amdDelayMs: 1500, steps: [{ say: 'Hello?' }], idleHangupMs: 30_000 }
          : { steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { say: 'Can I talk to Raju?' }, { waitForAgent: true, quietMs: 300 }, { hangup: true }] },
      conversation: () => ({ turns: [{ say: GREETING }, { say: 'Please hold while I get Raju.', call: { name: 'transfer_call', args: { mode: 'warm' } } }], userTranscripts: ['Hello?', 'Can I talk to Raju?'] }),
    },
    async (stack) => {
      const id = await stack.placeCall();
      const call = await stack.waitForEnd(id, 30_000);
      assert.equal(call.endReason, 'callee-hangup');
      const owner = await until('the owner leg', () => stack.twilio.calls[1]);
      await until('the owner leg to end', () => owner.hangupBy, 10_000);
      assert.ok(owner.hangupBy === 'api' || owner.hangupBy === 'twiml', `owner leg ended by ${owner.hangupBy}`);
      assert.ok(!owner.log.some((e) => e.type === 'say'), 'no brief for a call that is gone');
      assert.equal(stack.twilio.conferences.length, 0);
    },
  );
});
