import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAIRealtimeEngine } from '../../src/voice/openai-realtime/engine.js';
import { AudioChunk } from '../../src/media/audio-chunk.js';
import type { EngineEvent } from '../../src/voice/engine.js';
import { startOpenAIRealtimeSim } from '../sim/openai-realtime/index.js';
import { concat, loud, silence } from '../sim/openai-realtime/test-client.js';
import { until } from '../e2e/helpers.js';

const KEY = 'sk-test-sim';

/**
 * A turn the server ends in the round trip between "answer turns now" (session.update) and its
 * session.updated is committed under the old setting, unanswered: the greeting let go while the callee
 * still says "Hello?" is that case, and the callee then waits in silence. Against the Realtime simulator,
 * which reads client events in order as the API does.
 */
async function run(switchOn: 'before-speech' | 'after-turn-sent'): Promise<{ events: EngineEvent[]; responses: number }> {
  const sim = await startOpenAIRealtimeSim({ apiKey: KEY, scenario: () => ({ turns: [{ say: 'Hi, this is Callwright.' }, { say: 'A second answer nobody asked for.' }], userTranscripts: ['Hello?'] }) });
  const events: EngineEvent[] = [];
  const engine = new OpenAIRealtimeEngine({ apiKey: KEY, url: sim.url, model: 'gpt-realtime', voice: 'marin', transcriptionModel: 'gpt-4o-transcribe', silenceMs: 200, onEvent: (e) => events.push(e) });
  try {
    await engine.start({ instructions: 'Greet.', tools: [], autoRespond: false });
    if (switchOn === 'before-speech') {
      engine.setAutoRespond(true);
      await until('the update acknowledged', () => sim.sessions[0]!.sent.filter((e) => e.type === 'session.updated').length === 2, 5000);
    }
    // "Hello?" and the quiet after it, in 20 ms frames: the server's VAD ends the turn within them.
    const audio = concat(loud(600), silence(400));
    for (let i = 0; i < audio.length; i += 160) engine.pushAudio(AudioChunk.fromBytes(audio.subarray(i, i + 160)));
    // Switched on in the same turn of the event loop: the server reads it after the turn has ended.
    if (switchOn === 'after-turn-sent') engine.setAutoRespond(true);
    await until('an answer to the turn', () => events.some((e) => e.type === 'agent.responseDone'), 5000);
    // Time for a second, unwanted answer to show if one were coming.
    await new Promise((r) => setTimeout(r, 300));
    return { events, responses: sim.sessions[0]!.responses.length };
  } finally {
    await engine.close();
    await sim.close();
  }
}

test('OpenAI Realtime: a turn the server ended before it read "answer turns now" is answered, once', async () => {
  const { events, responses } = await run('after-turn-sent');
  assert.equal(responses, 1, 'one response: the engine asked for it');
  const stopped = events.findIndex((e) => e.type === 'user.speechStopped');
  const started = events.findIndex((e) => e.type === 'agent.responseStarted');
  assert.ok(stopped >= 0 && started > stopped, 'the answer follows the end of the turn');
  assert.equal(events.filter((e) => e.type === 'agent.transcript').map((e) => (e as { text: string }).text).join(), 'Hi, this is Callwright.');
});

test('OpenAI Realtime: with answers on before the turn, the server answers it and the engine asks for nothing more', async () => {
  const { responses } = await run('before-speech');
  assert.equal(responses, 1, 'one response: the server\'s own');
});

/**
 * The reverse: automatic answers are switched off (a limit's wrap-up, a menu, hold) and a reply asked
 * for in the same moment, while the server ends a turn it still answers by itself. Its answer is running
 * when the reply arrives, so the reply is refused (conversation_already_has_active_response).
 */
