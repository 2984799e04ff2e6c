/**
 * Phone menus through the real server: the simulator's menu (a two-level IVR that hears the agent's
 * in-band tones with its DTMF receiver, and replays itself on a wrong key) answers; the call goes to menu
 * mode, the agent hears each prompt to its end, says nothing to the menu, presses, and talks once a
 * person picks up. A menu going round in circles gets the operator route. Every engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack, ENGINES } from './helpers.js';
import type { Stack, Conversation } from '../sim/stack.js';
import type { PhoneMenu, SimCall } from '../sim/twilio/index.js';

const WELCOME = 'Thank you for calling Acme Supplies, where every order matters.';
const MAIN = 'For billing, press 1. For orders, press 2.';
const ORDERS = 'Orders. To track an order, press 1. To speak to someone, press 0.';
const SAM = 'Hi, this is Sam, how can I help?';
const BYE = 'Sure, it is on its way. Bye.';
const HELLO_SAM = "Hi Sam, I'm an AI assistant calling for Raju Kumar about his order.";
const PROMPT_END_MS = 1500;

const TWO_LEVELS: PhoneMenu = {
  prompt: [WELCOME, MAIN],
  options: {
    '1': { say: 'Billing is closed today. Goodbye.' },
    '2': { prompt: ORDERS, options: { '1': { say: 'Please enter your order number.' }, '0': { say: SAM } } },
  },
};

async function timeline(stack: Stack, id: string): Promise<Array<{ type: string; at: string; data: any }>> {
  const body = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
  return body
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)))
    .filter((e) => e && typeof e.type === 'string');
}

/** Media time at which the callee finished saying `text` (the n-th time). */
function saidEnd(call: SimCall, text: string, nth = 0): number {
  const e = call.log.filter((l) => l.type === 'callee-said' && typeof l.text === 'string' && (l.text as string).endsWith(text))[nth];
  assert.ok(e, `the callee said "${text}"`);
  return e.lineMs as number;
}

