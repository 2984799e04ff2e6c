import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallSession, type SessionHooks } from '../../src/bridge/call-session.js';
import type { MediaStreamHandler, MediaTransport } from '../../src/telephony/carrier.js';
import { speech } from '../sim/twilio/callee-audio.js';
import type { EngineCapabilities, EngineStartOptions, VoiceEngine } from '../../src/voice/engine.js';
import { AudioChunk } from '../../src/media/audio-chunk.js';
import { ToolRegistry } from '../../src/tools/registry.js';
import { endCallTool } from '../../src/tools/end-call.js';
import { defineTool } from '../../src/tools/registry.js';
import { z } from 'zod';

/** A recording fake of the engine seam: the session is tested through its public interfaces only. */
class FakeEngine implements VoiceEngine {
  readonly name = 'fake';
  readonly capabilities: EngineCapabilities = { truncation: true, serverTurnDetection: true, autoReplyAfterTool: false, detectsSpeechDuringPlayback: true, cancelsInterruptedToolCalls: false, hearsBeforeAutoRespond: true, inputFormat: { encoding: 'pcmu', sampleRate: 8000 }, outputFormat: { encoding: 'pcmu', sampleRate: 8000 } };
  calls: string[] = [];
  pushed = 0;
  async start(_o: EngineStartOptions) {}
  pushAudio() {
    this.pushed++;
  }
  generateReply() {
    this.calls.push('generateReply');
  }
  setAutoRespond(on: boolean) {
    this.calls.push(`autoRespond:${on}`);
  }
  interrupt() {
    this.calls.push('interrupt');
  }
  truncate(itemId: string, ms: number) {
    this.calls.push(`truncate:${itemId}:${ms}`);
  }
  deleteItem(itemId: string) {
    this.calls.push(`delete:${itemId}`);
  }
  sendToolResult(callId: string, output: string, o: { reply: boolean }) {
    this.calls.push(`toolResult:${callId}:${o.reply}:${output.slice(0, 20)}`);
  }
  async close() {
    this.calls.push('close');
  }
}

class FakeTransport implements MediaTransport {
  sent: Array<{ audio?: number; mark?: string; clear?: true }> = [];
  closed = false;
  constructor(readonly streamId: string) {}
  sendAudio(a: AudioChunk, mark: string) {
    this.sent.push({ audio: a.length });
    this.sent.push({ mark });
  }
  clear() {
    this.sent.push({ clear: true });
  }
  close() {
    this.closed = true;
  }
  marks() {
    return this.sent.filter((s) => s.mark).map((s) => s.mark!);
  }
}

function setup(opts: { silenceMs?: number; cancelsInterruptedToolCalls?: boolean; toolCancelWaitMs?: number; clock?: () => number } = {}) {
  const engine = new FakeEngine();
  if (opts.cancelsInterruptedToolCalls) (engine.capabilities as { cancelsInterruptedToolCalls: boolean }).cancelsInterruptedToolCalls = true;
  const records: Array<{ type: string; data: Record<string, unknown> }> = [];
  const ends: string[] = [];
  const hooks: SessionHooks = { record: (type, data) => records.push({ type, data }), requestEnd: (r) => ends.push(r), conversationStarted: () => records.push({ type: 'started', data: {} }) };
  const session = new CallSession({ callId: 'c1', engine, tools: new ToolRegistry([endCallTool]), hooks, greetingSilenceMs: opts.silenceMs ?? 60_000, toolCancelWaitMs: opts.toolCancelWaitMs, playoutClock: opts.clock ?? (() => 0) });
  return { engine, records, ends, session };
}
const audio = (ms: number) => AudioChunk.fromBytes(new Uint8Array(ms * 8).fill(0x55));
const tick = () => new Promise((r) => setImmediate(r));
/**
 * The callee talks over the agent: a second of speech, in 20 ms frames as the carrier sends it, all before
 * the barge-in VAD (in its worker) has heard any; resolves once it has heard them all.
 */
async function talkOver(h: MediaStreamHandler, session: CallSession): Promise<void> {
  const words = speech('Wait, wait, that is not what I asked for.', 1000);
  for (let i = 0; i < words.length; i += 160) h.onAudio(AudioChunk.fromBytes(words.subarray(i, i + 160)));
  await session.drainHearing();
}

