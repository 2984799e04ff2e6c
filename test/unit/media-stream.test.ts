import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AudioChunk } from '../../src/media/audio-chunk.js';
import { WebSocket, WebSocketServer } from 'ws';
import pino from 'pino';
import { buildClear, buildMark, buildMedia, parseInbound, StreamFrameError, MAX_STREAM_FRAME_BYTES, unsupportedMediaFormat } from '../../src/telephony/twilio/media-stream.js';
import { handleMediaSocket, type StreamOpenRequest } from '../../src/telephony/twilio/media-connection.js';
import type { MediaStreamHandler } from '../../src/telephony/carrier.js';
import { until } from '../e2e/helpers.js';

const media = (payload: string, extra: object = {}) => JSON.stringify({ event: 'media', sequenceNumber: '3', streamSid: 'MZ1', media: { track: 'inbound', chunk: '1', timestamp: '20', payload }, ...extra });

test('parses the Twilio frames it acts on', () => {
  const m = parseInbound(media(Buffer.alloc(160, 0xff).toString('base64')));
  assert.equal(m.event, 'media');
  if (m.event === 'media') {
    assert.equal(m.payload.length, 160);
    assert.equal(m.payload.bytes.length, 160);
    assert.equal(m.timestampMs, 20);
    assert.equal(m.streamSid, 'MZ1');
  }
  const s = parseInbound(
    JSON.stringify({
      event: 'start',
      sequenceNumber: '1',
      streamSid: 'MZ1',
      start: { streamSid: 'MZ1', accountSid: 'AC1', callSid: 'CA1', tracks: ['inbound'], customParameters: { callId: 'x', secret: 'y', n: 5 }, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } },
    }),
  );
  assert.deepEqual(s, { event: 'start', streamSid: 'MZ1', callSid: 'CA1', accountSid: 'AC1', customParameters: { callId: 'x', secret: 'y' }, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } });
  assert.deepEqual(parseInbound('{"event":"mark","streamSid":"MZ1","mark":{"name":"m1"}}'), { event: 'mark', streamSid: 'MZ1', name: 'm1' });
  assert.deepEqual(parseInbound('{"event":"dtmf","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":"#"}}'), { event: 'dtmf', streamSid: 'MZ1', digit: '#' });
  assert.deepEqual(parseInbound('{"event":"stop","streamSid":"MZ1","stop":{}}'), { event: 'stop', streamSid: 'MZ1' });
  assert.deepEqual(parseInbound('{"event":"connected","protocol":"Call","version":"1.0.0"}'), { event: 'connected' });
});

test('rejects malformed frames with a clear error', () => {
  const bad: Array<[string, RegExp]> = [
    ['not json', /not valid JSON/],
    ['[]', /not a JSON object/],
    ['{"streamSid":"MZ1"}', /no "event"/],
    ['{"event":"media","streamSid":"MZ1"}', /"media" must be an object/],
    ['{"event":"media","media":{"payload":"AAAA"}}', /"streamSid"/],
    ['{"event":"media","streamSid":"MZ1","media":{"payload":""}}', /payload/],
    ['{"event":"media","streamSid":"MZ1","media":{"payload":"not base64!"}}', /not base64/],
    ['{"event":"media","streamSid":"MZ1","media":{"payload":"AAA"}}', /not base64/],
    ['{"event":"mark","streamSid":"MZ1","mark":{}}', /"name"/],
    ['{"event":"dtmf","streamSid":"MZ1","dtmf":{"digit":"x"}}', /invalid digit/],
    ['{"event":"start","start":{}}', /"callSid"|"streamSid"/],
    ['{"event":"hack"}', /unknown event "hack"/],
    ['x'.repeat(MAX_STREAM_FRAME_BYTES + 1), /exceeds/],
  ];
  for (const [frame, msg] of bad) assert.throws(() => parseInbound(frame), (e: unknown) => e instanceof StreamFrameError && msg.test((e as Error).message), frame.slice(0, 40));
});

