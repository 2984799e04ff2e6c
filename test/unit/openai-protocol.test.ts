import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSessionUpdate, buildTruncate, buildTurnDetectionUpdate, buildAppend, buildFunctionOutput, buildResponseCreate, buildResponseCancel, isFatalError, parseServerEvent, ServerEventError } from '../../src/voice/openai-realtime/protocol.js';
import { AudioChunk } from '../../src/media/audio-chunk.js';

test('session.update asks for G.711 mu-law both ways, server VAD, transcription and the tools', () => {
  const ev = buildSessionUpdate({ instructions: 'Be brief.', voice: 'marin', transcriptionModel: 'gpt-4o-mini-transcribe', silenceMs: 500, autoRespond: false, tools: [{ name: 'end_call', description: 'd', parameters: { type: 'object' } }] });
  const s = ev.session as any;
  assert.equal(s.type, 'realtime');
  assert.deepEqual(s.audio.input.format, { type: 'audio/pcmu' });
  assert.deepEqual(s.audio.output.format, { type: 'audio/pcmu' });
  assert.equal(s.audio.output.voice, 'marin');
  assert.equal(s.audio.input.turn_detection.type, 'server_vad');
  assert.equal(s.audio.input.turn_detection.create_response, false);
  assert.equal(s.audio.input.turn_detection.silence_duration_ms, 500);
  assert.deepEqual(s.audio.input.transcription, { model: 'gpt-4o-mini-transcribe' });
  assert.deepEqual(s.tools, [{ type: 'function', name: 'end_call', description: 'd', parameters: { type: 'object' } }]);
  // Turning auto-responses on re-sends the whole input config, format included.
  const up = buildTurnDetectionUpdate({ transcriptionModel: 'm', silenceMs: 400, autoRespond: true }).session as any;
  assert.deepEqual(up.audio.input.format, { type: 'audio/pcmu' });
  assert.equal(up.audio.input.turn_detection.create_response, true);
});

test('client events have the GA shapes', () => {
  assert.deepEqual(buildTruncate('item_1', 1234.7), { type: 'conversation.item.truncate', item_id: 'item_1', content_index: 0, audio_end_ms: 1234 });
  assert.deepEqual(JSON.parse(buildAppend(AudioChunk.fromBytes(new Uint8Array([1, 2, 3])))), { type: 'input_audio_buffer.append', audio: 'AQID' });
  assert.deepEqual(buildResponseCreate('Say goodbye.'), { type: 'response.create', response: { instructions: 'Say goodbye.', metadata: { asked_by: 'callwright' } } });
  assert.deepEqual(buildResponseCancel('resp_1'), { type: 'response.cancel', response_id: 'resp_1' });
  assert.deepEqual(buildFunctionOutput('call_1', 'ok'), { type: 'conversation.item.create', item: { type: 'function_call_output', call_id: 'call_1', output: 'ok' } });
});

test('server events are decoded, including beta names still seen in the wild', () => {
  const d = parseServerEvent(JSON.stringify({ type: 'response.output_audio.delta', response_id: 'r', item_id: 'i', output_index: 0, content_index: 0, delta: 'AQID' }));
  assert.equal(d.type, 'response.output_audio.delta');
  if (d.type === 'response.output_audio.delta') assert.deepEqual([...d.audio.bytes], [1, 2, 3]);
  assert.equal(parseServerEvent(JSON.stringify({ type: 'response.audio.delta', response_id: 'r', item_id: 'i', delta: 'AQID' })).type, 'response.output_audio.delta');
  assert.deepEqual(parseServerEvent(JSON.stringify({ type: 'input_audio_buffer.speech_started', audio_start_ms: 10, item_id: 'u1' })), { type: 'input_audio_buffer.speech_started', itemId: 'u1', audioMs: 10 });
  assert.deepEqual(parseServerEvent(JSON.stringify({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: 2500, item_id: 'u1' })), { type: 'input_audio_buffer.speech_stopped', audioMs: 2500 });
  const done = parseServerEvent(JSON.stringify({ type: 'response.done', response: { id: 'r', status: 'cancelled', usage: { input_tokens: 5 } } }));
  assert.deepEqual(done, { type: 'response.done', responseId: 'r', status: 'cancelled', usage: { input_tokens: 5 }, error: undefined, outputItemIds: [] });
  const withOutput = parseServerEvent(JSON.stringify({ type: 'response.done', response: { id: 'r', status: 'cancelled', output: [{ id: 'item_a', type: 'message' }, { type: 'message' }, { id: 'item_b' }] } }));
  assert.deepEqual(withOutput.type === 'response.done' && withOutput.outputItemIds, ['item_a', 'item_b']);
  // A response.create of ours carries our metadata, echoed back; turn detection's own responses carry none.
  const created = (metadata: unknown) => parseServerEvent(JSON.stringify({ type: 'response.created', response: { id: 'r', status: 'in_progress', metadata } }));
  assert.deepEqual(created(buildResponseCreate().response?.metadata), { type: 'response.created', responseId: 'r', asked: true });
  assert.deepEqual(created(null), { type: 'response.created', responseId: 'r', asked: false });
  assert.deepEqual(created({ asked_by: 'someone else' }), { type: 'response.created', responseId: 'r', asked: false });
  const err = parseServerEvent(JSON.stringify({ type: 'error', error: { type: 'server_error', code: null, message: 'boom' } }));
  assert.deepEqual(err, { type: 'error', code: 'server_error', message: 'boom', errorType: 'server_error', eventId: undefined });
  assert.equal(parseServerEvent('{"type":"rate_limits.updated"}').type, 'ignored');
});

test('session.updated says whether the server now answers turns by itself (create_response), GA or beta shape', () => {
  const updated = (session: unknown) => parseServerEvent(JSON.stringify({ type: 'session.updated', session }));
  const vad = (create_response?: boolean) => ({ type: 'server_vad', silence_duration_ms: 500, ...(create_response === undefined ? {} : { create_response }) });
  assert.deepEqual(updated({ type: 'realtime', audio: { input: { turn_detection: vad(false) } } }), { type: 'session.updated', autoRespond: false });
  assert.deepEqual(updated({ type: 'realtime', audio: { input: { turn_detection: vad(true) } } }), { type: 'session.updated', autoRespond: true });
  // The API's default is true; no turn detection answers nothing.
  assert.deepEqual(updated({ type: 'realtime', audio: { input: { turn_detection: vad() } } }), { type: 'session.updated', autoRespond: true });
  assert.deepEqual(updated({ type: 'realtime', audio: { input: { turn_detection: null } } }), { type: 'session.updated', autoRespond: false });
  assert.deepEqual(updated({ turn_detection: vad(false) }), { type: 'session.updated', autoRespond: false });
  // Not said: left to the engine's own record.
  assert.deepEqual(updated({ type: 'realtime', instructions: 'x' }), { type: 'session.updated', autoRespond: undefined });
  assert.deepEqual(parseServerEvent('{"type":"session.updated"}'), { type: 'session.updated', autoRespond: undefined });
});

test('malformed server events are clear errors', () => {
  for (const raw of ['nope', '[]', '{}', '{"type":"response.output_audio.delta","response_id":"r","item_id":"i","delta":"%%%"}', '{"type":"response.done"}', '{"type":"response.created","response":{}}']) {
    assert.throws(() => parseServerEvent(raw), ServerEventError, raw);
  }
});

test('which errors end a call', () => {
  assert.equal(isFatalError('server_error', 'server_error'), true);
  assert.equal(isFatalError('invalid_request_error', 'invalid_api_key'), true);
  assert.equal(isFatalError('invalid_request_error', 'invalid_value'), false);
});
