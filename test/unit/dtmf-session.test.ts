/**
 * send_dtmf through a CallSession: tones queue behind the agent's audio, the engine's audio that comes
 * while they play queues behind them, the result is sent only once the carrier echoed the tones' marks,
 * and a barge-in cuts them without touching the engine's conversation items.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallSession, type SessionHooks } from '../../src/bridge/call-session.js';
import type { MediaTransport } from '../../src/telephony/carrier.js';
import type { EngineCapabilities, EngineStartOptions, VoiceEngine } from '../../src/voice/engine.js';
import { AudioChunk } from '../../src/media/audio-chunk.js';
import { ToolRegistry } from '../../src/tools/registry.js';
import { sendDtmfTool } from '../../src/tools/send-dtmf.js';
import { decodeDtmf } from '../sim/twilio/dtmf-decoder.js';
import { speech } from '../sim/twilio/callee-audio.js';

class FakeEngine implements VoiceEngine {
  readonly name = 'fake';
  readonly capabilities: EngineCapabilities = { truncation: true, serverTurnDetection: true, autoReplyAfterTool: false, detectsSpeechDuringPlayback: true, hearsBeforeAutoRespond: true, cancelsInterruptedToolCalls: false, inputFormat: { encoding: 'pcmu', sampleRate: 8000 }, outputFormat: { encoding: 'pcmu', sampleRate: 8000 } };
  calls: string[] = [];
  results: Array<{ callId: string; output: string; reply: boolean }> = [];
  async start(_o: EngineStartOptions) {}
  pushAudio() {}
  generateReply() {}
  setAutoRespond() {}
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
    this.results.push({ callId, output, reply: o.reply });
  }
  async close() {}
}

/** Plays like Twilio: what was sent, in order, with each mark after the audio before it. */
class FakeTransport implements MediaTransport {
  readonly streamId = 'MZ1';
  queue: Array<{ bytes: Uint8Array } | { mark: string }> = [];
  played: Uint8Array[] = [];
  clears = 0;
  sendAudio(a: AudioChunk, mark: string) {
    this.queue.push({ bytes: a.bytes }, { mark });
  }
  clear() {
    this.clears++;
    this.queue = [];
  }
  close() {}
  /** Plays the next `n` chunks, returning the marks reached. */
  play(n = Infinity): string[] {
    const marks: string[] = [];
    while (n > 0 && this.queue.length) {
      const e = this.queue.shift()!;
      if ('mark' in e) marks.push(e.mark);
      else (this.played.push(e.bytes), n--);
    }
    return marks;
  }
  playedAudio(): Uint8Array {
    return Buffer.concat(this.played);
  }
}

function setup() {
  const engine = new FakeEngine();
  const records: Array<{ type: string; data: Record<string, unknown> }> = [];
  const hooks: SessionHooks = { record: (type, data) => records.push({ type, data }), requestEnd: () => {}, conversationStarted: () => {} };
  const session = new CallSession({ callId: 'c1', engine, tools: new ToolRegistry([sendDtmfTool]), hooks, greetingSilenceMs: 60_000 });
  session.engineStarted();
  const t = new FakeTransport();
  const h = session.attach(t);
  session.answeredBy('human');
  return { engine, records, session, t, h };
}
const tick = () => new Promise((r) => setImmediate(r));
const SPEECH_A = speech('One moment, I will choose support.', 600);
const SPEECH_B = speech('Hello, I am calling about an order.', 400);

