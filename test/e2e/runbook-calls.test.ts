/**
 * The shipped runbooks, end to end through the simulators: the call is made from the runbook file with
 * its variables, gets through what that kind of call meets, and its outcome holds the facts the runbook's
 * schema asks for, each cited from the transcript. Every engine, each with an outcome provider (OpenAI
 * Responses, Gemini; the cascade, whose models are OpenAI-compatible servers, Chat Completions). (The
 * order-food runbook's call is in outcome.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timelineOf, withStack, until, ENGINES } from './helpers.js';
import type { Conversation, Engine, Stack } from '../sim/stack.js';
import type { PhoneMenu } from '../sim/twilio/index.js';

/** The outcome provider each engine's call is summarised by (the cascade's models are OpenAI-compatible servers: Chat Completions). */
const OUTCOME: Record<Engine, 'openai' | 'gemini' | 'llm'> = { openai: 'openai', gemini: 'gemini', cascade: 'llm' };

const WELCOME = 'Thank you for calling StreamCo.';
const MAIN = 'For billing, press 1. To manage or cancel your subscription, press 2.';
const SUBS = 'Subscriptions. To change your plan, press 1. To cancel, press 2.';
const SAM = 'Hi, this is Sam in cancellations, how can I help?';
const OFFER_1 = 'Before you go, we can give you three months at half price. Would you like that?';
const OFFER_2 = 'I understand. What about pausing the subscription for two months instead, free of charge?';
const DONE = 'Alright, the subscription is cancelled as of today. Your confirmation number is CX-48213.';
const TRANSFER = 'Please hold while I transfer you to our cancellations team.';
const ANNOUNCEMENT = 'Please stay on the line.';
const MENU: PhoneMenu = { prompt: [WELCOME, MAIN], options: { '1': { say: 'Billing is closed today. Goodbye.' }, '2': { prompt: SUBS, options: { '1': { say: 'Plan changes are online only. Goodbye.' }, '2': { say: TRANSFER } } } } };

const HI_SAM = "Hi Sam, I'm an AI assistant calling on behalf of Raju Kumar to cancel his StreamCo subscription today.";
const DECLINE_1 = 'No, thank you. Raju wants to cancel today.';
const DECLINE_2 = 'No, thank you, no pause either. Please cancel it today.';
const GOODBYE = 'Thank you. That is C X 4 8 2 1 3. Goodbye!';

/** The engine's system prompt as its simulator received it (the cascade's with its first chat request). */
async function promptOf(stack: Stack, engine: Engine): Promise<string> {
  if (engine === 'cascade') return String((await until('the first chat request', () => stack.cascade.llm[0], 20_000)).body.messages[0]!.content);
  // The engine connects in the background while the call is placed: its session may not be configured yet.
  if (engine === 'openai') {
    const session = await until('the engine session', () => stack.openai.sessions[0], 20_000);
    await until('its session.update', () => session.received.some((e) => e.type === 'session.update'), 20_000);
    return String(session.config.instructions);
  }
  return JSON.stringify((await until('the engine session set up', () => stack.gemini.sessions[0]?.setup?.systemInstruction, 20_000))).replace(/\\n/g, '\n');
}

/**
 * The cancel call's model turns. OpenAI listens silently at the menu and is asked to choose when a prompt
 * ends; on hold it hears only the lines (transcribed) and is asked for the greeting when Sam is back.
 * The cascade does the same (the greeting it prepares at the pause after the welcome, before it knows a
 * menu answered, is thrown away unheard: docs/cascade.md, "The greeting"); its transcriber is sent each
 * line spoken on hold and transcribes what the file holds.
 * Gemini hears the menu only while it may answer, so it answers each prompt and each key's result by
 * itself (silenced); on hold it hears nothing (Sam's line is judged by the quiet after it).
 */
function cancelConversation(engine: Engine): Conversation {
  const end = { say: GOODBYE, call: { name: 'end_call', args: { reason: 'cancelled' } } };
  if (engine !== 'gemini') {
    return {
      turns: [
        { call: { name: 'send_dtmf', args: { digits: '2' } } },
        { call: { name: 'send_dtmf', args: { digits: '2' } } },
        { say: HI_SAM },
        { say: DECLINE_1 },
        { say: DECLINE_2 },
        end,
      ],
      userTranscripts: [WELCOME, MAIN, SUBS, TRANSFER, ANNOUNCEMENT, SAM, OFFER_1, OFFER_2, DONE],
      transcribeBySound: engine === 'cascade',
    };
  }
  return {
    turns: [
      { say: 'Hello! Who am I speaking with?' }, // to the welcome: silenced
      { call: { name: 'send_dtmf', args: { digits: '2' } } },
      { say: 'Pressed two.' }, // after the key's result: silenced
      { call: { name: 'send_dtmf', args: { digits: '2' } } },
      { say: 'Pressed two again.' }, // silenced
      { say: 'Okay, I will wait.' }, // to "please hold" at the menu: silenced, or cut unheard on hold
      { say: HI_SAM },
      { say: DECLINE_1 },
      { say: DECLINE_2 },
      end,
    ],
    userTranscripts: [WELCOME, MAIN, SUBS, TRANSFER, OFFER_1, OFFER_2, DONE],
  };
}