for (const engine of ENGINES) {
  test(`[${engine}] a two-level menu: the agent hears each prompt out, presses 2 then 0 without a word to the menu, and talks once Sam picks up`, async () => {
    // OpenAI and the cascade listen silently at the menu and are asked to choose when a prompt ends.
    // Gemini hears only while it may answer, so it answers every utterance by itself: those answers are
    // silenced, and its key presses wait for the prompt to end.
    const conversation = (): Conversation =>
      engine !== 'gemini'
        ? {
            turns: [
              // (The cascade also prepares a greeting at the pause after the welcome, before it knows a menu
              // answered: docs/cascade.md, "The greeting". It is thrown away unheard, and a model's answer to
              // one conversation changes nothing in its next, so the script has no turn for it.)
              { call: { name: 'send_dtmf', args: { digits: '2' } } },
              { call: { name: 'send_dtmf', args: { digits: '0' } } },
              { say: HELLO_SAM },
              { say: 'Thanks, goodbye!', call: { name: 'end_call', args: {} } },
            ],
            userTranscripts: [WELCOME, MAIN, ORDERS, SAM, BYE],
          }
        : {
            turns: [
              { say: 'Hello! Who am I speaking with?' }, // to the welcome: silenced
              { call: { name: 'send_dtmf', args: { digits: '2' } } },
              { say: 'Pressed two.' }, // after the result: silenced
              { call: { name: 'send_dtmf', args: { digits: '0' } } },
              { say: 'Waiting for a person.' }, // silenced
              { say: HELLO_SAM },
              { say: 'Thanks, goodbye!', call: { name: 'end_call', args: {} } },
            ],
            userTranscripts: [WELCOME, MAIN, ORDERS, SAM, BYE],
          };
    await withStack(
      {
        engine,
        script: () => ({ answeredBy: 'machine_end_other', greetingMs: 0, amdDelayMs: 5000, steps: [{ menu: TWO_LEVELS }, { waitForAgent: true, quietMs: 300 }, { say: BYE }, { waitForAgent: true, quietMs: 300, timeoutMs: 5000 }] }),
        conversation,
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 60_000);
        const tw = stack.twilio.calls[0];
        assert.equal(call.endReason, 'agent-hangup', JSON.stringify(tw.log.filter((l) => String(l.type).startsWith('menu') || l.type === 'callee-timeout')));
        assert.deepEqual(tw.dtmfHeard.map((d) => d.digit), ['2', '0']);
        assert.deepEqual(tw.log.filter((l) => l.type === 'menu-key').map((l) => [l.path, l.key, l.valid]), [['', '2', true], ['2', '0', true]]);
        // Each key went only after the whole prompt and the silence that ends it.
        const mainEnd = saidEnd(tw, MAIN);
        const ordersEnd = saidEnd(tw, ORDERS);
        assert.ok(tw.dtmfHeard[0].startMs >= mainEnd + PROMPT_END_MS - 100, `2 at ${tw.dtmfHeard[0].startMs} ms, main menu ended at ${mainEnd} ms`);
        assert.ok(tw.dtmfHeard[1].startMs >= ordersEnd + PROMPT_END_MS - 100, `0 at ${tw.dtmfHeard[1].startMs} ms, orders menu ended at ${ordersEnd} ms`);

        const ev = await timeline(stack, id);
        const modes = ev.filter((e) => e.type === 'mode.changed').map((e) => [e.data.to, e.data.reason]);
        assert.deepEqual(modes.at(-2), ['talking', 'person-answered']);
        assert.equal(modes.find((m) => m[0] === 'menu')?.[0], 'menu', JSON.stringify(modes));
        assert.deepEqual(
          ev.filter((e) => e.type === 'dtmf.sent').map((e) => [e.data.digits, e.data.source, e.data.status]),
          [
            ['2', 'tool', 'played'],
            ['0', 'tool', 'played'],
          ],
        );
        // Nothing was said to the menu: the agent's only words are to Sam, after he picked up.
        const agent = call.transcript.filter((t: any) => t.speaker === 'agent').map((t: any) => t.text);
        assert.deepEqual(agent, [HELLO_SAM, 'Thanks, goodbye!']);
        const samEnd = saidEnd(tw, SAM);
        const heardBeforeSam = tw.streams[0].agentPlayedMs;
        assert.ok(heardBeforeSam > 0);
        if (engine === 'gemini') assert.deepEqual(ev.filter((e) => e.type === 'menu.speechDropped').map((e) => e.data.text), ['Hello! Who am I speaking with?', 'Pressed two.', 'Waiting for a person.']);
        const txt = (await stack.api('GET', `/api/calls/${id}/transcript.txt`)).body as string;
        assert.match(txt, /\(pressed 2\)[\s\S]*\(pressed 0\)[\s\S]*Hi Sam/);
        assert.ok(tw.lastAgentAudioLineMs! > samEnd, 'the agent spoke to Sam');
      },
    );
  });
}

const WELCOME_MENU = 'Welcome to Acme. For billing, press 1. For orders, press 2.';
const INVALID = "I'm sorry, that is not a valid option.";

