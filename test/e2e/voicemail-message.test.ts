/**
 * Voicemail with `leave-message`: the agent says nothing over the mailbox's greeting, speaks after the
 * beep (heard on the line by our own detector, or reported by Twilio's machine_end_beep), or after a
 * silence when there is no beep, and hangs up once the mailbox has recorded the whole message. Every
 * engine; the simulated mailbox records what the agent said after the greeting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack, FAST, ENGINES } from './helpers.js';
import type { Engine, Stack } from '../sim/stack.js';
import type { CalleeScript, SimCall } from '../sim/twilio/index.js';

const MESSAGE = 'Hi Sam, this is the assistant of Raju Kumar, about tonight’s pickup order. Please call Raju back at your convenience. Thank you!';
/** Agent audio per transcript character in the engine simulators (FAST). */
const MS_PER_CHAR = FAST.msPerChar!;

async function timeline(stack: Stack, id: string): Promise<any[]> {
  const body = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
  return body
    .split('\n')
    .filter((l) => l.startsWith('{') || l.startsWith('data: '))
    .map((l) => JSON.parse(l.replace(/^data: /, '')));
}

/**
 * What the engine was asked to say for the message (OpenAI response.create instructions, Gemini text
 * turn, the cascade's system message, which carries a reply's instructions).
 */
function messageRequest(stack: Stack, engine: Engine): string {
  if (engine === 'openai') return stack.openai.sessions[0].responses.map((r) => r.instructions ?? '').join('\n');
  if (engine === 'cascade') return stack.cascade.llm.flatMap((r) => r.body.messages.filter((m) => m.role === 'system').map((m) => String(m.content))).join('\n');
  return (stack.gemini.sessions[0] as any).clientContents.map((c: any) => c.text).join('\n');
}

/**
 * Length of the agent audio the simulators made for `text`: the speech-to-speech simulators voice the
 * whole text, the cascade's TTS simulator each clause the engine sent it (without the spaces between).
 */
function spokenMs(stack: Stack, engine: Engine, text: string): number {
  if (engine !== 'cascade') return text.length * MS_PER_CHAR;
  const clauses = stack.cascade.tts.filter((r) => text.includes(r.input));
  assert.equal(clauses.map((r) => r.input).join(' '), text, 'the message went to the TTS clause by clause, whole');
  return clauses.reduce((ms, r) => ms + r.input.length * MS_PER_CHAR, 0);
}

/** The mailbox holds the whole message, and nothing was said over the greeting. */
function assertMessageLeft(stack: Stack, engine: Engine, call: any, tw: SimCall, text: string): void {
  assert.equal(call.endReason, 'voicemail-left');
  assert.equal(tw.hangupBy, 'api', 'Callwright hung up');
  const box = tw.mailbox;
  assert.ok(box, 'the machine recorded');
  assert.equal(box.agentMsOverGreeting, 0, 'nothing was said over the greeting or the beep');
  const expectedMs = spokenMs(stack, engine, text);
  assert.ok(box.agentMsRecorded >= expectedMs - 40, `the mailbox recorded ${box.agentMsRecorded} ms of ${expectedMs} ms`);
  assert.ok(tw.firstAgentAudioLineMs! >= box.recordingFromMs, 'the message started after the beep');
  const agent = call.transcript.filter((t: any) => t.speaker === 'agent');
  assert.equal(agent.length, 1);
  assert.equal(agent[0].text, text);
  assert.ok(!agent[0].interrupted, 'heard in full');
}

