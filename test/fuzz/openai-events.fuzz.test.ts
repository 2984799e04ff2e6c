import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseServerEvent, ServerEventError, type ServerEvent } from '../../src/voice/openai-realtime/protocol.js';
import { isBase64 } from '../../src/media/audio-chunk.js';
import { check, hostileInputs, noEscapes, base64Audio, parsedOrRefused, VALID_RUNS } from './fuzz-kit.js';
import { assertCounts } from './usage-check.js';

const id = (p: string) => fc.stringMatching(/^[A-Za-z0-9]{8,22}$/).map((x) => p + x);
const count = fc.nat({ max: 100_000 });
const tokens = fc.record({ text_tokens: count, audio_tokens: count });
const responseUsage = fc.record({
  total_tokens: count,
  input_tokens: count,
  output_tokens: count,
  input_token_details: fc.record({ text_tokens: count, audio_tokens: count, cached_tokens: count, cached_tokens_details: tokens }),
  output_token_details: tokens,
});

/** Server events as the GA Realtime API sends them (only the fields Callwright reads, plus typical extras). */
const validEvent: fc.Arbitrary<object> = fc.oneof(
  fc.record({ type: fc.constantFrom('session.created', 'session.updated'), event_id: id('event_'), session: fc.constant({ type: 'realtime', model: 'gpt-realtime' }) }),
  fc.record({ type: fc.constant('input_audio_buffer.speech_started'), event_id: id('event_'), audio_start_ms: count, item_id: id('item_') }),
  fc.record({ type: fc.constant('input_audio_buffer.speech_stopped'), event_id: id('event_'), audio_end_ms: count, item_id: id('item_') }),
  fc.record({
    type: fc.constant('conversation.item.input_audio_transcription.completed'),
    event_id: id('event_'),
    item_id: id('item_'),
    content_index: fc.constant(0),
    transcript: fc.string({ unit: 'grapheme', maxLength: 80 }),
    usage: fc.oneof(fc.record({ type: fc.constant('tokens'), input_tokens: count, output_tokens: count, input_token_details: tokens }), fc.record({ type: fc.constant('duration'), seconds: count })),
  }),
  fc.record({ type: fc.constant('response.created'), event_id: id('event_'), response: fc.record({ id: id('resp_'), status: fc.constant('in_progress') }) }),
  fc.record({ type: fc.constantFrom('response.output_audio.delta', 'response.audio.delta'), event_id: id('event_'), response_id: id('resp_'), item_id: id('item_'), output_index: fc.constant(0), content_index: fc.constant(0), delta: base64Audio }),
  fc.record({ type: fc.constantFrom('response.output_audio_transcript.done', 'response.audio_transcript.done'), event_id: id('event_'), response_id: id('resp_'), item_id: id('item_'), transcript: fc.string({ unit: 'grapheme', maxLength: 80 }) }),
  fc.record({ type: fc.constant('response.function_call_arguments.done'), event_id: id('event_'), response_id: id('resp_'), item_id: id('item_'), call_id: id('call_'), name: fc.constant('end_call'), arguments: fc.constant('{"reason":"done"}') }),
  fc.record({
    type: fc.constant('response.done'),
    event_id: id('event_'),
    response: fc.record({ id: id('resp_'), status: fc.constantFrom('completed', 'cancelled', 'failed', 'incomplete'), usage: responseUsage, status_details: fc.constant({ type: 'failed', error: { type: 'server_error', message: 'boom' } }) }),
  }),
  fc.record({ type: fc.constant('error'), event_id: id('event_'), error: fc.record({ type: fc.constantFrom('invalid_request_error', 'server_error'), code: fc.constantFrom('invalid_value', 'response_cancel_not_active'), message: fc.string({ maxLength: 60 }), event_id: id('event_') }) }),
);
const TYPES = [
  'session.created', 'session.updated', 'input_audio_buffer.speech_started', 'input_audio_buffer.speech_stopped',
  'conversation.item.input_audio_transcription.completed', 'response.created', 'response.output_audio.delta', 'response.audio.delta',
  'response.output_audio_transcript.done', 'response.audio_transcript.done', 'response.function_call_arguments.done', 'response.done', 'error',
] as const;

