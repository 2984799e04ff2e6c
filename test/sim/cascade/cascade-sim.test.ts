/**
 * The cascade simulator's scripted conversations (scenario.ts) and transcription by sound
 * (stt-by-sound.ts), as the behaviour suite relies on them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CascadeScript } from './scenario.js';
import { SoundTranscriber } from './stt-by-sound.js';
import { UtteranceTranscripts } from './utterances.js';
import { startCascadeSim } from './index.js';
import type { ChatRequest } from './llm.js';
import { speech } from '../twilio/callee-audio.js';
import { mulawDecode } from '../../../src/media/mulaw.js';
import { Upsampler8kTo16k } from '../../../src/media/resample.js';

const SESSION = 'You call a restaurant.\n\nYou are speaking on a phone call.';
const req = (messages: ChatRequest['messages'], extra = ''): ChatRequest => ({ model: 'm', stream: true, messages: [{ role: 'system', content: extra ? `${SESSION}\n\n${extra}` : SESSION }, ...messages] });

test('turns go by conversation: a repeat (a dropped prepared reply, or one asked with instructions before it was used) is the same turn; the agent\'s words do not count', () => {
  const s = new CascadeScript({ turns: [{ say: 'Hi!' }, { say: 'One biryani.' }, { say: 'Bye.' }], onInstructions: [{ match: 'still waiting', say: 'Still checking.' }] });
  const hello = [{ role: 'user', content: 'Hello?' }];
  assert.equal(s.reply(req(hello)).turn.say, 'Hi!');
  assert.equal(s.reply(req(hello)).fresh, false);
  assert.equal(s.reply(req(hello, 'Choose a menu option.')).turn.say, 'Hi!', 'instructions alone are no new conversation');
  // The agent's greeting as generated, and as heard after a barge-in: one conversation.
  const whole = [...hello, { role: 'assistant', content: 'Hi! I am calling for Raju.' }, { role: 'user', content: 'Stop.' }];
  const heard = [...hello, { role: 'assistant', content: 'Hi! I am' }, { role: 'user', content: 'Stop.' }];
  assert.equal(s.reply(req(whole)).turn.say, 'One biryani.');
  assert.deepEqual(s.reply(req(heard)), { turn: { say: 'One biryani.' }, instructions: '', scripted: 2, fresh: false, callIds: [] });
  // Instructions that match answer without advancing the script.
  assert.deepEqual(s.reply(req(heard, 'You are still waiting for an answer.')), { turn: { say: 'Still checking.' }, instructions: 'You are still waiting for an answer.', scripted: 0, fresh: true });
  assert.equal(s.reply(req([...heard, { role: 'assistant', content: 'One biryani.' }, { role: 'user', content: 'Ok' }])).turn.say, 'Bye.');
  s.spoken('Bye.');
  assert.equal(s.reply(req([{ role: 'user', content: 'Anything else' }])).turn.say, 'Okay.', 'past the script: the fallback');
});

test('{{clientText}} is the reply\'s instructions and {{toolOutput}} the latest tool result', () => {
  const s = new CascadeScript({ turns: [{ say: 'Hello.' }, { say: 'Relaying: {{clientText}}' }, { say: 'Result: {{toolOutput}}' }] });
  assert.equal(s.reply(req([{ role: 'user', content: 'Hi' }])).turn.say, 'Hello.');
  s.spoken('Hello.');
  const first = s.reply(req([{ role: 'user', content: 'Hello' }], 'Raju answered: "mild"'));
  // The session's instructions are what the requests share: the first had none of its own.
  assert.equal(first.turn.say, 'Relaying: Raju answered: "mild"');
  s.spoken('Relaying:');
  const call = { id: 'c1', function: { name: 'lookup_context', arguments: '{}' } };
  const withResult = s.reply(req([{ role: 'user', content: 'When?' }, { role: 'assistant', content: '', tool_calls: [call] }, { role: 'tool', tool_call_id: 'c1', content: 'evenings' }]));
  assert.equal(withResult.turn.say, 'Result: evenings');
});

test('the script moves on only past replies the engine used: spoken, held in a later conversation, or a tool call answered', () => {
  const s = new CascadeScript({ turns: [{ call: { name: 'send_dtmf', args: { digits: '2' } } }, { say: 'Thinking it over.' }, { say: 'Hi Sam!' }] });
  const welcome = { role: 'user', content: 'Welcome to Acme.' };
  const options = { role: 'user', content: 'For billing, press 1.' };
  // A reply prepared for the welcome alone, then dropped when the options followed: never spoken, never held.
  const dropped = s.reply(req([welcome]));
  assert.equal(dropped.scripted, 1);
  const press = s.reply(req([welcome, options], 'Choose an option.'));
  assert.deepEqual([press.scripted, press.fresh, press.turn.call?.name], [1, false, 'send_dtmf'], 'the same turn: the dropped reply moved nothing');
  // Its key press ran: the tool result in the next conversation shows it was used.
  const pressed = [welcome, options, { role: 'assistant', content: '', tool_calls: [{ id: press.callIds![0], function: { name: 'send_dtmf', arguments: '{}' } }] }, { role: 'tool', tool_call_id: press.callIds![0], content: 'Pressed 2.' }];
  const think = s.reply(req(pressed));
  assert.equal(think.turn.say, 'Thinking it over.');
  // Spoken, then forgotten (silenced at a menu): used all the same. The same conversation asked again with
  // the menu's instructions is answered anew, not with the words said before.
  s.spoken('Thinking it over.');
  assert.equal(s.reply(req(pressed, 'Choose an option.')).turn.say, 'Hi Sam!');
  const sam = { role: 'user', content: 'Hi, this is Sam.' };
  assert.equal(s.reply(req([...pressed, sam])).turn.say, 'Hi Sam!');
});

/** The callee's line as the engine sends it: 8 kHz doubled by the project's half-band filter, after `leadSamples` of silence. */
function asSent(text: string, leadSamples: number): Int16Array {
  const pcm = mulawDecode(speech(text));
  const padded = new Int16Array(leadSamples + pcm.length);
  padded.set(pcm, leadSamples);
  return new Upsampler8kTo16k().process(padded, new Int16Array(padded.length * 2));
}

