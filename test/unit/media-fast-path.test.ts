import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { parseFastFrame, parseInbound, type FastFrame } from '../../src/telephony/twilio/media-stream.js';
import { handleMediaSocket } from '../../src/telephony/twilio/media-connection.js';
import type { MediaStreamHandler } from '../../src/telephony/carrier.js';
import { isBase64 } from '../../src/media/audio-chunk.js';

const SID = 'MZ' + '0123456789abcdef'.repeat(2);
const payload = Buffer.from(Uint8Array.from({ length: 160 }, (_, i) => (i * 37) & 255)).toString('base64');
// Byte for byte what Twilio sends (compact JSON in its documented key order), as the simulator does too.
const media = (p = payload, track = 'inbound', sid = SID) => JSON.stringify({ event: 'media', sequenceNumber: '12', media: { track, chunk: '11', timestamp: '200', payload: p }, streamSid: sid });
const mark = (name: string, sid = SID) => JSON.stringify({ event: 'mark', sequenceNumber: '13', streamSid: sid, mark: { name } });

test('the fast path takes exactly the media and mark frames whose full parse it knows, and gives the same result', () => {
  const out: FastFrame = { kind: 'media', text: '', outbound: false };
  assert.ok(parseFastFrame(Buffer.from(media()), SID, out));
  assert.deepEqual({ ...out }, { kind: 'media', text: payload, outbound: false });
  assert.ok(parseFastFrame(Buffer.from(media(payload, 'outbound')), SID, out));
  assert.equal(out.outbound, true);
  assert.ok(parseFastFrame(Buffer.from(mark('s1m42')), SID, out));
  assert.deepEqual({ ...out }, { kind: 'mark', text: 's1m42', outbound: false });

  // Everything else goes to the full parser, which validates it (and may well accept it).
  const other = [
    media(payload, 'inbound', 'MZother'), // another stream
    mark('s1m42', 'MZother'),
    media(payload.slice(0, -1) + '!'), // not base64
    media(payload.slice(0, -4)), // padding rule broken? (still base64, but tested below)
    media('=' + payload.slice(1)), // '=' inside
    media(''),
    media(payload).replace('"chunk"', ' "chunk"'), // whitespace
    media(payload).replace('{"event":"media","sequenceNumber":"12",', '{"sequenceNumber":"12","event":"media",'), // key order
    media(payload).replace('"track":"inbound"', '"track":"in\\u0062ound"'), // escape
    media(payload) + ' ',
    media(payload).slice(0, -1),
    media(payload).replace('"12"', '"1x"'),
    mark('s1"m42'),
    mark('name with spaces'),
    mark('s1m42').replace('}}', '},"x":1}'),
    JSON.stringify({ event: 'dtmf', streamSid: SID, sequenceNumber: '5', dtmf: { digit: '1' } }),
  ];
  for (const raw of other) {
    const taken = parseFastFrame(Buffer.from(raw), SID, out);
    if (!taken) continue;
    // Taken: it must be exactly what the full parser makes of it.
    const ev = parseInbound(raw);
    if (ev.event === 'media') assert.deepEqual([out.kind, out.text, out.outbound], ['media', ev.payload.base64, ev.track === 'outbound'], raw);
    else if (ev.event === 'mark') assert.deepEqual([out.kind, out.text], ['mark', ev.name], raw);
    else assert.fail(`fast path took a ${ev.event} frame`);
  }
  assert.equal(parseFastFrame(Buffer.from(media(payload.slice(0, -1) + '!')), SID, out), false);
  assert.equal(parseFastFrame(Buffer.from(media(payload, 'inbound', 'MZother')), SID, out), false);
});

