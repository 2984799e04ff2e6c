/**
 * The cascade engine's orchestration with stages of known behaviour: the greeting, clause-by-clause speech
 * that starts before the LLM has finished, tool calls and their results in the next request, a callee turn
 * answered by itself, barge-in cutting the agent's memory to the clauses heard, usage from each stage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CascadeEngine, NO_THINK } from '../../src/voice/cascade/engine.js';
import { OPENING_CUE } from '../../src/voice/cascade/conversation.js';
import type { CascadeStages, ChatMessage, LlmChunk, TurnEvent } from '../../src/voice/cascade/stages.js';
import type { EngineEvent } from '../../src/voice/engine.js';
import { AudioChunk } from '../../src/media/audio-chunk.js';

interface Fake {
  stages: CascadeStages;
  requests: ChatMessage[][];
  /** Replies the LLM streams, in order; a function may wait (to show speech starts before the end). */
  replies: Array<LlmChunk[] | ((signal: AbortSignal) => AsyncIterable<LlmChunk>)>;
  turnEvents: Array<TurnEvent | undefined>;
  heardFrames: number;
  transcripts: string[];
}

/** 10 ms of speech per character, in 40 ms pieces. */
function fake(): Fake {
  const f: Fake = { requests: [], replies: [], turnEvents: [], heardFrames: 0, transcripts: [], stages: undefined as never };
  f.stages = {
    turns: () => ({ hear: (_pcm, heard) => (f.heardFrames++, heard(f.turnEvents.shift())), close: () => undefined }),
    stt: {
      model: 'stt-x',
      open: () => {
        let samples = 0;
        return { push: (p) => void (samples += p.length), finish: async () => ({ text: f.transcripts.shift() ?? '', usage: { provider: 'stt', model: 'stt-x', meters: { audio_seconds: samples / 8000 } } }), abort: () => undefined };
      },
    },
    llm: {
      model: 'llm-x',
      stream: (req, signal) => {
        f.requests.push(req.messages);
        const r = f.replies.shift() ?? [{ type: 'text', text: 'Okay.' }];
        if (typeof r === 'function') return r(signal);
        return (async function* () {
          for (const c of r) yield c;
        })();
      },
    },
    tts: {
      model: 'tts-x',
      async *synthesize(text) {
        const total = text.length * 80;
        for (let i = 0; i < total; i += 320) yield new Int16Array(Math.min(320, total - i)).fill(3000);
      },
      usageFor: (text) => ({ provider: 'tts', model: 'tts-x', meters: { characters: text.length } }),
    },
  };
  return f;
}

/** `hook` sees each event as the bridge does, synchronously, with the engine (to ask for a reply then). */
interface Extra {
  hook?: (e: EngineEvent, engine: CascadeEngine) => void;
  holdForCalleeMs?: number;
}

async function engineWith(f: Fake, autoRespond = true, extra: Extra = {}): Promise<{ engine: CascadeEngine; events: EngineEvent[]; until: (p: (e: EngineEvent) => boolean) => Promise<EngineEvent> }> {
  const events: EngineEvent[] = [];
  const waiters: Array<{ p: (e: EngineEvent) => boolean; resolve: (e: EngineEvent) => void }> = [];
  const engine: CascadeEngine = new CascadeEngine({
    stages: f.stages,
    noThink: true,
    holdForCalleeMs: extra.holdForCalleeMs,
    onEvent: (e) => {
      events.push(e);
      extra.hook?.(e, engine);
      for (const w of [...waiters]) if (w.p(e)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(e));
    },
  });
  await engine.start({ instructions: 'Order a biryani.', tools: [{ name: 'end_call', description: 'hang up', parameters: {} }], autoRespond });
  const until = (p: (e: EngineEvent) => boolean) => {
    const seen = events.find(p);
    return seen ? Promise.resolve(seen) : new Promise<EngineEvent>((resolve) => waiters.push({ p, resolve }));
  };
  return { engine, events, until };
}

const SILENT = AudioChunk.fromBytes(new Uint8Array(160).fill(0xff));
const done = (e: EngineEvent) => e.type === 'agent.responseDone';