test("tones play after the agent's queued audio; audio generated meanwhile waits behind them; the result waits for the marks", async () => {
  const { engine, records, session, t, h } = setup();
  session.onEngineEvent({ type: 'agent.responseStarted', responseId: 'r1' });
  session.onEngineEvent({ type: 'agent.audio', responseId: 'r1', itemId: 'a', audio: AudioChunk.fromBytes(SPEECH_A) });
  session.onEngineEvent({ type: 'tool.call', responseId: 'r1', callId: 'k1', name: 'send_dtmf', arguments: '{"digits":"2w#"}' });
  await tick();
  // The engine keeps talking while the tones are queued (e.g. the rest of the response, or the next one).
  session.onEngineEvent({ type: 'agent.audio', responseId: 'r1', itemId: 'b', audio: AudioChunk.fromBytes(SPEECH_B) });
  session.onEngineEvent({ type: 'agent.responseDone', responseId: 'r1', status: 'completed' });
  // Play everything but the last chunk of the tones' audio: no result yet.
  const chunksBeforeB = t.queue.filter((e, i) => 'bytes' in e && i < t.queue.findIndex((x) => 'bytes' in x && x.bytes.buffer === SPEECH_B.buffer)).length;
  for (const m of t.play(chunksBeforeB - 1)) h.onMark(m);
  await tick();
  assert.equal(engine.results.length, 0, 'no result while the tones are still playing');
  for (const m of t.play()) h.onMark(m);
  await tick();
  assert.equal(engine.results.length, 1);
  assert.match(engine.results[0].output, /^Pressed 2, pause, #\./);
  assert.equal(engine.results[0].reply, false, 'the agent says nothing to a menu');

  // What the callee heard: speech A, then the keys, then speech B: nothing mixed.
  const heard = t.playedAudio();
  assert.deepEqual(Buffer.from(heard.subarray(0, SPEECH_A.length)), Buffer.from(SPEECH_A));
  assert.deepEqual(Buffer.from(heard.subarray(heard.length - SPEECH_B.length)), Buffer.from(SPEECH_B));
  const keys = decodeDtmf(heard);
  assert.deepEqual(keys.map((k) => k.digit), ['2', '#']);
  assert.ok(keys[0].startMs >= SPEECH_A.length / 8 - 13, `first key at ${keys[0].startMs} ms, after 600 ms of speech`);
  assert.deepEqual(records.filter((r) => r.type === 'dtmf.sent').map((r) => r.data), [{ digits: '2w#', source: 'tool', status: 'played', pressed: '2w#' }]);
  assert.equal(t.clears, 0);
});

test('a barge-in during the tones cuts them: the result says what was pressed; the engine truncates nothing for them', async () => {
  const { engine, records, session, t, h } = setup();
  session.onEngineEvent({ type: 'tool.call', responseId: 'r1', callId: 'k1', name: 'send_dtmf', arguments: '{"digits":"1w2"}' });
  await tick();
  // 1 (100 ms) + gap (100 ms) + part of the pause: 40 ms chunks.
  for (const m of t.play(7)) h.onMark(m);
  // The callee talks over the tones (a second of speech, as the carrier sends it).
  const words = speech('Wait, wait, that is not what I asked for.', 1000);
  for (let i = 0; i < words.length; i += 160) h.onAudio(AudioChunk.fromBytes(words.subarray(i, i + 160)));
  await tick();
  assert.equal(t.clears, 1);
  assert.ok(!engine.calls.some((c) => c.startsWith('truncate') || c.startsWith('delete')), engine.calls.join());
  assert.deepEqual(records.filter((r) => r.type === 'dtmf.sent').map((r) => r.data), [{ digits: '1w2', source: 'tool', status: 'interrupted', pressed: '1' }]);
  assert.ok(!records.some((r) => r.type === 'agent.interrupted'), 'tones are not agent speech');
  assert.equal(engine.results.length, 1);
  assert.match(engine.results[0].output, /^Only 1 was pressed/);
});

test('bad digits are a tool error the model sees; nothing is played', async () => {
  const { engine, session, t } = setup();
  session.onEngineEvent({ type: 'tool.call', responseId: 'r1', callId: 'k1', name: 'send_dtmf', arguments: '{"digits":"12x"}' });
  session.onEngineEvent({ type: 'tool.call', responseId: 'r1', callId: 'k2', name: 'send_dtmf', arguments: `{"digits":"${'1'.repeat(65)}"}` });
  session.onEngineEvent({ type: 'tool.call', responseId: 'r1', callId: 'k3', name: 'send_dtmf', arguments: '{}' });
  await tick();
  assert.equal(t.queue.length, 0, 'nothing sent');
  assert.equal(engine.results.length, 3);
  assert.match(engine.results[0].output, /^Error: invalid arguments for send_dtmf: digits: use only 0-9, \*, #, A-D and w/);
  assert.match(engine.results[1].output, /digits: at most 64 keys/);
  assert.match(engine.results[2].output, /digits: /);
  assert.ok(engine.results.every((r) => r.reply), 'the model is asked to act on the error');
});

test('carrier mode: the update waits for queued agent audio, the old stream ends without ending the call, the result waits for the new stream', async () => {
  const engine = new FakeEngine();
  const records: Array<{ type: string; data: Record<string, unknown> }> = [];
  const ends: string[] = [];
  const played: string[] = [];
  const hooks: SessionHooks = {
    record: (type, data) => records.push({ type, data }),
    requestEnd: (r) => ends.push(r),
    conversationStarted: () => {},
    playDigitsViaCarrier: async (digits) => {
      played.push(digits);
      if (digits.includes('A')) throw new Error('Twilio <Play digits> cannot play "A"');
    },
  };
  const session = new CallSession({ callId: 'c1', engine, tools: new ToolRegistry([sendDtmfTool]), hooks, greetingSilenceMs: 60_000 });
  session.engineStarted();
  const t1 = new FakeTransport();
  const h1 = session.attach(t1);
  session.answeredBy('human');
  session.onEngineEvent({ type: 'agent.audio', responseId: 'r1', itemId: 'a', audio: AudioChunk.fromBytes(SPEECH_B) });
  session.onEngineEvent({ type: 'tool.call', responseId: 'r1', callId: 'k1', name: 'send_dtmf', arguments: '{"digits":"1w2"}' });
  await tick();
  assert.deepEqual(played, [], 'not while the agent audio is still queued (the update would cut it)');
  for (const m of t1.play()) h1.onMark(m);
  await tick();
  assert.deepEqual(played, ['1w2']);
  assert.equal(t1.queue.length, 0);
  assert.equal(t1.playedAudio().length, SPEECH_B.length, 'only the agent audio went on the stream: no tones in carrier mode');
  h1.onStreamEnd(true); // Twilio ends the running stream when the call's TwiML is replaced
  await tick();
  assert.deepEqual(ends, [], 'the stop of the replaced stream does not end the call');
  assert.equal(engine.results.length, 0, 'no result before the new stream');
  session.attach(new FakeTransport());
  await tick();
  assert.equal(engine.results.length, 1);
  assert.match(engine.results[0].output, /^Pressed 1, pause, 2\./);
  assert.deepEqual(records.filter((r) => r.type === 'dtmf.sent').map((r) => r.data), [{ digits: '1w2', source: 'tool', status: 'played', pressed: '1w2', via: 'carrier' }]);

  // A refused update: nothing pressed, said so, and the stream is not expected to go away any more.
  session.onEngineEvent({ type: 'tool.call', responseId: 'r2', callId: 'k2', name: 'send_dtmf', arguments: '{"digits":"A"}' });
  await tick();
  await tick();
  assert.match(engine.results[1].output, /^Nothing was pressed: the phone company refused/);
  assert.equal(records.filter((r) => r.type === 'dtmf.sent').at(-1)?.data.status, 'failed');
});
