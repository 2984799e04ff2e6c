/**
 * The calls `npm run demo` can place (`--scenario <name>`), each a callee script for the Twilio simulator
 * and what the model "says" on each engine. The server between them is the real one.
 */
import type { CalleeScript } from '../test/sim/twilio/index.js';
import type { Conversation, Engine } from '../test/sim/stack.js';

export interface DemoScenario {
  /** One line for the banner. */
  title: string;
  instructions: string;
  /** Upload a note to the client's documents first (the order call looks it up). */
  uploadNote: boolean;
  script: CalleeScript;
  /**
   * What the simulated model says. `opening` is the disclosure the product's prompt asks for in the first
   * sentence under the server's settings (disclosureSentence in src/calls/prompt.ts), e.g. "I'm an AI
   * assistant calling on behalf of Raju Kumar, and this call is recorded."; '' when both are off.
   */
  conversation(engine: Engine, opening: string): Conversation;
}

/** A greeting: the salutation, the disclosure the rules require (if any), then the request. */
const greet = (hello: string, opening: string, request: string) => [hello, opening, request].filter(Boolean).join(' ');

/** A restaurant takes an order: greeting, a barge-in, a document lookup, goodbye and end_call. */
const order: DemoScenario = {
  title: 'an order for pickup',
  instructions: 'Order one chicken biryani for pickup at 7, my name is Raju. Do not make anything up.',
  uploadNote: true,
  script: {
    steps: [
      { say: 'Hello, Spice Garden, how can I help you?' },
      { waitForAgent: true, quietMs: 400 },
      { say: 'Sure. Anything else with that?' },
      { waitAgentPlayedMs: 1800 },
      { say: 'Sorry, do you want it spicy?' },
      { waitForAgent: true, quietMs: 400 },
      { say: "Okay, one chicken biryani, that's $12.99, ready at 7:00 pm under Raju. See you then." },
      { waitForAgent: true, quietMs: 400, timeoutMs: 8000 },
    ],
  },
  conversation: (_engine, opening) => ({
    turns: [
      { say: greet('Hi!', opening, "I'd like to place an order for pickup, please.") },
      { say: 'One chicken biryani for pickup at seven this evening. And I would also like to ask whether you have any vegetarian starters today, and what they cost.' },
      { call: { name: 'lookup_context', args: { query: 'spice level' } } },
      { say: "Raju's notes say medium spicy, please." },
      { say: 'Perfect, thank you so much. Goodbye!', call: { name: 'end_call', args: { reason: 'order placed' } } },
    ],
    userTranscripts: ['Hello, Spice Garden, how can I help you?', 'Sure. Anything else with that?', 'Sorry, do you want it spicy?', "Okay, one chicken biryani, that's $12.99, ready at 7:00 pm under Raju. See you then."],
  }),
};

const WELCOME = 'Thank you for calling StreamCo, your home of great shows.';
const MAIN = 'For billing, press 1. To manage or cancel your subscription, press 2.';
const SUBS = 'Subscriptions. To change your plan, press 1. To cancel your subscription, press 2.';
const SAM = 'Hi, this is Sam in cancellations, how can I help?';
const DONE = 'All done, the subscription is cancelled as of today. Anything else?';
const helloSam = (opening: string) => greet('Hi Sam.', opening, "I'd like to cancel Raju Kumar's StreamCo subscription, please.");
const BYE = "No, that's all. Thank you, goodbye!";


/**
 * Cancelling a subscription through a two-level phone menu: the menu answers (machine_end_other), the
 * agent hears each prompt out and presses 2, then 2, saying nothing to the menu; a person picks up.
 */