for (const engine of ENGINES) {
  test(`[${engine}] machine_end_beep: the exact message is left after the beep, then the call hangs up`, async () => {
    await withStack(
      {
        engine,
        // A mailbox greeting well over the 2.5 s a person's "Hello?" may last: the gate measures the opening
        // by the clock between its detector's events, and on a loaded machine the first event of a call can
        // come late (a 2.5 s greeting measured 1.9 s with two busy loops beside the test, and was greeted).
        script: () => ({ answeredBy: 'machine_end_beep', greetingMs: 4000, beep: { hz: 1000, durationMs: 500 }, steps: [] }),
        conversation: () => ({ turns: [{ say: MESSAGE }] }),
      },
      async (stack) => {
        const id = await stack.placeCall({ voicemail: { action: 'leave-message', message: MESSAGE } });
        const call = await stack.waitForEnd(id, 20_000);
        const tw = stack.twilio.calls[0];
        assertMessageLeft(stack, engine, call, tw, MESSAGE);
        assert.match(messageRequest(stack, engine), /Say exactly the following message, word for word/);
        assert.ok(messageRequest(stack, engine).includes(MESSAGE), 'the exact text went to the engine');
        const events = await timeline(stack, id);
        const msg = events.find((e) => e.type === 'voicemail.message');
        assert.ok(msg && ['beep', 'carrier-beep'].includes(msg.data.trigger), JSON.stringify(msg));
        assert.ok(events.some((e) => e.type === 'mode.changed' && e.data.to === 'voicemail'));
        assert.ok(!events.some((e) => e.type === 'greeting.start'), `no greeting to a machine: ${JSON.stringify(events.filter((e) => /^(greeting|amd|callee)/.test(e.type)).map((e) => ({ type: e.type, at: e.at, ...e.data })))}`);
        // Hung up once the last of the message had played: within a few frames of it.
        const ended = tw.log.find((l) => l.type === 'call-ended')!;
        assert.ok(ended, 'ended');
        console.log(`[${engine}] beep ${tw.mailbox!.recordingFromMs} ms, message ${tw.firstAgentAudioLineMs}-${tw.lastAgentAudioLineMs} ms, recorded ${tw.mailbox!.agentMsRecorded} ms (${msg.data.trigger})`);
      },
    );
  });

  test(`[${engine}] an early machine_start verdict waits out a long greeting for our own beep detector`, async () => {
    // Twilio's `Enable` mode decides as soon as it hears a machine, long before the beep.
    const script: CalleeScript = { answeredBy: 'machine_start', amdDelayMs: 1000, greetingMs: 4500, beep: { hz: 750, durationMs: 300 }, steps: [] };
    await withStack({ engine, script: () => script, conversation: () => ({ turns: [{ say: MESSAGE }] }) }, async (stack) => {
      const id = await stack.placeCall({ voicemail: { action: 'leave-message', message: MESSAGE } });
      const call = await stack.waitForEnd(id, 20_000);
      const tw = stack.twilio.calls[0];
      assertMessageLeft(stack, engine, call, tw, MESSAGE);
      const events = await timeline(stack, id);
      const msg = events.find((e) => e.type === 'voicemail.message');
      assert.equal(msg?.data.trigger, 'beep');
      assert.ok(Math.abs(msg.data.hz - 750) <= 25, `beep heard at ${msg.data.hz} Hz`);
      // The message follows the beep closely (the detector reports the tone's end within two frames).
      const gap = tw.firstAgentAudioLineMs! - tw.mailbox!.recordingFromMs;
      assert.ok(gap <= 300, `the message started ${gap} ms after the beep`);
    });
  });

  test(`[${engine}] a mailbox with no beep gets the message after VOICEMAIL_SILENCE_MS of silence`, async () => {
    const script: CalleeScript = { answeredBy: 'machine_start', amdDelayMs: 800, greetingMs: 2000, beep: false, steps: [] };
    await withStack(
      { engine, env: { VOICEMAIL_SILENCE_MS: '1200' }, script: () => script, conversation: () => ({ turns: [{ say: 'Hi, this is the assistant of Raju Kumar, please call him back.' }] }) },
      async (stack) => {
        const id = await stack.placeCall({ voicemail: { action: 'leave-message', instructions: 'ask them to call Raju back' } });
        const call = await stack.waitForEnd(id, 20_000);
        const tw = stack.twilio.calls[0];
        assertMessageLeft(stack, engine, call, tw, 'Hi, this is the assistant of Raju Kumar, please call him back.');
        const msg = (await timeline(stack, id)).find((e) => e.type === 'voicemail.message');
        assert.equal(msg?.data.trigger, 'silence', JSON.stringify(msg));
        const gap = tw.firstAgentAudioLineMs! - tw.mailbox!.recordingFromMs;
        assert.ok(gap >= 1200 && gap <= 1600, `the message started ${gap} ms after the greeting ended ${JSON.stringify(msg)}`);
        assert.match(messageRequest(stack, engine), /Leave this message: ask them to call Raju back/);
      },
    );
  });
}

test('VOICEMAIL_MODE=leave-message with VOICEMAIL_MESSAGE is the default; a call can still say hangup', async () => {
  await withStack(
    {
      env: { VOICEMAIL_MODE: 'leave-message', VOICEMAIL_MESSAGE: MESSAGE },
      script: () => ({ answeredBy: 'machine_end_beep', greetingMs: 1500, steps: [] }),
      conversation: () => ({ turns: [{ say: MESSAGE }] }),
    },
    async (stack) => {
      const left = await stack.placeCall();
      assertMessageLeft(stack, 'openai', await stack.waitForEnd(left, 20_000), stack.twilio.calls[0], MESSAGE);
      const queued = (await timeline(stack, left)).find((e) => e.type === 'status' && e.data.status === 'queued');
      assert.deepEqual(queued.data.voicemail, { action: 'leave-message', message: MESSAGE });

      const hungUp = await stack.placeCall({ voicemail: { action: 'hangup' } });
      const call = await stack.waitForEnd(hungUp, 20_000);
      assert.equal(call.endReason, 'voicemail');
      assert.equal(stack.twilio.calls[1].agentAudioBytesReceived, 0);
    },
  );
});