test('by sound: the scripted line an utterance holds, wherever its frames start; none for other audio', () => {
  const lines = ['Hello, Spice Garden.', 'No medium spice today. Mild or extra hot?', 'Great, bye.'];
  const stt = new SoundTranscriber(lines);
  assert.equal(stt.transcribe(asSent(lines[1], 0)), lines[1]);
  assert.equal(stt.transcribe(asSent(lines[2], 37)), lines[2], 'a pre-roll that is not whole frames');
  assert.equal(stt.transcribe(asSent('Something nobody scripted.', 0)), undefined);
  const hum = new Int16Array(16000).map((_, i) => Math.round(3000 * Math.sin((2 * Math.PI * 60 * i) / 16000)));
  assert.equal(stt.transcribe(hum), undefined);
});

test('scripted transcripts by utterance: the start of one sent first and the whole later is one; the same words said again later are the next, or as before when the script does not list them again', () => {
  const WELCOME = 'Welcome to Acme. For billing, press 1.';
  const line = asSent(WELCOME, 160);
  const rate = 16000;
  const ms = (pcm: Int16Array) => (pcm.length / rate) * 1000;
  const u = new UtteranceTranscripts([WELCOME, WELCOME, WELCOME, 'Hi, this is Sam.']);
  const part = line.subarray(0, line.length >> 1);
  assert.equal(u.transcribe(part, rate, 10_000), WELCOME);
  // The whole, sent when the turn ended: it starts with the part's samples, at the part's time.
  assert.equal(u.transcribe(line, rate, 10_000 - ms(part) + ms(line) + 150), WELCOME);
  // Or sent late, by a loaded machine.
  assert.equal(u.transcribe(line, rate, 10_000 - ms(part) + ms(line) + 1300), WELCOME);
  // A menu replaying its recording: the very same samples, spoken later, listed again.
  assert.equal(u.transcribe(line, rate, 10_000 + 6000), WELCOME);
  assert.equal(u.transcribe(line, rate, 10_000 + 12_000), WELCOME);
  assert.equal(u.transcribe(asSent('Hi, this is Sam.', 160), rate, 10_000 + 15_000), 'Hi, this is Sam.');
  // Said again and not listed again (another call on the same script): the same words, the script stays.
  const hello = new UtteranceTranscripts(['Hello?', 'Sure.']);
  assert.equal(hello.transcribe(asSent('Hello?', 0), rate, 1000), 'Hello?');
  assert.equal(hello.transcribe(asSent('Hello?', 0), rate, 20_000), 'Hello?');
  assert.equal(hello.transcribe(asSent('Sure.', 0), rate, 22_000), 'Sure.');
});

test('a scenario given as a function is asked for at the first request that needs it, not when the simulator starts', async () => {
  let asked = 0;
  const sim = await startCascadeSim({ scenario: () => (asked++, { turns: [{ say: 'Hello there.' }] }) });
  try {
    assert.equal(asked, 0);
    const res = await fetch(`${sim.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(req([{ role: 'user', content: 'Hi' }])) });
    assert.match(await res.text(), /Hello/);
    assert.equal(asked, 1);
  } finally {
    await sim.close();
  }
});