test('the greeting waits for a person; a machine gets nothing', () => {
  const a = setup();
  a.session.engineStarted();
  a.session.attach(new FakeTransport('MZ1'));
  assert.deepEqual(a.engine.calls, []);
  a.session.answeredBy('human');
  assert.deepEqual(a.engine.calls, ['autoRespond:true', 'generateReply']);

  const b = setup();
  b.session.engineStarted();
  b.session.attach(new FakeTransport('MZ1'));
  b.session.answeredBy('machine_end_beep');
  assert.deepEqual(b.ends, ['voicemail']);
  assert.ok(!b.engine.calls.includes('generateReply'));
  assert.ok(!b.engine.calls.includes('autoRespond:true'));
});

test('if the callee is mid-sentence when the gate opens, the engine answers them instead of talking over', () => {
  const { engine, session } = setup();
  session.engineStarted();
  session.attach(new FakeTransport('MZ1'));
  session.onEngineEvent({ type: 'user.speechStarted', itemId: 'u1' });
  session.answeredBy('human');
  assert.deepEqual(engine.calls, ['autoRespond:true']);
});

test('barge-in clears, cancels, truncates heard items at the echoed marks and deletes unheard ones', async () => {
  const { engine, session, records } = setup();
  session.engineStarted();
  const t = new FakeTransport('MZ1');
  const h = session.attach(t);
  session.answeredBy('human');
  session.onEngineEvent({ type: 'agent.responseStarted', responseId: 'r1' });
  session.onEngineEvent({ type: 'agent.audio', responseId: 'r1', itemId: 'a', audio: audio(200) });
  session.onEngineEvent({ type: 'agent.audio', responseId: 'r1', itemId: 'b', audio: audio(100) });
  const marks = t.marks();
  assert.equal(marks.length, 5 + 3); // 40 ms chunks
  h.onMark(marks[0]);
  h.onMark(marks[1]); // 80 ms of "a" heard
  await talkOver(h, session);
  assert.deepEqual(t.sent[t.sent.length - 1], { clear: true });
  assert.ok(engine.calls.includes('interrupt'));
  assert.ok(engine.calls.includes('truncate:a:80'));
  assert.ok(engine.calls.includes('delete:b'));
  // Marks Twilio echoes back because of the clear do not count as heard.
  h.onMark(marks[4]);
  session.onEngineEvent({ type: 'agent.transcript', responseId: 'r1', itemId: 'a', text: 'one two three four five six seven eight nine ten', audioMs: 200 });
  const entry = records.find((r) => r.type === 'transcript')!;
  assert.deepEqual(entry.data.interrupted, { heardText: 'one two three four', heardMs: 80, totalMs: 200 });
});

test('barge-in between two marks: the cut is placed by the time since the last echo, never past a mark not yet echoed', async () => {
  for (const [sinceEchoMs, heardMs] of [[25, 105], [39, 119], [500, 119]] as const) {
    let now = 1000;
    const { engine, session } = setup({ clock: () => now });
    session.engineStarted();
    const t = new FakeTransport('MZ1');
    const h = session.attach(t);
    session.answeredBy('human');
    session.onEngineEvent({ type: 'agent.responseStarted', responseId: 'r1' });
    session.onEngineEvent({ type: 'agent.audio', responseId: 'r1', itemId: 'a', audio: audio(200) });
    const marks = t.marks();
    h.onMark(marks[1]); // 80 ms of "a" heard at t=1000
    now += sinceEchoMs;
    await talkOver(h, session);
    // Playback ran on from the echo at real time; the next mark (120 ms) has not come back, so it is not reached.
    assert.ok(engine.calls.includes(`truncate:a:${heardMs}`), `${sinceEchoMs} ms after the echo: ${engine.calls.join(' ')}`);
  }
});

test('end_call hangs up only after the goodbye has played, and not at all if it is interrupted', async () => {
  const a = setup();
  a.session.engineStarted();
  const t = new FakeTransport('MZ1');
  const h = a.session.attach(t);
  a.session.answeredBy('human');
  a.session.onEngineEvent({ type: 'agent.responseStarted', responseId: 'r1' });
  a.session.onEngineEvent({ type: 'agent.audio', responseId: 'r1', itemId: 'bye', audio: audio(80) });
  a.session.onEngineEvent({ type: 'tool.call', responseId: 'r1', callId: 'call1', name: 'end_call', arguments: '{}' });
  a.session.onEngineEvent({ type: 'agent.responseDone', responseId: 'r1', status: 'completed' });
  await tick();
  assert.deepEqual(a.ends, [], 'not before the goodbye played');
  for (const m of t.marks()) h.onMark(m);
  await tick();
  assert.deepEqual(a.ends, ['agent-hangup']);

  // Interrupted while the goodbye response is still being generated (nothing queued yet).
  const b = setup();
  b.session.engineStarted();
  const hb = b.session.attach(new FakeTransport('MZ1'));
  b.session.answeredBy('human');
  b.session.onEngineEvent({ type: 'agent.responseStarted', responseId: 'r2' });
  b.session.onEngineEvent({ type: 'tool.call', responseId: 'r2', callId: 'call2', name: 'end_call', arguments: '{}' });
  await talkOver(hb, b.session);
  b.session.onEngineEvent({ type: 'agent.responseDone', responseId: 'r2', status: 'cancelled' });
  await tick();
  await tick();
  assert.deepEqual(b.ends, []);
  assert.ok(b.engine.calls.some((c) => c.startsWith('toolResult:call2:false:The callee interrup')));
});