test('builds exactly the three messages Twilio accepts', () => {
  const audio = new Uint8Array([1, 2, 3, 255]);
  assert.deepEqual(JSON.parse(buildMedia('MZ9', AudioChunk.fromBytes(audio))), { event: 'media', streamSid: 'MZ9', media: { payload: Buffer.from(audio).toString('base64') } });
  assert.deepEqual(JSON.parse(buildMark('MZ9', 's1m4')), { event: 'mark', streamSid: 'MZ9', mark: { name: 's1m4' } });
  assert.deepEqual(JSON.parse(buildClear('MZ9')), { event: 'clear', streamSid: 'MZ9' });
  // A subarray view must encode only its own bytes.
  const big = new Uint8Array([9, 9, 1, 2, 9]);
  assert.equal(JSON.parse(buildMedia('MZ9', AudioChunk.fromBytes(big.subarray(2, 4)))).media.payload, Buffer.from([1, 2]).toString('base64'));
});

test('audio chunks convert between base64 and bytes losslessly and know their length', () => {
  for (const n of [1, 2, 3, 159, 160, 161, 320]) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37) & 0xff);
    const b64 = Buffer.from(bytes).toString('base64');
    assert.equal(AudioChunk.fromBase64(b64).length, n);
    assert.deepEqual([...AudioChunk.fromBase64(b64).bytes], [...bytes]);
    assert.equal(AudioChunk.fromBytes(bytes).base64, b64);
  }
});

test('only mu-law 8 kHz mono is supported; anything else is refused naming what arrived', () => {
  assert.equal(unsupportedMediaFormat({ encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }), undefined);
  const l16 = unsupportedMediaFormat({ encoding: 'audio/x-l16', sampleRate: 16000, channels: 1 });
  assert.equal(l16, 'media stream format audio/x-l16, 16000 Hz, 1 channel is not supported (encoding, sampleRate): Callwright bridges audio/x-mulaw, 8000 Hz, 1 channel only');
  assert.match(unsupportedMediaFormat({ encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 2 })!, /audio\/x-mulaw, 8000 Hz, 2 channels is not supported \(channels\)/);
  assert.match(unsupportedMediaFormat({ encoding: 'audio/x-mulaw', sampleRate: 16000, channels: 1 })!, /16000 Hz, .*\(sampleRate\)/);
  // A start without a format (the codec reads absent values as '' and 0) is not assumed to be mu-law.
  const parsed = parseInbound(JSON.stringify({ event: 'start', streamSid: 'MZ1', start: { accountSid: 'AC1', callSid: 'CA1', customParameters: {} } }));
  assert.equal(parsed.event, 'start');
  if (parsed.event === 'start') assert.match(unsupportedMediaFormat(parsed.mediaFormat)!, /no encoding, no sample rate, no channel count/);
});

test('the connection never bridges a stream in another format: the authorizer hears why, the socket closes with 1003', async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  const requests: StreamOpenRequest[] = [];
  const audio: number[] = [];
  const handler: MediaStreamHandler = { onAudio: (f) => audio.push(f.length), onMark: () => undefined, onDtmf: () => undefined, onStreamEnd: () => undefined };
  // An authorizer that (wrongly) hands out a handler anyway: the connection must still refuse.
  wss.on('connection', (ws) => handleMediaSocket(ws, (req) => (requests.push(req), handler), pino({ level: 'silent' })));
  const { port } = wss.address() as { port: number };
  const open = async (mediaFormat: object) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send(JSON.stringify({ event: 'start', streamSid: 'MZ1', start: { streamSid: 'MZ1', accountSid: 'AC1', callSid: 'CA1', customParameters: { callId: 'c1', secret: 's' }, mediaFormat } }));
    ws.send(media(Buffer.alloc(160, 0x7f).toString('base64')));
    return { ws, closed };
  };
  try {
    const bad = await open({ encoding: 'audio/x-l16', sampleRate: 16000, channels: 1 });
    assert.equal(await bad.closed, 1003);
    assert.equal(requests.length, 1);
    assert.deepEqual(requests[0].mediaFormat, { encoding: 'audio/x-l16', sampleRate: 16000, channels: 1 });
    assert.match(requests[0].refusal!, /audio\/x-l16, 16000 Hz, 1 channel is not supported/);
    assert.deepEqual(audio, [], 'no audio was bridged');

    const good = await open({ encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 });
    await until('audio', () => audio.length === 1);
    assert.equal(requests[1].refusal, undefined);
    good.ws.close();
    await good.closed;
  } finally {
    await new Promise((r) => wss.close(r));
  }
});