for (const engine of ENGINES) {
  test(`[${engine}] cancel-subscription: through the menu and a hold, both retention offers declined, the confirmation number recorded`, async () => {
    await withStack(
      {
        engine,
        outcome: OUTCOME[engine],
        script: () => ({
          answeredBy: 'machine_end_other',
          greetingMs: 0,
          amdDelayMs: 5000,
          steps: [
            { menu: MENU },
            // "Please hold" (the menu's last words), music, an announcement, a second of music (too short for
            // the classifier to confirm it as music), then the music stops while the call is transferred and
            // Sam picks up: the quiet after the announcement is not a person.
            { holdMs: 7200, music: 'noise', announcement: ANNOUNCEMENT, announceEveryMs: 4500 },
            { pauseMs: 2500 },
            { say: SAM },
            { waitForAgent: true, quietMs: 600 },
            { say: OFFER_1, durationMs: 3000 },
            { waitForAgent: true, quietMs: 600 },
            { say: OFFER_2, durationMs: 3000 },
            { waitForAgent: true, quietMs: 600 },
            { say: DONE, durationMs: 3000 },
            { waitForAgent: true, quietMs: 600, timeoutMs: 8000 },
          ],
        }),
        conversation: () => cancelConversation(engine),
      },
      async (stack) => {
        const id = await stack.placeCall({ runbook: 'cancel-subscription', instructions: undefined, variables: { service: 'StreamCo', account_holder: 'Raju Kumar' } });
        const call = await stack.waitForEnd(id, 120_000).catch(async (err) => {
          if (process.env.HOLD_DEBUG) for (const e of await timelineOf(stack, id)) if (e.type !== 'usage') console.log((e as any).at, e.type, JSON.stringify(e.data));
          throw err;
        });
        const ev = await timelineOf(stack, id);
        if (process.env.HOLD_DEBUG) for (const e of ev) if (e.type !== 'usage') console.log((e as any).at, e.type, JSON.stringify(e.data));
        assert.equal(call.endReason, 'agent-hangup');
        const prompt = await promptOf(stack, engine);
        assert.match(prompt, /Goal: Cancel StreamCo for Raju Kumar today and get a cancellation confirmation number\./);
        assert.match(prompt, /You must not agree to, whatever is offered:\n- accept any retention offer/);
        const tw = stack.twilio.calls[0];
        assert.deepEqual(tw.dtmfHeard.map((d) => d.digit), ['2', '2'], 'through the menu');
        // Menu, then hold, then a conversation with Sam: the announcement did not end the hold.
        const modes = ev.filter((e) => e.type === 'mode.changed').map((e) => [e.data.to, e.data.reason]);
        const menuAt = modes.findIndex((m) => m[0] === 'menu');
        const holdAt = modes.findIndex((m) => m[0] === 'on-hold');
        assert.ok(menuAt >= 0 && holdAt > menuAt, JSON.stringify(modes));
        assert.deepEqual(modes[holdAt + 1], ['talking', 'person-returned'], JSON.stringify(modes));
        const heard = ev.filter((e) => e.type === 'hold.heard').map((e) => e.data.verdict);
        assert.equal(heard.at(-1), 'person');
        assert.ok(heard.slice(0, -1).every((v) => v === 'announcement'), JSON.stringify(heard));
        const announcement = ev.filter((e) => e.type === 'hold.heard').at(-2)?.data;
        // OpenAI and the cascade transcribe on hold (the words decide); Gemini hears nothing, so the sound decides.
        assert.deepEqual([announcement?.verdict, announcement?.by], ['announcement', engine !== 'gemini' ? 'words' : 'music-stopped'], JSON.stringify(announcement));
        // Nothing reached the callee at the menu or on hold: the agent's first words are to Sam, after his line.
        const hold = tw.log.find((l) => l.type === 'callee-hold-end')!;
        assert.ok((hold.lastAgentPlayMs as number) < (hold.startMs as number), `agent heard at ${hold.lastAgentPlayMs} ms, hold from ${hold.startMs} ms`);
        // (A reply the engine began on hold is cut unheard: it stays on the transcript marked as such.)
        const agent = call.transcript.filter((t: any) => t.speaker === 'agent' && t.interrupted?.heardMs !== 0).map((t: any) => t.text);
        assert.deepEqual(agent, [HI_SAM, DECLINE_1, DECLINE_2, GOODBYE], 'one greeting to Sam, both retention offers declined');
        const confirmation = call.outcome.fields.find((f: any) => f.name === 'confirmationNumber');
        assert.equal(confirmation.value, 'CX-48213');
        const line = call.transcript[confirmation.citation.line];
        assert.equal(line.speaker, 'callee');
        assert.ok(line.text.includes(confirmation.citation.quote) && confirmation.citation.quote.includes('CX-48213'), 'cited from the line that says it');
      },
    );
  });
}