test('OpenAI Realtime: answers switched off as the server ends a turn: its own answer is stopped unheard and the reply asked for is said', async () => {
  const sim = await startOpenAIRealtimeSim({
    apiKey: KEY,
    scenario: () => ({ turns: [{ say: 'Hi, this is Callwright.' }, { say: 'An answer nobody asked for.' }], onInstructions: [{ match: 'goodbye', say: 'Thanks, goodbye.' }], userTranscripts: ['Hello?'] }),
  });
  const events: EngineEvent[] = [];
  const engine = new OpenAIRealtimeEngine({ apiKey: KEY, url: sim.url, model: 'gpt-realtime', voice: 'marin', transcriptionModel: 'gpt-4o-transcribe', silenceMs: 200, onEvent: (e) => events.push(e) });
  try {
    await engine.start({ instructions: 'Greet.', tools: [], autoRespond: false });
    engine.generateReply();
    await until('the greeting', () => events.some((e) => e.type === 'agent.responseDone'), 5000);
    engine.setAutoRespond(true);
    await until('answers on', () => sim.sessions[0]!.sent.filter((e) => e.type === 'session.updated').length === 2, 5000);

    const audio = concat(loud(600), silence(400));
    for (let i = 0; i < audio.length; i += 160) engine.pushAudio(AudioChunk.fromBytes(audio.subarray(i, i + 160)));
    // Read by the server after the turn it ends in those frames, which it answers under the old setting.
    engine.setAutoRespond(false);
    engine.generateReply({ instructions: 'Say goodbye.' });

    await until('the goodbye said', () => events.some((e) => e.type === 'agent.transcript' && e.text === 'Thanks, goodbye.'), 5000);
    await new Promise((r) => setTimeout(r, 200));
    const session = sim.sessions[0]!;
    const [, serverOwn, goodbye] = session.responses;
    assert.equal(session.responses.length, 3);
    assert.equal(serverOwn!.trigger, 'vad', 'the race happened: the server answered the turn by itself');
    assert.equal(serverOwn!.status, 'cancelled');
    assert.ok(session.errorsSent.some((e) => e.code === 'conversation_already_has_active_response'), 'the goodbye was refused at first');
    assert.equal(goodbye!.transcript, 'Thanks, goodbye.');
    // Nothing of the server's own answer reaches the bridge: no start, no audio, no words.
    const told = events.filter((e) => e.type === 'agent.responseStarted').map((e) => e.responseId);
    assert.deepEqual(told, [session.responses[0]!.id, goodbye!.id]);
    assert.ok(!events.some((e) => e.type === 'agent.audio' && e.responseId === serverOwn!.id));
    assert.deepEqual(events.filter((e) => e.type === 'agent.transcript').map((e) => e.text), ['Hi, this is Callwright.', 'Thanks, goodbye.']);
    // It is not in the conversation the goodbye was made from, and it is paid for.
    assert.ok(serverOwn!.itemId && !session.conversation.get(serverOwn!.itemId), 'its item was deleted');
    assert.equal(events.filter((e) => e.type === 'usage' && e.usage.model === 'gpt-realtime').length, 3);
  } finally {
    await engine.close();
    await sim.close();
  }
});

test('OpenAI Realtime: a reply asked for right after cancelling a response waits for the cancelled one to finish, then is said', async () => {
  const sim = await startOpenAIRealtimeSim({
    apiKey: KEY,
    pacing: 'realtime',
    deltaMs: 20,
    cancelLatencyMs: 30,
    scenario: () => ({ turns: [{ say: 'A long answer that is still being spoken when the call has to end.' }], onInstructions: [{ match: 'goodbye', say: 'Sorry, I have to go. Goodbye.' }] }),
  });
  const events: EngineEvent[] = [];
  const engine = new OpenAIRealtimeEngine({ apiKey: KEY, url: sim.url, model: 'gpt-realtime', voice: 'marin', transcriptionModel: 'gpt-4o-transcribe', silenceMs: 200, onEvent: (e) => events.push(e) });
  try {
    await engine.start({ instructions: 'Talk.', tools: [], autoRespond: false });
    engine.generateReply();
    await until('the answer playing', () => events.some((e) => e.type === 'agent.audio'), 5000);
    // A wrap-up: the running answer is cut and the goodbye asked for at once.
    engine.interrupt();
    engine.generateReply({ instructions: 'Say goodbye.' });
    await until('the goodbye said', () => events.some((e) => e.type === 'agent.transcript' && e.text === 'Sorry, I have to go. Goodbye.'), 5000);
    const session = sim.sessions[0]!;
    assert.deepEqual(session.responses.map((r) => r.status), ['cancelled', 'completed']);
    assert.deepEqual(session.errorsSent, [], 'the goodbye was asked for once the cancelled answer had finished');
  } finally {
    await engine.close();
    await sim.close();
  }
});