test('greeting: the LLM speaks first (with a cue), told not to think aloud; the clauses are spoken in order and the transcript is the whole text', async () => {
  const f = fake();
  f.replies.push([{ type: 'text', text: "Hi, I'm an AI assistant calling " }, { type: 'text', text: 'for Raju. Is this the restaurant?' }, { type: 'usage', usage: { provider: 'llm', model: 'llm-x', meters: { text_input: 50, text_output: 12 } } }]);
  const { engine, events, until } = await engineWith(f, false);
  engine.generateReply();
  await until(done);
  const msgs = f.requests[0];
  assert.equal(msgs[0].role, 'system');
  assert.match(msgs[0].content, /Order a biryani/);
  assert.ok(msgs[0].content.includes(NO_THINK));
  assert.deepEqual(msgs.slice(1), [{ role: 'user', content: OPENING_CUE }]);
  const types = events.map((e) => e.type);
  assert.equal(types[0], 'agent.responseStarted');
  const transcript = events.find((e) => e.type === 'agent.transcript') as Extract<EngineEvent, { type: 'agent.transcript' }>;
  assert.equal(transcript.text, "Hi, I'm an AI assistant calling for Raju. Is this the restaurant?");
  const audioMs = events.filter((e) => e.type === 'agent.audio').reduce((a, e) => a + (e as any).audio.length / 8, 0);
  assert.equal(transcript.audioMs, audioMs);
  assert.equal(audioMs, transcript.text.length * 10 - 10, 'two clauses: every character but the space between them');
  assert.deepEqual(events.filter((e) => e.type === 'usage').map((e) => (e as any).usage.provider), ['llm', 'tts', 'tts']);
  assert.equal((events.at(-1) as any).status, 'completed');
});

test('the first clause is spoken while the LLM is still writing the rest', async () => {
  const f = fake();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  f.replies.push(() =>
    (async function* (): AsyncIterable<LlmChunk> {
      yield { type: 'text', text: 'Sure, one moment please. ' };
      await gate;
      yield { type: 'text', text: 'Done.' };
    })(),
  );
  const { engine, events, until } = await engineWith(f);
  engine.generateReply();
  await until((e) => e.type === 'agent.audio');
  assert.ok(!events.some(done), 'audio before the reply is finished');
  release();
  await until(done);
});

test('a tool call comes after the words before it; its result goes back with the call, and the reply that follows sees both', async () => {
  const f = fake();
  f.replies.push([{ type: 'text', text: 'Thanks, goodbye!' }, { type: 'toolCall', call: { id: 'call_1', name: 'end_call', arguments: '{"reason":"done"}' } }]);
  const { engine, events, until } = await engineWith(f);
  engine.generateReply();
  await until(done);
  const order = events.map((e) => e.type).filter((t) => t !== 'agent.audio' && t !== 'usage');
  assert.deepEqual(order, ['agent.responseStarted', 'agent.transcript', 'tool.call', 'agent.responseDone']);
  engine.sendToolResult('call_1', '{"ok":true}', { reply: true });
  await until((e) => e.type === 'agent.responseDone' && e.responseId !== (events.find(done) as any).responseId);
  assert.deepEqual(f.requests[1].slice(1), [
    { role: 'user', content: OPENING_CUE },
    { role: 'assistant', content: 'Thanks, goodbye!', toolCalls: [{ id: 'call_1', name: 'end_call', arguments: '{"reason":"done"}' }] },
    { role: 'tool', toolCallId: 'call_1', content: '{"ok":true}' },
  ]);
});

test('a callee turn: speech started, stopped, transcribed with its pre-roll, and answered by itself once auto-replies are on', async () => {
  const f = fake();
  f.transcripts.push('What time is pickup?');
  f.replies.push([{ type: 'text', text: 'Seven.' }]);
  const { engine, events, until } = await engineWith(f);
  // Five quiet frames, speech confirmed on the sixth, ten frames of it, then the end of the turn.
  f.turnEvents.push(undefined, undefined, undefined, undefined, undefined, 'speechStarted', ...Array(10).fill(undefined), 'turnEnded');
  for (let i = 0; i < 17; i++) engine.pushAudio(SILENT);
  await until(done);
  const t = events.find((e) => e.type === 'user.transcript') as any;
  assert.equal(t.text, 'What time is pickup?');
  assert.equal((events.find((e) => e.type === 'user.speechStarted') as any).itemId, t.itemId);
  const stt = events.find((e) => e.type === 'usage' && e.usage.provider === 'stt') as any;
  // Six frames up to the start (all within the 300 ms pre-roll) and eleven after: 17 frames of 20 ms.
  assert.equal(stt.usage.meters.audio_seconds, 0.34);
  assert.deepEqual(f.requests[0].at(-1), { role: 'user', content: 'What time is pickup?' });
});