for (const engine of ENGINES) {
  test(`[${engine}] stuck: a wrong key gets "not a valid option"; the agent takes the operator route (0), records it, and Sam picks up`, async () => {
    const conversation = (): Conversation =>
      engine !== 'gemini'
        ? {
            turns: [{ call: { name: 'send_dtmf', args: { digits: '9' } } }, { say: HELLO_SAM }, { say: 'Thanks, goodbye!', call: { name: 'end_call', args: {} } }],
            userTranscripts: [WELCOME_MENU, `${INVALID} ${WELCOME_MENU}`, SAM, BYE],
          }
        : {
            turns: [
              { call: { name: 'send_dtmf', args: { digits: '9' } } },
              { say: 'Done.' }, // after the result: silenced
              { call: { name: 'send_dtmf', args: { digits: '9' } } }, // to the replayed menu: refused, 0 goes instead
              { say: 'Okay.' }, // silenced
              { say: HELLO_SAM },
              { say: 'Thanks, goodbye!', call: { name: 'end_call', args: {} } },
            ],
            userTranscripts: [WELCOME_MENU, `${INVALID} ${WELCOME_MENU}`, SAM, BYE],
          };
    await withStack(
      {
        engine,
        script: () => ({
          answeredBy: 'machine_end_other',
          greetingMs: 0,
          amdDelayMs: 3000,
          steps: [{ menu: { prompt: WELCOME_MENU, invalid: INVALID, options: { '1': { say: 'Billing is closed.' }, '2': { say: 'Orders is closed.' }, '0': { say: SAM } } } }, { waitForAgent: true, quietMs: 300 }, { say: BYE }, { waitForAgent: true, quietMs: 300, timeoutMs: 5000 }],
        }),
        conversation,
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 60_000);
        const tw = stack.twilio.calls[0];
        assert.equal(call.endReason, 'agent-hangup');
        assert.deepEqual(tw.dtmfHeard.map((d) => d.digit), ['9', '0']);
        assert.deepEqual(tw.log.filter((l) => l.type === 'menu-key').map((l) => [l.key, l.valid]), [['9', false], ['0', true]]);
        const ev = await timeline(stack, id);
        const stuck = ev.find((e) => e.type === 'menu.stuck');
        assert.equal(stuck?.data.why, 'invalid-option');
        assert.match(stuck?.data.prompt, /not a valid option/);
        assert.deepEqual(ev.filter((e) => e.type === 'menu.operator').map((e) => e.data), [{ route: '0' }]);
        assert.deepEqual(
          ev.filter((e) => e.type === 'dtmf.sent').map((e) => [e.data.digits, e.data.source, e.data.status]),
          [
            ['9', 'tool', 'played'],
            ['0', 'menu', 'played'],
          ],
        );
        if (engine === 'gemini') {
          // The engine's second choice came for the replayed menu and was not pressed: it was told why.
          const refused = (stack.gemini.sessions[0] as any).toolResponses.map((r: any) => JSON.stringify(r.response));
          assert.equal(refused.length, 2);
          assert.match(refused[1], /operator/);
        }
        assert.deepEqual(call.transcript.filter((t: any) => t.speaker === 'agent').map((t: any) => t.text), [HELLO_SAM, 'Thanks, goodbye!']);
        const txt = (await stack.api('GET', `/api/calls/${id}/transcript.txt`)).body as string;
        assert.match(txt, /\(pressed 9\)[\s\S]*not a valid option[\s\S]*\(pressed 0\)[\s\S]*Hi Sam/);
      },
    );
  });
}

for (const engine of ENGINES) {
  test(`[${engine}] stuck: the same prompt three times (the agent found no option to press); 0 is pressed on the third, nothing was said to the menu`, async () => {
    const THINK = 'Let me think about which option fits.';
    await withStack(
      {
        engine,
        // No key within 2.5 s: the menu plays its prompt again, word for word.
        script: () => ({
          answeredBy: 'machine_end_other',
          greetingMs: 0,
          amdDelayMs: 3000,
          steps: [{ menu: { prompt: WELCOME_MENU, noInput: '', timeoutMs: 2500, options: { '0': { say: SAM } } } }, { waitForAgent: true, quietMs: 300 }, { say: BYE }, { waitForAgent: true, quietMs: 300, timeoutMs: 5000 }],
        }),
        conversation: () => ({
          turns: [{ say: THINK }, { say: THINK }, ...(engine === 'gemini' ? [{ say: THINK }] : []), { say: HELLO_SAM }, { say: 'Thanks, goodbye!', call: { name: 'end_call', args: {} } }],
          userTranscripts: [WELCOME_MENU, WELCOME_MENU, WELCOME_MENU, SAM, BYE],
        }),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 60_000);
        const tw = stack.twilio.calls[0];
        assert.equal(call.endReason, 'agent-hangup');
        assert.equal(tw.log.filter((l) => l.type === 'menu-prompt').length, 3, 'the menu played three times');
        assert.deepEqual(tw.dtmfHeard.map((d) => d.digit), ['0']);
        assert.ok(tw.dtmfHeard[0].startMs >= saidEnd(tw, WELCOME_MENU, 2) + PROMPT_END_MS - 100, 'pressed after the third playing ended');
        const ev = await timeline(stack, id);
        assert.deepEqual(ev.filter((e) => e.type === 'menu.stuck').map((e) => [e.data.why, e.data.times]), [['repeated', 3]]);
        assert.deepEqual(ev.filter((e) => e.type === 'dtmf.sent').map((e) => [e.data.digits, e.data.source]), [['0', 'menu']]);
        assert.ok(ev.filter((e) => e.type === 'menu.speechDropped').length >= 2, 'the agent wanted to speak: it was not played');
        assert.deepEqual(call.transcript.filter((t: any) => t.speaker === 'agent').map((t: any) => t.text), [HELLO_SAM, 'Thanks, goodbye!']);
      },
    );
  });
}

