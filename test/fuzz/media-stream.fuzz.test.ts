import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseInbound, buildMedia, buildMark, buildClear, StreamFrameError, MAX_STREAM_FRAME_BYTES, unsupportedMediaFormat, type InboundStreamEvent } from '../../src/telephony/twilio/media-stream.js';
import { AudioChunk, isBase64 } from '../../src/media/audio-chunk.js';
import { check, hostileInputs, noEscapes, base64Audio, parsedOrRefused, VALID_RUNS } from './fuzz-kit.js';

const sid = (p: string) => fc.stringMatching(/^[0-9a-f]{32}$/).map((h) => p + h);
const streamSid = sid('MZ');

/** Frames as Twilio sends them (https://www.twilio.com/docs/voice/media-streams/websocket-messages). */
const validFrame: fc.Arbitrary<object> = fc.oneof(
  fc.constant({ event: 'connected', protocol: 'Call', version: '1.0.0' }),
  fc.record({
    event: fc.constant('start'),
    sequenceNumber: fc.nat().map(String),
    streamSid,
    start: fc.record({
      streamSid,
      accountSid: sid('AC'),
      callSid: sid('CA'),
      tracks: fc.constant(['inbound']),
      customParameters: fc.record({ callId: fc.uuid(), secret: fc.base64String({ minLength: 8, maxLength: 44 }) }),
      mediaFormat: fc.constant({ encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }),
    }),
  }),
  fc.record({
    event: fc.constant('media'),
    sequenceNumber: fc.nat().map(String),
    streamSid,
    media: fc.record({ track: fc.constant('inbound'), chunk: fc.nat().map(String), timestamp: fc.nat().map(String), payload: base64Audio }),
  }),
  fc.record({ event: fc.constant('mark'), sequenceNumber: fc.nat().map(String), streamSid, mark: fc.record({ name: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,40}$/) }) }),
  fc.record({ event: fc.constant('dtmf'), streamSid, dtmf: fc.record({ track: fc.constant('inbound_track'), digit: fc.constantFrom(...'0123456789*#') }) }),
  fc.record({ event: fc.constant('stop'), sequenceNumber: fc.nat().map(String), streamSid, stop: fc.record({ accountSid: sid('AC'), callSid: sid('CA') }) }),
);
const EVENTS = ['connected', 'start', 'media', 'mark', 'dtmf', 'stop', 'clear'] as const;

/** What any successful parse must look like, whatever the input was. */
function assertWellFormed(ev: InboundStreamEvent): void {
  if (ev.event === 'connected') return;
  assert.ok(typeof ev.streamSid === 'string' && ev.streamSid.length > 0, 'streamSid');
  switch (ev.event) {
    case 'media':
      assert.ok(isBase64(ev.payload.base64), 'payload is base64');
      assert.ok(Number.isFinite(ev.timestampMs), 'timestamp');
      assert.equal(typeof ev.track, 'string');
      return;
    case 'mark':
      assert.ok(typeof ev.name === 'string' && ev.name.length > 0);
      return;
    case 'dtmf':
      assert.match(ev.digit, /^[0-9*#A-D]$/);
      return;
    case 'start':
      assert.ok(ev.callSid.length > 0 && ev.accountSid.length > 0);
      for (const v of Object.values(ev.customParameters)) assert.equal(typeof v, 'string');
      assert.ok(Number.isFinite(ev.mediaFormat.sampleRate) && Number.isFinite(ev.mediaFormat.channels), 'media format is numeric');
      {
        // Whatever arrived, the format check answers (never throws): supported only for mu-law 8 kHz mono.
        const f = ev.mediaFormat;
        const problem = unsupportedMediaFormat(f);
        const exact = f.encoding === 'audio/x-mulaw' && f.sampleRate === 8000 && f.channels === 1;
        assert.equal(problem === undefined, exact, 'supported exactly when mu-law 8 kHz mono');
        if (problem) assert.ok(problem.length < 300 && /^[\x20-\x7e]+$/.test(problem), 'a short, printable reason');
      }
      return;
  }
}

/** The only thing allowed to escape is a StreamFrameError whose message names the event and the field. */
function parseOrClearError(raw: string | Buffer): void {
  parsedOrRefused(() => parseInbound(raw), StreamFrameError, (err) => {
    assert.ok(err.message.length > 0 && err.message.length < 300, 'a short, non-empty message');
    if (err.eventType) assert.ok(err.message.includes(err.eventType), `"${err.message}" names the event ${err.eventType}`);
  }, assertWellFormed);
}

test('media stream codec: 100k hostile frames (random text, JSON, mutated valid frames) parse or fail with a StreamFrameError', async () => {
  await noEscapes(() => check('media-stream hostile text', hostileInputs(validFrame, 'event', EVENTS), parseOrClearError));
});

test('media stream codec: 100k hostile frames as raw bytes (invalid UTF-8, oversized) parse or fail with a StreamFrameError', async () => {
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
    hostileInputs(validFrame, 'event', EVENTS).map((s) => Buffer.from(s, 'utf8')),
    fc.nat({ max: 64 }).map((extra) => Buffer.alloc(MAX_STREAM_FRAME_BYTES + 1 + extra, 0x20)),
  );
  await noEscapes(() => check('media-stream hostile bytes', bytes, parseOrClearError));
});

test('media stream codec: every valid frame parses to what it carries', async () => {
  await noEscapes(() =>
    check('media-stream valid', validFrame, (frame: any) => {
      const ev = parseInbound(Buffer.from(JSON.stringify(frame)));
      assert.equal(ev.event, frame.event);
      if (ev.event === 'media') assert.equal(ev.payload.base64, frame.media.payload);
      if (ev.event === 'mark') assert.equal(ev.name, frame.mark.name);
      if (ev.event === 'dtmf') assert.equal(ev.digit, frame.dtmf.digit);
      if (ev.event === 'start') assert.deepEqual([ev.callSid, ev.customParameters], [frame.start.callSid, { ...frame.start.customParameters }]);
      if (ev.event !== 'connected') assert.equal(ev.streamSid, frame.streamSid);
    }, VALID_RUNS),
  );
});

test('media stream codec: what Callwright builds is valid JSON carrying exactly its inputs', async () => {
  const arb = fc.tuple(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,128}$/), fc.stringMatching(/^[A-Za-z0-9_.:-]{1,128}$/), base64Audio);
  await noEscapes(() =>
    check('media-stream builders', arb, ([sidText, mark, b64]) => {
      assert.deepEqual(JSON.parse(buildMedia(sidText, AudioChunk.fromBase64(b64))), { event: 'media', streamSid: sidText, media: { payload: b64 } });
      assert.deepEqual(JSON.parse(buildMark(sidText, mark)), { event: 'mark', streamSid: sidText, mark: { name: mark } });
      assert.deepEqual(JSON.parse(buildClear(sidText)), { event: 'clear', streamSid: sidText });
    }, VALID_RUNS),
  );
});
