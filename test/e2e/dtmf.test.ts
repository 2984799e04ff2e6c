/**
 * Pressing keys on a live call: send_dtmf plays in-band tones over the media stream, which a DTMF
 * receiver at the callee's end (the Twilio simulator's Goertzel decoder, fed with the audio as played)
 * must recognise; the tool's result reaches the model only once the tones have played, and the call goes
 * on. Keys given with the call (`POST /api/calls {dtmf}`) are pressed when the menu answers: once its
 * first prompt has ended (see phone-menu.test.ts for menus in full).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack, ENGINES } from './helpers.js';
import type { Stack } from '../sim/stack.js';
import { speechDurationMs } from '../sim/twilio/callee-audio.js';

const MENU = 'Thank you for calling Acme. For billing, press one. For support, press two.';
const SAM = 'Support, this is Sam, how can I help?';
/** MENU_PROMPT_END_MS's default: the silence that ends a menu prompt. */
const PROMPT_END_MS = 1500;

async function timeline(stack: Stack, id: string): Promise<Array<{ type: string; data: any }>> {
  const body = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
  return body
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)))
    .filter((e) => e && typeof e.type === 'string');
}

for (const engine of ENGINES) {
  test(`[${engine}] send_dtmf("1w2"): the callee's line decodes 1 then 2, the result comes after the tones, the call goes on`, async () => {
    // Gemini continues on its own after a tool result (the next scripted turn follows at once): at the
    // menu that turn is not played. The OpenAI model waits for the callee.
    const turns = [
      { call: { name: 'send_dtmf', args: { digits: '1w2' } } },
      ...(engine === 'gemini' ? [{ say: 'One moment.' }] : []),
      { say: "Hi, I'm calling about an order." },
      { say: 'Thanks, goodbye!', call: { name: 'end_call', args: {} } },
    ];
    await withStack(
      {
        engine,
        script: () => ({
          steps: [
            { say: MENU },
            { waitForAgent: true, quietMs: 300 },
            { say: SAM },
            { waitForAgent: true, quietMs: 300 },
            { say: 'Sure, it is on its way. Bye.' },
            { waitForAgent: true, quietMs: 300, timeoutMs: 5000 },
          ],
        }),
        conversation: () => ({ turns, userTranscripts: [MENU, SAM, 'Sure, it is on its way. Bye.'] }),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 30_000);
        assert.equal(call.endReason, 'agent-hangup', 'the call went on after the keys and ended with the goodbye');
        const tw = stack.twilio.calls[0];
        assert.deepEqual(tw.dtmfHeard.map((d) => d.digit), ['1', '2'], JSON.stringify(tw.dtmfHeard));
        const [one, two] = tw.dtmfHeard;
        // 100 ms tone, 100 ms gap, then w = 500 ms: 2 starts ~600 ms after 1 ends (decoder resolution ±13 ms).
        const pause = two.startMs - one.endMs;
        assert.ok(pause >= 560 && pause <= 640, `pause between keys ${pause} ms`);
        assert.ok(one.endMs - one.startMs >= 75, 'tones of about 100 ms');
        // The stream stayed up throughout: one stream, no clear.
        assert.equal(tw.streams.length, 1);
        assert.equal(tw.streams[0].clears.length, 0);

        const resultAt =
          engine === 'openai'
            ? stack.openai.sessions[0].functionOutputs.find((f) => /Pressed 1, pause, 2/.test(f.output))?.at
            : engine === 'cascade'
              ? stack.cascade.llm.find((r) => r.body.messages.some((m) => m.role === 'tool' && /Pressed 1, pause, 2/.test(String(m.content))))?.at
              : (stack.gemini.sessions[0] as any).toolResponses.find((r: any) => /Pressed 1, pause, 2/.test(JSON.stringify(r.response)))?.at;
        assert.ok(resultAt, 'the model got "Pressed 1, pause, 2"');
        assert.ok(resultAt >= two.recognisedAt, `the result reached the model ${two.recognisedAt - resultAt} ms before the callee's receiver had heard 2`);

        const ev = await timeline(stack, id);
        const sent = ev.filter((e) => e.type === 'dtmf.sent').map((e) => e.data);
        assert.deepEqual(sent, [{ digits: '1w2', source: 'tool', status: 'played', pressed: '1w2' }]);
        const transcript = (await stack.api('GET', `/api/calls/${id}/transcript.txt`)).body as string;
        assert.match(transcript, /\(pressed 1, pause, 2\)/);
        assert.ok(call.transcript.some((t: any) => t.speaker === 'agent' && /calling about an order|goodbye/i.test(t.text)), 'the agent spoke after the keys');
      },
    );
  });
}