test('no beep and no silence within VOICEMAIL_BEEP_TIMEOUT_MS: the call hangs up without talking over the greeting', async () => {
  await withStack(
    {
      env: { VOICEMAIL_BEEP_TIMEOUT_MS: '2000' },
      script: () => ({ answeredBy: 'machine_start', amdDelayMs: 600, greetingMs: 8000, steps: [] }),
      conversation: () => ({ turns: [{ say: MESSAGE }] }),
    },
    async (stack) => {
      const id = await stack.placeCall({ voicemail: { action: 'leave-message', message: MESSAGE } });
      const call = await stack.waitForEnd(id, 20_000);
      assert.equal(call.endReason, 'voicemail');
      assert.equal(stack.twilio.calls[0].agentAudioBytesReceived, 0);
      assert.match(call.error ?? '', /no beep/);
    },
  );
});

test('POST /api/calls voicemail: bad values are a 400 naming the field', async () => {
  await withStack({ script: () => ({ result: 'busy', steps: [] }) }, async (stack) => {
    const cases: Array<[unknown, string]> = [
      [{ action: 'record' }, 'voicemail.action'],
      [{ action: 'hangup', message: 'hi' }, 'voicemail.message'],
      [{ action: 'leave-message', message: 'x'.repeat(1001) }, 'voicemail.message'],
      [{ action: 'leave-message', message: 'hi', instructions: 'be brief' }, 'voicemail.instructions'],
      [{ action: 'leave-message', beep: true }, 'voicemail.beep'],
      ['leave-message', 'voicemail'],
    ];
    for (const [voicemail, field] of cases) {
      const r = await stack.api('POST', '/api/calls', { to: '+14155550123', instructions: 'Say hi.', voicemail });
      assert.equal(r.status, 400, JSON.stringify(voicemail));
      assert.equal(r.body.error.field, field, JSON.stringify(r.body));
    }
  });
});

for (const engine of ENGINES) {
  test(`[${engine}] a mailbox that opens with "Hello?": the greeting is cut at the verdict and the message still waits for the beep`, async () => {
    // A greeting that fakes a person ("Hello? ... Sorry, I can't take your call"): the agent starts
    // talking, the machine verdict stops it, and the message goes after the beep, not at once.
    const script: CalleeScript = {
      answeredBy: 'machine_start',
      greetingMs: 0,
      amdDelayMs: 2300,
      steps: [{ say: 'Hello?' }, { pauseMs: 1200 }, { say: "Sorry, I can't take your call. Leave a message after the tone.", durationMs: 2000 }, { beep: { hz: 900, durationMs: 400 } }],
    };
    const greeting = "Hi, I'm an AI assistant calling on behalf of Raju Kumar about tonight's pickup order.";
    await withStack({ engine, script: () => script, conversation: () => ({ turns: [{ say: greeting }, { say: MESSAGE }, { say: MESSAGE }], userTranscripts: ['Hello?'] }) }, async (stack) => {
      const id = await stack.placeCall({ voicemail: { action: 'leave-message', message: MESSAGE } });
      const call = await stack.waitForEnd(id, 30_000);
      const tw = stack.twilio.calls[0];
      assert.equal(call.endReason, 'voicemail-left');
      const agent = call.transcript.filter((t: any) => t.speaker === 'agent');
      assert.equal(agent[0].text, greeting);
      assert.ok(agent[0].interrupted, 'the greeting was cut');
      assert.equal(agent.at(-1).text, MESSAGE);
      assert.ok(!agent.at(-1).interrupted);
      assert.equal(agent.length, 2, agent.map((t: any) => t.text).join(' | '));
      const box = tw.mailbox!;
      assert.ok(box.agentMsRecorded >= spokenMs(stack, engine, MESSAGE) - 40, `recorded ${box.agentMsRecorded} ms`);
      assert.ok(tw.firstAgentAudioLineMs! < box.recordingFromMs, 'the greeting had started before the beep');
      const msg = (await timeline(stack, id)).find((e) => e.type === 'voicemail.message');
      assert.equal(msg?.data.trigger, 'beep');
    });
  });
}