const OFFICE = "Dr. Chen's office, this is Maria.";
const OFFERED = 'We have two openings next week: one early in the morning, one late in the afternoon.';
const BOOKED = 'Great, Thursday at 4 pm is booked. Your confirmation is AP-7731.';

for (const engine of ENGINES) {
  test(`[${engine}] book-appointment: the offered times clash with the calendar notes, the agent asks the owner, and books the time the owner picks`, async () => {
    await withStack(
      {
        engine,
        outcome: OUTCOME[engine],
        script: () => ({
          idleHangupMs: 30_000,
          steps: [
            { say: OFFICE },
            { waitForAgent: true, quietMs: 300 },
            { say: OFFERED },
            { waitForAgent: true, quietMs: 300 },
            { pauseMs: 4000 },
            { waitForAgent: true, quietMs: 300, timeoutMs: 20_000 },
            { say: BOOKED },
            { waitForAgent: true, quietMs: 300, timeoutMs: 8000 },
          ],
        }),
        conversation: () => ({
          turns: [
            { say: "Hi Maria, I'm an AI assistant calling on behalf of Raju Kumar to move his appointment to a weekday morning next week." },
            { say: 'One moment, let me check with Raju.', call: { name: 'ask_owner', args: { question: 'The early morning opening clashes with your calendar notes. Is the late afternoon one all right?' } } },
            // Gemini and the cascade: the tool call is answered at once, and the owner's answer comes as a text
            // turn, on the cascade the instructions of a reply of its own (docs/ask-owner.md#engines).
            ...(engine !== 'openai' ? [{ say: 'I have asked Raju, just a moment.' }] : []),
            { say: `Thanks for waiting. ${engine !== 'openai' ? '{{clientText}}' : '{{toolOutput}}'} The late afternoon one, please.` },
            { say: 'Thank you, AP-7731. Goodbye!', call: { name: 'end_call', args: { reason: 'booked' } } },
          ],
          userTranscripts: [OFFICE, OFFERED, BOOKED],
          onInstructions: [{ match: 'still waiting for an answer', say: 'Still checking, thanks for waiting.' }],
        }),
        env: { ASK_OWNER_HOLDING_LINE_S: '30', ASK_OWNER_TIMEOUT_S: '30' },
      },
      async (stack) => {
        const id = await stack.placeCall({
          runbook: 'book-appointment',
          instructions: undefined,
          variables: { action: 'Move', patient: 'Raju Kumar', place: "Dr. Chen's office", preference: 'a weekday morning next week' },
        });
        const prompt = await promptOf(stack, engine);
        assert.match(prompt, /If every offered time clashes, or you are unsure, use the ask_owner tool/);
        // The owner answers the question on the call page (through the API the page uses).
        // The question comes three turns in (the greeting, the office's answer, the offered times). The cascade
        // took longer than the 300 polls (15 s and more) this used to wait, beside two other files on a 2-core
        // machine: the wait is 40 s of the clock.
        const asked: any = await until('the agent to ask the owner', async () => (await stack.api('GET', `/api/calls/${id}/questions`)).body.open?.[0], 40_000);
        assert.ok(asked, 'the agent asked the owner');
        assert.match(asked.question, /clashes/);
        const r = await stack.api('POST', `/api/calls/${id}/questions/${asked.id}/answer`, { answer: 'The late afternoon works' });
        assert.equal(r.status, 200);
        const call = await stack.waitForEnd(id, 60_000);
        assert.equal(call.endReason, 'agent-hangup');
        const toolResults =
          engine === 'openai'
            ? stack.openai.sessions[0].functionOutputs.map((f) => f.output)
            : engine === 'cascade'
              ? stack.cascade.llm.map((r) => r.instructions ?? '')
              : stack.gemini.sessions[0].clientContents.map((c) => c.text);
        assert.ok(toolResults.some((out) => /The late afternoon works/.test(out)), 'the answer went back to the model');
        const byName = Object.fromEntries(call.outcome.fields.map((f: any) => [f.name, f.value]));
        assert.equal(byName.appointmentDate, 'Thursday');
        assert.equal(byName.appointmentTime, '4 pm');
        assert.equal(byName.confirmationNumber, 'AP-7731');
        assert.equal(call.outcome.goalMet, 'achieved');
      },
    );
  });
}
