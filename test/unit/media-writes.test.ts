import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import WebSocket, { WebSocketServer } from 'ws';
import { handleMediaSocket } from '../../src/telephony/twilio/media-connection.js';
import type { MediaStreamHandler, MediaTransport } from '../../src/telephony/carrier.js';
import { AgentSpeech } from '../../src/bridge/agent-speech.js';
import { PlayoutTracker } from '../../src/media/playout-tracker.js';
import { AudioChunk } from '../../src/media/audio-chunk.js';

const SID = 'MZ' + '0123456789abcdef'.repeat(2);
const silence = (ms: number) => AudioChunk.fromBytes(new Uint8Array(ms * 8).fill(0xff));
const turn = () => new Promise<void>((r) => setImmediate(r));

/**
 * A real Twilio media socket (ws over TCP on 127.0.0.1), the agent's audio played into it as the bridge
 * does (AgentSpeech + PlayoutTracker), and the server side's writes to the kernel counted: what issue 18
 * measured as over half the bridge's CPU per frame.
 */
async function line() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', r));
  const writes = { n: 0 };
  let transport: MediaTransport | undefined;
  const handler: MediaStreamHandler = { onAudio: () => undefined, onMark: () => undefined, onDtmf: () => undefined, onStreamEnd: () => undefined };
  wss.on('connection', (ws) => {
    // Every trip to the kernel goes through one of these two (_writev when several chunks were corked).
    const raw = (ws as unknown as { _socket: Record<'_write' | '_writev', (...a: unknown[]) => unknown> })._socket;
    for (const k of ['_write', '_writev'] as const) {
      const original = raw[k].bind(raw);
      raw[k] = (...a: unknown[]) => (writes.n++, original(...a));
    }
    handleMediaSocket(ws, (_req, t) => ((transport = t), handler), pino({ level: 'silent' }));
  });
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: false });
  const received: Array<{ event: string; payload?: string; name?: string }> = [];
  client.on('message', (d) => {
    const m = JSON.parse(String(d));
    received.push({ event: m.event, payload: m.media?.payload, name: m.mark?.name });
  });
  await new Promise((r) => client.once('open', r));
  client.send(JSON.stringify({ event: 'start', sequenceNumber: '1', start: { streamSid: SID, accountSid: 'AC1', callSid: 'CA1', customParameters: { callId: 'c1', secret: 's' }, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } }, streamSid: SID }));
  while (!transport) await new Promise((r) => setTimeout(r, 5));
  const tracker = new PlayoutTracker({ chunkMs: 40, markPrefix: 's1m' });
  const t = transport;
  const speech = new AgentSpeech({
    engine: { deleteItem: () => undefined, interrupt: () => undefined, truncate: () => undefined, capabilities: { truncation: true } } as never,
    audio: { toEngine: (a: AudioChunk) => a, toCarrier: (a: AudioChunk) => a },
    dtmf: { onCut: () => undefined, onPlayoutChanged: () => undefined } as never,
    record: () => undefined,
    transport: () => t,
    tracker: () => tracker,
  });
  const play = (ms: number) => speech.play({ type: 'agent.audio', responseId: 'r1', itemId: 'i1', audio: silence(ms) });
  const settle = async (n: number) => {
    for (let i = 0; i < 200 && received.filter((m) => m.event === 'media').length < n; i++) await new Promise((r) => setTimeout(r, 5));
  };
  const close = async () => {
    client.close();
    await new Promise<void>((r) => wss.close(() => r()));
  };
  return { writes, received, play, settle, close, tracker };
}

test('a second of agent audio in 100 ms deltas (an engine faster than real time): one write per delta, not one per 40 ms chunk; every frame arrives, in order, with its marks', async () => {
  const l = await line();
  try {
    l.writes.n = 0;
    for (let i = 0; i < 10; i++) {
      l.play(100);
      await turn();
    }
    await l.settle(30);
    // Before the batching, each 40 ms chunk (with its mark) was a write of its own: 30 for this second.
    assert.equal(l.writes.n, 10, 'writes to the kernel per second of agent audio');
    const media = l.received.filter((m) => m.event === 'media');
    assert.equal(media.length, 30, '40, 40, 20 ms per delta');
    assert.equal(media.reduce((n, m) => n + Buffer.from(m.payload!, 'base64').length, 0), 8000);
    // Marks every 40 ms of audio, each right after the media it follows, names in order.
    const marks = l.received.filter((m) => m.event === 'mark').map((m) => m.name);
    assert.deepEqual(marks, marks.slice().sort((a, b) => Number(a!.slice(3)) - Number(b!.slice(3))));
    assert.ok(marks.length >= 20 && marks.length <= 25, `${marks.length} marks`);
    let audioSinceMark = 0;
    for (const m of l.received) {
      if (m.event === 'media') audioSinceMark += Buffer.from(m.payload!, 'base64').length;
      else if (m.event === 'mark') audioSinceMark = 0;
      assert.ok(audioSinceMark <= 60 * 8, 'never more than 60 ms without a mark');
    }
  } finally {
    await l.close();
  }
});

test('a burst read at once (several deltas in one callback) goes out in one write', async () => {
  const l = await line();
  try {
    l.writes.n = 0;
    for (let i = 0; i < 25; i++) l.play(20);
    await l.settle(25);
    assert.equal(l.writes.n, 1);
    assert.equal(l.received.filter((m) => m.event === 'media').length, 25);
  } finally {
    await l.close();
  }
});

test('audio at real-time pace, one 20 ms delta per callback: still one write per delta (a delta is never held back for the next)', async () => {
  const l = await line();
  try {
    l.writes.n = 0;
    for (let i = 0; i < 10; i++) {
      l.play(20);
      await turn();
    }
    await l.settle(10);
    // Holding one back to share a write with the next would delay it by 20 ms: the callee would hear it.
    assert.equal(l.writes.n, 10);
  } finally {
    await l.close();
  }
});