function assertWellFormed(ev: ServerEvent): void {
  assert.equal(typeof ev.type, 'string');
  switch (ev.type) {
    case 'response.output_audio.delta':
      assert.ok(isBase64(ev.audio.base64), 'audio is base64');
      assert.ok(typeof ev.responseId === 'string' && typeof ev.itemId === 'string');
      return;
    case 'transcription.completed':
      assert.ok(typeof ev.itemId === 'string' && typeof ev.transcript === 'string');
      assertCounts(ev.usage);
      return;
    case 'response.done':
      assert.ok(typeof ev.responseId === 'string' && typeof ev.status === 'string');
      assertCounts(ev.usage);
      assert.ok(ev.error === undefined || typeof ev.error === 'string');
      return;
    case 'error':
      for (const v of [ev.code, ev.message, ev.errorType]) assert.equal(typeof v, 'string');
      return;
    case 'response.function_call_arguments.done':
      for (const v of [ev.responseId, ev.callId, ev.name, ev.arguments]) assert.equal(typeof v, 'string');
      return;
    case 'ignored':
      assert.equal(typeof ev.originalType, 'string');
      return;
  }
}

function parseOrClearError(raw: string): void {
  parsedOrRefused(() => parseServerEvent(raw), ServerEventError, (err) => {
    assert.ok(err.message.length > 0 && err.message.length < 300);
    // A typed event's error names the event and the field at fault.
    if (err.eventType) assert.match(err.message, new RegExp(`^${err.eventType.replace(/\./g, '\\.')}: "[a-z_]+"`));
  }, assertWellFormed);
}

test('OpenAI Realtime server events: 100k hostile messages parse or fail with a ServerEventError naming event and field', async () => {
  await noEscapes(() => check('openai hostile', hostileInputs(validEvent, 'type', TYPES), parseOrClearError));
});

test('OpenAI Realtime server events: every valid event parses to what it carries', async () => {
  await noEscapes(() =>
    check(
      'openai valid',
      validEvent,
      (e: any) => {
        const ev = parseServerEvent(JSON.stringify(e)) as any;
        switch (e.type) {
          case 'response.output_audio.delta':
          case 'response.audio.delta':
            assert.deepEqual([ev.type, ev.responseId, ev.itemId, ev.audio.base64], ['response.output_audio.delta', e.response_id, e.item_id, e.delta]);
            break;
          case 'conversation.item.input_audio_transcription.completed':
            assert.deepEqual([ev.itemId, ev.transcript, ev.usage], [e.item_id, e.transcript, { ...e.usage, input_token_details: e.usage.input_token_details && { ...e.usage.input_token_details } }].map((x) => (x && typeof x === 'object' ? JSON.parse(JSON.stringify(x)) : x)));
            break;
          case 'response.done': {
            const { total_tokens: _ignored, ...usage } = e.response.usage;
            assert.deepEqual([ev.responseId, ev.status, ev.error], [e.response.id, e.response.status, 'boom']);
            assert.deepEqual(JSON.parse(JSON.stringify(ev.usage)), JSON.parse(JSON.stringify(usage)));
            break;
          }
          case 'response.function_call_arguments.done':
            assert.deepEqual([ev.callId, ev.name, ev.arguments], [e.call_id, e.name, e.arguments]);
            break;
          case 'error':
            assert.deepEqual([ev.code, ev.message, ev.errorType], [e.error.code, e.error.message, e.error.type]);
            break;
          default:
            assert.notEqual(ev.type, 'ignored', e.type);
        }
      },
      VALID_RUNS,
    ),
  );
});