test('random corruptions of real frames: the fast path never takes a frame the full parser would read differently or refuse', () => {
  const out: FastFrame = { kind: 'media', text: '', outbound: false };
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
  const alphabet = '{}[]":,\\ =+/aAzZ09.-_';
  for (let k = 0; k < 3000; k++) {
    const base = k % 2 ? media() : mark(`s${k}m${k}`);
    const chars = [...base];
    for (let m = 0, count = 1 + rnd(3); m < count; m++) {
      const at = rnd(chars.length);
      const op = rnd(3);
      if (op === 0) chars[at] = alphabet[rnd(alphabet.length)]!;
      else if (op === 1) chars.splice(at, 1);
      else chars.splice(at, 0, alphabet[rnd(alphabet.length)]!);
    }
    const raw = chars.join('');
    if (!parseFastFrame(Buffer.from(raw), SID, out)) continue;
    let ev;
    try {
      ev = parseInbound(raw);
    } catch (err) {
      assert.fail(`fast path took a frame the full parser refuses (${(err as Error).message}): ${raw}`);
    }
    assert.equal(ev.event, out.kind, raw);
    if (ev.event === 'media') assert.deepEqual([ev.streamSid, ev.payload.base64, ev.track === 'outbound'], [SID, out.text, out.outbound], raw);
    if (ev.event === 'mark') assert.deepEqual([ev.streamSid, ev.name], [SID, out.text], raw);
  }
});

test('per frame on a live stream: no JSON.parse and no regular expression for media and mark frames; the handler hears them', () => {
  const socket = Object.assign(new EventEmitter(), { OPEN: 1, readyState: 1, bufferedAmount: 0, send: () => undefined, close: () => undefined, terminate: () => undefined });
  const heard: string[] = [];
  const handler: MediaStreamHandler = { onAudio: (a) => heard.push(`audio ${a.length}`), onMark: (n) => heard.push(`mark ${n}`), onDtmf: (d) => heard.push(`dtmf ${d}`), onStreamEnd: () => undefined };
  handleMediaSocket(socket as never, () => handler, pino({ level: 'silent' }));
  const start = { event: 'start', sequenceNumber: '1', start: { streamSid: SID, accountSid: 'AC1', callSid: 'CA1', customParameters: { callId: 'c1', secret: 's' }, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } }, streamSid: SID };
  socket.emit('message', Buffer.from(JSON.stringify(start)), false);

  const parse = JSON.parse;
  const test_ = RegExp.prototype.test;
  const exec = RegExp.prototype.exec;
  let parses = 0;
  let regexes = 0;
  JSON.parse = ((...a: Parameters<typeof JSON.parse>) => (parses++, parse(...a))) as typeof JSON.parse;
  RegExp.prototype.test = function (this: RegExp, s: string) {
    regexes++;
    return test_.call(this, s);
  };
  RegExp.prototype.exec = function (this: RegExp, s: string) {
    regexes++;
    return exec.call(this, s);
  };
  try {
    for (let i = 0; i < 50; i++) {
      socket.emit('message', Buffer.from(media()), false);
      socket.emit('message', Buffer.from(mark(`s1m${i}`)), false);
    }
  } finally {
    JSON.parse = parse;
    RegExp.prototype.test = test_;
    RegExp.prototype.exec = exec;
  }
  assert.equal(parses, 0, 'JSON.parse calls for 100 media and mark frames');
  assert.equal(regexes, 0, 'regular expressions run for 100 media and mark frames');
  assert.equal(heard.length, 100);
  assert.equal(heard[0], 'audio 160');
  assert.equal(heard[1], 'mark s1m0');
  // Anything else still goes through the full parser.
  socket.emit('message', Buffer.from(JSON.stringify({ event: 'dtmf', streamSid: SID, sequenceNumber: '200', dtmf: { track: 'inbound_track', digit: '5' } })), false);
  assert.equal(heard.at(-1), 'dtmf 5');
});

test('the base64 check is as strict as before', () => {
  for (const s of ['', 'A', 'AB', 'ABC', 'AB=C', 'A===', '====', 'AB==CD==', 'ab c', 'abc\u00e9', 'abcd\n']) assert.equal(isBase64(s), false, JSON.stringify(s));
  for (const s of ['ABCD', 'AB==', 'ABC=', payload, '+/+/']) assert.equal(isBase64(s), true, s);
});