test('a tool call the engine cancels: end_call does not hang up after its goodbye plays, no result goes back', async () => {
  const a = setup();
  a.session.engineStarted();
  const t = new FakeTransport('MZ1');
  const h = a.session.attach(t);
  a.session.answeredBy('human');
  a.session.onEngineEvent({ type: 'agent.responseStarted', responseId: 'r1' });
  a.session.onEngineEvent({ type: 'agent.audio', responseId: 'r1', itemId: 'bye', audio: audio(80) });
  a.session.onEngineEvent({ type: 'tool.call', responseId: 'r1', callId: 'call1', name: 'end_call', arguments: '{}' });
  a.session.onEngineEvent({ type: 'agent.responseDone', responseId: 'r1', status: 'completed' });
  await tick();
  // No barge-in reached the session: only the engine's cancellation.
  a.session.onEngineEvent({ type: 'tool.cancelled', callIds: ['call1'] });
  for (const m of t.marks()) h.onMark(m);
  await tick();
  await tick();
  assert.deepEqual(a.ends, [], 'the goodbye played, but the hang-up was called off');
  assert.ok(!a.engine.calls.some((c) => c.startsWith('toolResult:call1')), 'no result for a cancelled call');
  assert.deepEqual(a.records.filter((r) => r.type === 'tool.cancelled').map((r) => r.data), [{ callId: 'call1', running: true }]);
  assert.ok(a.records.some((r) => r.type === 'hangup.cancelled'));
  assert.equal(a.records.find((r) => r.type === 'tool.result')!.data.cancelled, true);
});

test('a cancelled tool is told through its signal, and its result is dropped; other calls are unaffected', async () => {
  let release!: () => void;
  const seen: boolean[] = [];
  const slow = defineTool({
    name: 'slow',
    description: 'waits',
    args: z.object({}),
    async run(ctx) {
      await new Promise<void>((r) => (release = r));
      seen.push(ctx.signal.aborted);
      return { output: 'done', reply: true };
    },
  });
  const engine = new FakeEngine();
  const records: Array<{ type: string; data: Record<string, unknown> }> = [];
  const hooks: SessionHooks = { record: (type, data) => records.push({ type, data }), requestEnd: () => undefined, conversationStarted: () => undefined };
  const session = new CallSession({ callId: 'c1', engine, tools: new ToolRegistry([slow]), hooks, greetingSilenceMs: 60_000 });
  session.onEngineEvent({ type: 'tool.call', responseId: 'r1', callId: 'a', name: 'slow', arguments: '{}' });
  await tick();
  session.onEngineEvent({ type: 'tool.cancelled', callIds: ['a', 'unknown'] });
  release();
  await tick();
  session.onEngineEvent({ type: 'tool.call', responseId: 'r2', callId: 'b', name: 'slow', arguments: '{}' });
  await tick();
  release();
  await tick();
  assert.deepEqual(seen, [true, false]);
  assert.deepEqual(engine.calls, ['toolResult:b:true:done']);
  assert.deepEqual(records.filter((r) => r.type === 'tool.cancelled').map((r) => r.data), [{ callId: 'a', running: true }, { callId: 'unknown', running: false }]);
});

test('an engine that cancels interrupted tool calls: a result finished after a barge-in waits for the cancellation', async () => {
  const run = async (cancel: boolean) => {
    const a = setup({ cancelsInterruptedToolCalls: true, toolCancelWaitMs: cancel ? 5000 : 30 });
    a.session.engineStarted();
    const h = a.session.attach(new FakeTransport('MZ1'));
    a.session.answeredBy('human');
    a.session.onEngineEvent({ type: 'agent.responseStarted', responseId: 'r1' });
    a.session.onEngineEvent({ type: 'agent.audio', responseId: 'r1', itemId: 'bye', audio: audio(80) });
    a.session.onEngineEvent({ type: 'tool.call', responseId: 'r1', callId: 'call1', name: 'end_call', arguments: '{}' });
    await tick();
    // The callee talks over the goodbye: the hang-up is off at once, the engine's cancellation follows.
    await talkOver(h, a.session);
    await tick();
    if (cancel) a.session.onEngineEvent({ type: 'tool.cancelled', callIds: ['call1'] });
    else await new Promise((r) => setTimeout(r, 60));
    await tick();
    return a;
  };
  const cancelled = await run(true);
  assert.deepEqual(cancelled.ends, []);
  assert.ok(!cancelled.engine.calls.some((c) => c.startsWith('toolResult:')), 'the withdrawn call gets no result');
  // No cancellation came (the engine did not hear the callee): the result goes after the wait.
  const kept = await run(false);
  assert.deepEqual(kept.ends, []);
  assert.ok(kept.engine.calls.some((c) => c.startsWith('toolResult:call1:false:The callee interrup')));
});