test('no reply of its own to a turn that ends while the agent is replying, and none at all while auto-replies are off', async () => {
  const f = fake();
  f.transcripts.push('Hello?', 'Mhm.');
  const { engine, events, until } = await engineWith(f, false);
  f.turnEvents.push('speechStarted', 'turnEnded');
  engine.pushAudio(SILENT);
  engine.pushAudio(SILENT);
  await until((e) => e.type === 'user.transcript');
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(!events.some((e) => e.type === 'agent.responseStarted'));
  engine.setAutoRespond(true);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  f.replies.push(() =>
    (async function* (): AsyncIterable<LlmChunk> {
      yield { type: 'text', text: 'Hi, this is the assistant. ' };
      await gate;
    })(),
  );
  engine.generateReply();
  await until((e) => e.type === 'agent.audio');
  f.turnEvents.push('speechStarted', 'turnEnded');
  engine.pushAudio(SILENT);
  engine.pushAudio(SILENT);
  await until((e) => e.type === 'user.transcript' && e.text === 'Mhm.');
  release();
  await until(done);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(events.filter((e) => e.type === 'agent.responseStarted').length, 1);
});

test('barge-in: the reply stops, and the next request carries only the clauses heard plus the heard share of the one cut', async () => {
  const f = fake();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const first = 'Your order is one chicken biryani.';
  const second = 'Pickup is at seven in the evening at the front counter.';
  f.replies.push((signal) =>
    (async function* (): AsyncIterable<LlmChunk> {
      yield { type: 'text', text: `${first} ${second} ` };
      await Promise.race([gate, new Promise((r) => signal.addEventListener('abort', r))]);
      yield { type: 'text', text: 'Anything else?' };
    })(),
  );
  const { engine, events, until } = await engineWith(f);
  engine.generateReply();
  // Both clauses synthesized (the LLM still open): the callee cuts in halfway through the second.
  await until(() => events.filter((e) => e.type === 'agent.audio').reduce((a, e) => a + (e as any).audio.length / 8, 0) >= (first.length + second.length) * 10);
  const item = (events.find((e) => e.type === 'agent.audio') as any).itemId;
  engine.interrupt();
  engine.truncate(item, first.length * 10 + (second.length * 10) / 2);
  const cancelled = (await until(done)) as any;
  assert.equal(cancelled.status, 'cancelled');
  release();
  assert.ok(!events.some((e) => e.type === 'tool.call'));
  f.replies.push([{ type: 'text', text: 'Sorry, go ahead.' }]);
  engine.generateReply();
  await until((e) => e.type === 'agent.responseDone' && e.responseId !== cancelled.responseId);
  const assistant = f.requests[1].find((m) => m.role === 'assistant');
  assert.deepEqual(assistant, { role: 'assistant', content: `${first} Pickup is at seven in the` });
});

test('an item the callee never heard is forgotten; its tool calls stay answered', async () => {
  const f = fake();
  f.replies.push([{ type: 'text', text: 'Checking.' }, { type: 'toolCall', call: { id: 'c1', name: 'end_call', arguments: '{}' } }]);
  const { engine, until } = await engineWith(f);
  engine.generateReply();
  const t = (await until((e) => e.type === 'agent.transcript')) as any;
  await until(done);
  engine.deleteItem(t.itemId);
  engine.sendToolResult('c1', 'ok', { reply: true });
  await poll('the second request', () => f.requests.length === 2);
  assert.deepEqual(f.requests[1].filter((m) => m.role === 'assistant' || m.role === 'tool'), [
    { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'end_call', arguments: '{}' }] },
    { role: 'tool', toolCallId: 'c1', content: 'ok' },
  ]);
});