test('POST /api/calls {dtmf}: validated, kept with the call, pressed when the menu answers (its first prompt ended), nothing said to it', async () => {
  await withStack(
    {
      engine: 'openai',
      script: () => ({ steps: [{ say: 'Acme, please enter the extension.' }, { waitForKeys: 4, timeoutMs: 10_000 }, { say: SAM }, { waitForAgent: true, quietMs: 300 }, { say: 'Yes, that is us. Bye.' }, { waitForAgent: true, quietMs: 300, timeoutMs: 5000 }] }),
      conversation: () => ({ turns: [{ say: "Hello Sam, I'm calling about an order." }, { say: 'Thanks, goodbye!', call: { name: 'end_call', args: {} } }], userTranscripts: ['Acme, please enter the extension.', SAM, 'Yes, that is us. Bye.'] }),
    },
    async (stack) => {
      for (const dtmf of ['12x', '', 'w'.repeat(65), 12]) {
        const r = await stack.api('POST', '/api/calls', { to: '+14155550123', instructions: 'Ask for the order.', dtmf });
        assert.equal(r.status, 400, `dtmf ${JSON.stringify(dtmf)}`);
        assert.equal(r.body.error.field, 'dtmf');
        assert.match(r.body.error.message, /^dtmf: /);
      }
      assert.equal(stack.twilio.calls.length, 0, 'nothing was dialled');

      const id = await stack.placeCall({ dtmf: '204#' });
      const call = await stack.waitForEnd(id, 30_000);
      assert.equal(call.endReason, 'agent-hangup');
      const tw = stack.twilio.calls[0];
      assert.deepEqual(tw.dtmfHeard.map((d) => d.digit), ['2', '0', '4', '#']);
      const ev = await timeline(stack, id);
      assert.equal(ev.find((e) => e.type === 'status' && e.data.status === 'queued')?.data.dtmf, '204#', 'kept with the call');
      assert.deepEqual(ev.filter((e) => e.type === 'dtmf.sent').map((e) => e.data), [{ digits: '204#', source: 'call', status: 'played', pressed: '204#' }]);
      // The opening of a call with keys is taken as the menu; the keys go once its prompt has ended
      // (the prompt is spoken from the answer on, then the menu's silence).
      const promptMs = speechDurationMs('Acme, please enter the extension.');
      assert.ok(tw.dtmfHeard[0].startMs >= promptMs + PROMPT_END_MS - 100, `first key at ${tw.dtmfHeard[0].startMs} ms, prompt ends at ${promptMs} ms`);
      assert.deepEqual(ev.filter((e) => e.type === 'mode.changed').map((e) => [e.data.to, e.data.reason]).slice(0, 2), [['menu', 'keys-given'], ['talking', 'person-answered']]);
      assert.deepEqual(call.transcript.filter((t: any) => t.speaker === 'agent').map((t: any) => t.text), ["Hello Sam, I'm calling about an order.", 'Thanks, goodbye!'], 'nothing was said to the menu; Sam was greeted');
    },
  );
});

test('DTMF_MODE=carrier: Twilio plays the digits (<Play digits>), the stream re-attaches to the same call, the call goes on', async () => {
  await withStack(
    {
      engine: 'openai',
      env: { DTMF_MODE: 'carrier' },
      script: () => ({
        // Twilio's tones are not agent audio on the stream: the menu waits for its receiver to hear them.
        steps: [{ say: MENU }, { waitForKeys: 2, timeoutMs: 10_000 }, { say: 'Support, how can I help?' }, { waitForAgent: true, quietMs: 300 }, { say: 'Sure, it is on its way. Bye.' }, { waitForAgent: true, quietMs: 300, timeoutMs: 5000 }],
      }),
      conversation: () => ({
        turns: [{ call: { name: 'send_dtmf', args: { digits: '1w2' } } }, { say: "Hi, I'm calling about an order." }, { say: 'Thanks, goodbye!', call: { name: 'end_call', args: {} } }],
        userTranscripts: [MENU, 'Support, how can I help?', 'Sure, it is on its way. Bye.'],
      }),
    },
    async (stack) => {
      const id = await stack.placeCall();
      const call = await stack.waitForEnd(id, 30_000);
      assert.equal(call.endReason, 'agent-hangup', 'the call went on after the keys');
      const tw = stack.twilio.calls[0];
      assert.deepEqual(tw.digitsPlayed, ['1w2']);
      // Twilio's own tones reach the callee's receiver; the stream was replaced once, with the same parameters.
      assert.deepEqual(tw.dtmfHeard.map((d) => d.digit), ['1', '2']);
      assert.equal(tw.streams.length, 2);
      assert.deepEqual(tw.streams[1].customParameters, tw.streams[0].customParameters);
      assert.ok(tw.streams[1].agentPlayedMs > 0, 'the agent spoke on the new stream');
      const resultAt = stack.openai.sessions[0].functionOutputs.find((f) => /Pressed 1, pause, 2/.test(f.output))?.at;
      assert.ok(resultAt && resultAt >= tw.dtmfHeard[1].recognisedAt, 'the result came after the carrier played the digits');
      const ev = await timeline(stack, id);
      assert.deepEqual(ev.filter((e) => e.type === 'dtmf.sent').map((e) => e.data), [{ digits: '1w2', source: 'tool', status: 'played', pressed: '1w2', via: 'carrier' }]);
      assert.equal(ev.filter((e) => e.type === 'media.attached').length, 2);
      assert.equal(stack.openai.sessions.length, 1, 'the AI session stayed up');
    },
  );
});