const menu: DemoScenario = {
  title: 'a phone menu, then a person (cancel a subscription)',
  instructions: "Cancel Raju Kumar's StreamCo subscription (account under his name). Do not make anything up.",
  uploadNote: false,
  script: {
    answeredBy: 'machine_end_other',
    greetingMs: 0,
    amdDelayMs: 5000,
    steps: [
      { menu: { prompt: [WELCOME, MAIN], options: { '1': { say: 'Billing is closed today. Goodbye.' }, '2': { prompt: SUBS, options: { '1': { say: 'Plan changes are online only. Goodbye.' }, '2': { say: SAM } } } } } },
      { waitForAgent: true, quietMs: 400 },
      { say: DONE },
      { waitForAgent: true, quietMs: 400, timeoutMs: 8000 },
    ],
  },
  // OpenAI and the cascade listen silently at the menu and are asked to choose at each prompt's end;
  // Gemini answers every utterance by itself, and those answers are not played to the menu.
  conversation: (engine, opening) => ({
    turns:
      engine !== 'gemini'
        ? [{ call: { name: 'send_dtmf', args: { digits: '2' } } }, { call: { name: 'send_dtmf', args: { digits: '2' } } }, { say: helloSam(opening) }, { say: BYE, call: { name: 'end_call', args: { reason: 'subscription cancelled' } } }]
        : [
            { say: 'Hello?' },
            { call: { name: 'send_dtmf', args: { digits: '2' } } },
            { say: 'Pressed two.' },
            { call: { name: 'send_dtmf', args: { digits: '2' } } },
            { say: 'Waiting.' },
            { say: helloSam(opening) },
            { say: BYE, call: { name: 'end_call', args: { reason: 'subscription cancelled' } } },
          ],
    userTranscripts: [WELCOME, MAIN, SUBS, SAM, DONE],
  }),
};

const ANNOUNCEMENT = 'Your call is important to us. Please continue to hold.';
const PERSON = 'Thanks for holding, this is Sam. What can I get you?';
const ORDER_TAKEN = "Okay, one chicken biryani, that's $12.99, ready at 7:00 pm under Raju.";

/**
 * Put on hold: the restaurant asks us to hold, music with a recorded announcement plays, and a person
 * comes back. The agent says nothing on hold (the engine hears only the speech, or nothing at all), then
 * greets the person with one line about why it called.
 */
const hold: DemoScenario = {
  title: 'put on hold, then a person (an order for pickup)',
  instructions: 'Order one chicken biryani for pickup at 7, my name is Raju. Do not make anything up.',
  uploadNote: false,
  script: {
    // The answering-machine verdict comes after the short opening (as on most real calls, 2 to 4 s).
    amdDelayMs: 2500,
    steps: [
      { say: 'Spice Garden.' },
      { waitForAgent: true, quietMs: 400 },
      { say: 'Please hold.' },
      { waitForAgent: true, quietMs: 400 },
      { holdMs: 12_000, announcement: ANNOUNCEMENT, announceEveryMs: 5000 },
      { say: PERSON },
      { waitForAgent: true, quietMs: 400 },
      { say: ORDER_TAKEN },
      { waitForAgent: true, quietMs: 400, timeoutMs: 8000 },
    ],
  },
  // OpenAI hears each line on hold (transcribed; auto-replies off), the cascade transcribes the speech its
  // VAD hears there; Gemini, which answers whatever it hears, is sent nothing on hold.
  conversation: (engine) => ({
    turns: [
      { say: "Hi! I'm an AI assistant calling on behalf of Raju Kumar to order food for pickup." },
      { say: "Sure, I'll hold." },
      { say: "Hi Sam, thanks. I'm calling for Raju Kumar to order one chicken biryani for pickup at seven." },
      { say: 'Perfect, thank you. Goodbye!', call: { name: 'end_call', args: { reason: 'order placed' } } },
    ],
    // How many stretches are heard on hold depends on the pace (the music's onset may make one), so the
    // simulators transcribe each by the scripted line it holds rather than in order.
    userTranscripts: engine !== 'gemini' ? ['Spice Garden.', 'Please hold.', ANNOUNCEMENT, PERSON, ORDER_TAKEN] : ['Spice Garden.', 'Please hold.', ORDER_TAKEN],
    transcribeBySound: engine !== 'gemini',
  }),
};

export const DEMO_SCENARIOS: Record<string, DemoScenario> = { order, menu, hold };