test('a failing LLM request is an error the call survives; an unreachable server is fatal', async () => {
  const { StageError } = await import('../../src/voice/cascade/stages.js');
  const f = fake();
  f.replies.push(() => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new StageError('llm', 'HTTP 500')) }) }));
  f.replies.push(() => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new StageError('llm', 'connection refused', true)) }) }));
  const { engine, events, until } = await engineWith(f);
  engine.generateReply();
  await until(done);
  engine.generateReply();
  await until(() => events.filter(done).length === 2);
  assert.deepEqual(events.filter((e) => e.type === 'error').map((e) => [(e as any).error.code, (e as any).error.fatal]), [['llm_failed', false], ['llm_unreachable', true]]);
  assert.deepEqual(events.filter(done).map((e) => (e as any).status), ['failed', 'failed']);
  await engine.close();
  assert.deepEqual(events.at(-1), { type: 'closed', expected: true, reason: 'call ended' });
});

async function poll(what: string, fn: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !fn(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(fn(), `waited for ${what}`);
}

/** An STT that can transcribe the audio so far (peek), counting its requests. */
function withPeek(f: Fake): { calls: string[] } {
  const log = { calls: [] as string[] };
  f.stages.stt = {
    model: 'stt-x',
    open: () => ({
      push: () => undefined,
      finish: async () => (log.calls.push('finish'), { text: f.transcripts.shift() ?? '' }),
      peek: async () => (log.calls.push('peek'), { text: f.transcripts[0] ?? '' }),
      abort: () => undefined,
    }),
  };
  return log;
}

test('speculative reply: started at the callee pause, used when the turn ends without more speech (one STT request, one LLM request)', async () => {
  const f = fake();
  const stt = withPeek(f);
  f.transcripts.push('What time is pickup?');
  f.replies.push([{ type: 'text', text: 'Seven.' }]);
  const { engine, events, until } = await engineWith(f);
  f.turnEvents.push('speechStarted', undefined, 'speechPaused');
  for (let i = 0; i < 3; i++) engine.pushAudio(SILENT);
  await poll('the prepared request', () => f.requests.length === 1);
  assert.ok(!events.some((e) => e.type === 'user.speechStopped' || e.type === 'agent.responseStarted'), 'prepared during the silence, nothing said yet');
  assert.deepEqual(f.requests[0].at(-1), { role: 'user', content: 'What time is pickup?' });
  f.turnEvents.push('turnEnded');
  engine.pushAudio(SILENT);
  await until(done);
  assert.deepEqual(stt.calls, ['peek']);
  assert.equal(f.requests.length, 1);
  assert.equal((events.find((e) => e.type === 'agent.transcript') as any).text, 'Seven.');
  assert.equal((events.find((e) => e.type === 'user.transcript') as any).text, 'What time is pickup?');
});

test('speculative reply: dropped (its request aborted) when the callee speaks again, and asked afresh at the real end of the turn', async () => {
  const f = fake();
  const stt = withPeek(f);
  f.transcripts.push('What time is pickup, and can I pay by card?');
  let aborted = false;
  f.replies.push((signal) =>
    (async function* (): AsyncIterable<LlmChunk> {
      await new Promise((r) => signal.addEventListener('abort', r));
      aborted = true;
    })(),
  );
  f.replies.push([{ type: 'text', text: 'Seven, and yes.' }]);
  const { engine, events, until } = await engineWith(f);
  f.turnEvents.push('speechStarted', 'speechPaused');
  engine.pushAudio(SILENT);
  engine.pushAudio(SILENT);
  await poll('the prepared request', () => f.requests.length === 1);
  f.turnEvents.push('speechResumed', 'speechPaused', 'turnEnded');
  engine.pushAudio(SILENT);
  await poll('the abort', () => aborted);
  engine.pushAudio(SILENT);
  engine.pushAudio(SILENT);
  await until(done);
  assert.equal((events.find((e) => e.type === 'agent.transcript') as any).text, 'Seven, and yes.');
  // The second pause's speculation is used if it got going; either way one reply, answering the whole turn.
  assert.equal(events.filter((e) => e.type === 'agent.responseStarted').length, 1);
  assert.deepEqual(f.requests.at(-1)!.at(-1), { role: 'user', content: 'What time is pickup, and can I pay by card?' });
  assert.ok(stt.calls.length >= 2);
});

/** As the greeting gate does at the end of a short opening: auto-replies on, and the greeting asked for. */
const openGateAtEndOfTurn =
  (instructions?: string) =>
  (e: EngineEvent, engine: CascadeEngine): void => {
    if (e.type !== 'user.speechStopped') return;
    engine.setAutoRespond(true);
    engine.generateReply(instructions ? { instructions } : undefined);
  };

test('greeting: prepared at the pause in "Hello?" before auto-replies are on, and spoken by the reply the gate asks for at the end of the turn', async () => {
  const f = fake();
  const stt = withPeek(f);
  f.transcripts.push('Hello?');
  f.replies.push([{ type: 'text', text: 'Hi, this is the assistant of Raju Kumar.' }]);
  const { engine, events, until } = await engineWith(f, false, { hook: openGateAtEndOfTurn() });
  f.turnEvents.push('speechStarted', undefined, 'speechPaused');
  for (let i = 0; i < 3; i++) engine.pushAudio(SILENT);
  await poll('the prepared greeting', () => f.requests.length === 1);
  assert.ok(!events.some((e) => e.type === 'agent.responseStarted'), 'nothing said before the gate opens');
  f.turnEvents.push('turnEnded');
  engine.pushAudio(SILENT);
  await until(done);
  assert.deepEqual(stt.calls, ['peek']);
  assert.equal(f.requests.length, 1, 'the prepared request was the greeting');
  // It answers "Hello?", which joined the conversation before the greeting.
  assert.deepEqual(f.requests[0].at(-1), { role: 'user', content: 'Hello?' });
  const order = events.filter((e) => e.type === 'user.transcript' || e.type === 'agent.transcript').map((e) => e.type);
  assert.deepEqual(order, ['user.transcript', 'agent.transcript']);
  const latency = events.find((e) => e.type === 'turn.latency') as any;
  assert.ok(latency?.report.speculative, 'reported as a turn answered with the prepared reply');
});

test('greeting: asked for with instructions (a screener), the prepared request is aborted and a new one answers with them', async () => {
  const f = fake();
  withPeek(f);
  f.transcripts.push('Who is calling?');
  let aborted = false;
  f.replies.push((signal) =>
    (async function* (): AsyncIterable<LlmChunk> {
      await new Promise((r) => signal.addEventListener('abort', r));
      aborted = true;
    })(),
  );
  f.replies.push([{ type: 'text', text: 'This is the assistant of Raju Kumar.' }]);
  const { engine, events, until } = await engineWith(f, false, { hook: openGateAtEndOfTurn('Say who you are.') });
  f.turnEvents.push('speechStarted', 'speechPaused');
  engine.pushAudio(SILENT);
  engine.pushAudio(SILENT);
  await poll('the prepared greeting', () => f.requests.length === 1);
  f.turnEvents.push('turnEnded');
  engine.pushAudio(SILENT);
  await until(done);
  await poll('the abort', () => aborted);
  assert.equal(f.requests.length, 2);
  assert.match(String(f.requests[1][0].content), /Say who you are\./);
  assert.deepEqual(f.requests[1].at(-1), { role: 'user', content: 'Who is calling?' });
  assert.equal((events.find((e) => e.type === 'agent.transcript') as any).text, 'This is the assistant of Raju Kumar.');
});

test('a reply waits for a callee turn in progress, but not for one whose audio stopped coming (a mailbox the bridge no longer sends)', async () => {
  const f = fake();
  const { engine, events, until } = await engineWith(f, false, { holdForCalleeMs: 5000 });
  f.turnEvents.push('speechStarted');
  engine.pushAudio(SILENT);
  // While the callee's audio comes, the reply holds its first audio.
  const feeding = setInterval(() => engine.pushAudio(SILENT), 20);
  engine.generateReply({ instructions: 'Leave the message.' });
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(!events.some((e) => e.type === 'agent.audio'), 'held while the callee speaks');
  // The audio stops (no end of turn will ever come): the reply goes on well within the 5 s hold.
  clearInterval(feeding);
  const stoppedAt = performance.now();
  await until((e) => e.type === 'agent.audio');
  const waited = performance.now() - stoppedAt;
  assert.ok(waited < 1000, `spoke ${Math.round(waited)} ms after the audio stopped`);
  await until(done);
});