test('a replacement stream takes over; the old one can no longer end or feed the call', () => {
  const { engine, session, ends } = setup();
  session.engineStarted();
  const a = new FakeTransport('MZa');
  const ha = session.attach(a);
  session.expectNewStream(1000);
  ha.onStreamEnd(true); // Twilio stops the old stream when the TwiML changes
  assert.deepEqual(ends, []);
  const b = new FakeTransport('MZb');
  const hb = session.attach(b);
  ha.onAudio(audio(20));
  assert.equal(engine.pushed, 0, 'late audio of the old stream is ignored');
  hb.onAudio(audio(20));
  assert.equal(engine.pushed, 1);
  hb.onStreamEnd(true);
  assert.deepEqual(ends, ['callee-hangup']);
});

test('an unexpected stream end ends the call as a media error', () => {
  const { session, ends } = setup();
  const h = session.attach(new FakeTransport('MZ1'));
  h.onStreamEnd(false);
  assert.deepEqual(ends, ['media-error']);
});

test('a provider drop or fatal error ends the call; other errors are recorded only', () => {
  const { session, ends, records } = setup();
  session.onEngineEvent({ type: 'error', error: { fatal: false, code: 'x', message: 'minor' } });
  assert.deepEqual(ends, []);
  assert.equal(records.filter((r) => r.type === 'error').length, 1);
  session.onEngineEvent({ type: 'closed', expected: false, reason: 'socket closed (1006)' });
  assert.deepEqual(ends, ['provider-error']);
});

test('after the call starts ending nothing more is sent to the callee', async () => {
  const { session, engine } = setup();
  session.engineStarted();
  const t = new FakeTransport('MZ1');
  session.attach(t);
  session.beginEnd();
  session.onEngineEvent({ type: 'agent.audio', responseId: 'r', itemId: 'i', audio: audio(40) });
  assert.equal(t.sent.length, 0);
  await session.shutdown();
  assert.ok(t.closed);
  assert.ok(engine.calls.includes('close'));
});

test('a tool result that lands while the agent is speaking asks for its reply once that response is done', async () => {
  const engine = new FakeEngine();
  let finish!: () => void;
  const slow = defineTool({ name: 'slow', description: 'd', args: z.object({}), run: () => new Promise((r) => (finish = () => r({ output: 'the answer', reply: true }))) });
  const hooks: SessionHooks = { record: () => undefined, requestEnd: () => undefined, conversationStarted: () => undefined };
  const session = new CallSession({ callId: 'c1', engine, tools: new ToolRegistry([slow]), hooks, greetingSilenceMs: 60_000 });
  session.engineStarted();
  session.attach(new FakeTransport('MZ1'));
  session.answeredBy('human');
  session.onEngineEvent({ type: 'agent.responseDone', responseId: 'r0', status: 'completed' });
  session.onEngineEvent({ type: 'tool.call', responseId: 'r1', callId: 't1', name: 'slow', arguments: '{}' });
  await tick();
  // A holding line is being spoken when the result comes.
  session.onEngineEvent({ type: 'agent.responseStarted', responseId: 'r2' });
  engine.calls = [];
  finish();
  await tick();
  await tick();
  assert.deepEqual(engine.calls, ['toolResult:t1:false:the answer'], 'no second response while one is in progress');
  session.onEngineEvent({ type: 'agent.responseDone', responseId: 'r2', status: 'completed' });
  assert.deepEqual(engine.calls, ['toolResult:t1:false:the answer', 'generateReply']);

  // With nothing in progress the reply is asked for with the result, as before.
  session.onEngineEvent({ type: 'tool.call', responseId: 'r3', callId: 't2', name: 'slow', arguments: '{}' });
  await tick();
  engine.calls = [];
  finish();
  await tick();
  await tick();
  assert.deepEqual(engine.calls, ['toolResult:t2:true:the answer']);
});