// Engines that hear the menu while replies are off (Gemini answers every utterance, so it is tested by the
// cases above).
for (const engine of ['openai', 'cascade'] as const) {
  test(`[${engine}] a menu that opens with a short "Acme Supplies." gets greeted; its options then move the call to the menu, where it says nothing more`, async () => {
    const SHORT = 'Acme Supplies.';
    await withStack(
      {
        engine,
        // A person verdict comes 2 to 4 s after the answer: here after the end of "Acme Supplies." has opened
        // the greeting, with room for the cascade's Silero (in a worker thread) on a loaded machine.
        script: () => ({ answeredBy: 'human', amdDelayMs: 3000, steps: [{ menu: { prompt: [SHORT, MAIN], gapMs: 600, options: { '2': { say: SAM } } } }, { waitForAgent: true, quietMs: 300 }, { say: BYE }, { waitForAgent: true, quietMs: 300, timeoutMs: 5000 }] }),
        conversation: () => ({
          turns: [
            { say: "Hi, I'm an AI assistant calling on behalf of Raju Kumar about an order for pickup." }, // the greeting, to "Acme Supplies."
            { say: 'Sorry, could you say that again?' }, // the auto-reply to the options, before their words were known (silenced or cut at the menu)
            { call: { name: 'send_dtmf', args: { digits: '2' } } },
            { say: HELLO_SAM },
            { say: 'Thanks, goodbye!', call: { name: 'end_call', args: {} } },
          ],
          userTranscripts: [SHORT, MAIN, SAM, BYE],
        }),
      },
      async (stack) => {
        const id = await stack.placeCall();
        const call = await stack.waitForEnd(id, 60_000);
        const tw = stack.twilio.calls[0];
        assert.equal(call.endReason, 'agent-hangup');
        assert.deepEqual(tw.dtmfHeard.map((d) => d.digit), ['2']);
        const ev = await timeline(stack, id);
        const modes = ev.filter((e) => e.type === 'mode.changed').map((e) => [e.data.to, e.data.reason]);
        assert.deepEqual(modes.slice(0, 3), [
          ['talking', 'end-of-turn'],
          ['menu', 'menu-prompt'],
          ['talking', 'person-answered'],
        ]);
        // Once the options were heard for what they are, the agent said nothing more to the menu.
        const menuAt = ev.find((e) => e.type === 'mode.changed' && e.data.to === 'menu')!.at;
        const toMenu = call.transcript.filter((t: any) => t.speaker === 'agent' && t.startedAt > menuAt && t.text !== HELLO_SAM && t.text !== 'Thanks, goodbye!');
        assert.deepEqual(toMenu, []);
        assert.ok(tw.dtmfHeard[0].startMs >= saidEnd(tw, MAIN) + PROMPT_END_MS - 100, 'the key went after the whole prompt');
      },
    );
  });
}
