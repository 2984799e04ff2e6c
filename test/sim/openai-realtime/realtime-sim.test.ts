import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { startOpenAIRealtimeSim, type OpenAIRealtimeSim, type RealtimeScenario } from './index.js';
import { audioBytes, concat, loud, PCMU_SESSION, silence, TestClient } from './test-client.js';
import { speech as calleeSpeech } from '../twilio/callee-audio.js';
import { holdMusic } from '../twilio/hold-audio.js';

const KEY = 'sk-test-sim';

/** Scenarios are chosen per test by the model name, so one simulator serves the whole file. */
const scenarios: Record<string, RealtimeScenario> = {};
let sim: OpenAIRealtimeSim;

before(async () => {
  sim = await startOpenAIRealtimeSim({
    apiKey: KEY,
    scenario: (i) => scenarios[`s${i}`] ?? { turns: [] },
  });
});

after(async () => {
  await sim.close();
});

/** Resolves once `cond` holds, checked after every turn of the event loop. */
async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setImmediate(r));
  }
}

/** Connects a client whose session will use `scenario`. */
async function connect(scenario: RealtimeScenario = { turns: [] }): Promise<{ c: TestClient; idx: number }> {
  const idx = sim.sessions.length;
  scenarios[`s${idx}`] = scenario;
  const c = await TestClient.connect(sim.url, KEY);
  return { c, idx };
}

function rejectedStatus(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => reject(new Error('upgrade unexpectedly accepted')));
    ws.on('error', () => {});
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
  });
}

describe('upgrade', () => {
  test('rejects a missing or wrong API key with 401 and an OpenAI-style error body', async () => {
    const before = sim.sessions.length;
    const none = await rejectedStatus(`${sim.url}?model=gpt-realtime`, {});
    assert.equal(none.status, 401);
    assert.equal(JSON.parse(none.body).error.code, 'invalid_api_key');
    const wrong = await rejectedStatus(`${sim.url}?model=gpt-realtime`, { Authorization: 'Bearer nope' });
    assert.equal(wrong.status, 401);
    assert.equal(JSON.parse(wrong.body).error.type, 'invalid_request_error');
    const noModel = await rejectedStatus(sim.url, { Authorization: `Bearer ${KEY}` });
    assert.equal(noModel.status, 400);
    const beta = await rejectedStatus(`${sim.url}?model=gpt-realtime`, { Authorization: `Bearer ${KEY}`, 'OpenAI-Beta': 'realtime=v1' });
    assert.equal(beta.status, 400);
    assert.equal(sim.sessions.length, before, 'no session for rejected upgrades');
    assert.ok(sim.rejectedUpgrades.some((r) => r.status === 401));
  });

  test('session.created carries GA defaults and the model from the query', async () => {
    const { c, idx } = await connect();
    const s = sim.sessions[idx];
    const created = c.of('session.created')[0];
    assert.equal(s.model, 'gpt-realtime');
    assert.equal(created.session.type, 'realtime');
    assert.match(created.session.id, /^sess_/);
    assert.deepEqual(created.session.output_modalities, ['audio']);
    assert.deepEqual(created.session.audio.input.format, { type: 'audio/pcm', rate: 24000 });
    assert.equal(created.session.audio.input.turn_detection.silence_duration_ms, 200);
    assert.equal(created.session.audio.output.voice, 'alloy');
    await c.close();
    assert.equal((await s.closed).code, 1000);
  });
});

describe('session.update', () => {
  test('deep-merges into the config and echoes the full session', async () => {
    const { c, idx } = await connect();
    c.send({ type: 'session.update', session: PCMU_SESSION });
    const upd = await c.waitFor('session.updated');
    const td = upd.session.audio.input.turn_detection;
    assert.equal(td.silence_duration_ms, 500);
    assert.equal(td.threshold, 0.5, 'untouched VAD fields keep their defaults');
    assert.equal(td.create_response, true);
    assert.deepEqual(upd.session.audio.input.format, { type: 'audio/pcmu' }, 'formats replace, no stray rate');
    assert.equal(upd.session.audio.output.voice, 'marin');
    assert.equal(upd.session.instructions, 'You are a phone agent.');
    assert.equal(upd.session.model, 'gpt-realtime');
    // A second partial update only touches what it names.
    c.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: { type: 'server_vad', threshold: 0.7 } } } } });
    const upd2 = await c.waitFor('session.updated', () => true, 2);
    assert.equal(upd2.session.audio.input.turn_detection.silence_duration_ms, 500);
    assert.equal(upd2.session.audio.input.turn_detection.threshold, 0.7);
    assert.deepEqual(sim.sessions[idx].config, upd2.session);
    await c.close();
  });

  test('rejects bad formats, a missing type and beta-era fields without applying them', async () => {
    const { c, idx } = await connect();
    c.send({ type: 'session.update', event_id: 'evt_fmt', session: { type: 'realtime', audio: { input: { format: { type: 'audio/wav' } } } } });
    const e1 = await c.waitFor('error');
    assert.equal(e1.error.type, 'invalid_request_error');
    assert.equal(e1.error.code, 'invalid_value');
    assert.equal(e1.error.param, 'session.audio.input.format');
    assert.equal(e1.error.event_id, 'evt_fmt');
    c.send({ type: 'session.update', session: { type: 'realtime', audio: { output: { format: { type: 'audio/pcm', rate: 16000 } } } } });
    assert.equal((await c.waitFor('error', () => true, 2)).error.param, 'session.audio.output.format');
    c.send({ type: 'session.update', session: { instructions: 'x' } });
    const e3 = await c.waitFor('error', () => true, 3);
    assert.equal(e3.error.code, 'missing_required_parameter');
    assert.equal(e3.error.param, 'session.type');
    c.send({ type: 'session.update', session: { type: 'realtime', input_audio_format: 'g711_ulaw' } });
    const e4 = await c.waitFor('error', () => true, 4);
    assert.equal(e4.error.code, 'unknown_parameter');
    assert.equal(e4.error.param, 'session.input_audio_format');
    assert.equal(c.of('session.updated').length, 0);
    assert.deepEqual(sim.sessions[idx].config.audio?.input?.format, { type: 'audio/pcm', rate: 24000 });
    assert.equal(sim.sessions[idx].errorsSent.length, 4);
    await c.close();
  });
});

describe('server VAD and automatic responses', () => {
  test('transcribeBySound: each turn is the scripted line its audio holds, in whatever order; music is (inaudible)', async () => {
    const lines = ['Your call is important to us.', 'Thanks for holding, this is Sam.'];
    const { c } = await connect({ turns: [], userTranscripts: lines, transcribeBySound: true });
    c.send({ type: 'session.update', session: { ...PCMU_SESSION, audio: { ...PCMU_SESSION.audio, input: { ...PCMU_SESSION.audio.input, turn_detection: { type: 'server_vad', silence_duration_ms: 500, create_response: false } } } } });
    await c.waitFor('session.updated');
    const transcripts = async (n: number) => {
      for (let i = 0; i < 100 && c.of('conversation.item.input_audio_transcription.completed').length < n; i++) await new Promise((r) => setTimeout(r, 20));
      return c.of('conversation.item.input_audio_transcription.completed').map((e: any) => e.transcript);
    };
    // The second line first, then music alone, then the first line said shorter than its default length.
    c.appendAudio(concat(calleeSpeech(lines[1]), silence(700)));
    assert.deepEqual(await transcripts(1), [lines[1]]);
    c.appendAudio(concat(holdMusic(1500), silence(700)));
    assert.deepEqual(await transcripts(2), [lines[1], '(inaudible)']);
    c.appendAudio(concat(calleeSpeech(lines[0], 1200), silence(700)));
    assert.deepEqual(await transcripts(3), [lines[1], '(inaudible)', lines[0]]);
  });

  test('1 s of speech + 600 ms silence -> speech events, transcription, auto response with audio and usage', async () => {
    const say = 'Sure, a table for two at eight.';
    const { c, idx } = await connect({ turns: [{ say }], userTranscripts: ['I need a table for two'] });
    const s = sim.sessions[idx];
    c.send({ type: 'session.update', session: PCMU_SESSION });
    await c.waitFor('session.updated');
    c.appendAudio(concat(loud(1000), silence(600)));
    const started = await c.waitFor('input_audio_buffer.speech_started');
    assert.equal(started.audio_start_ms, 0);
    const stopped = await c.waitFor('input_audio_buffer.speech_stopped');
    assert.equal(stopped.audio_end_ms, 1500, 'speech end + silence_duration_ms, on the appended-audio clock');
    assert.equal(stopped.item_id, started.item_id);
    const committed = await c.waitFor('input_audio_buffer.committed');
    assert.equal(committed.item_id, started.item_id);
    const tr = await c.waitFor('conversation.item.input_audio_transcription.completed');
    assert.equal(tr.transcript, 'I need a table for two');
    assert.equal(tr.usage.type, 'tokens');
    const done = await c.waitFor('response.done');
    const created = c.of('response.created')[0];
    assert.equal(created.response.status, 'in_progress');
    assert.equal(done.response.id, created.response.id);
    assert.equal(done.response.status, 'completed');
    assert.equal(done.response.object, 'realtime.response');
    // Event order within the response follows the GA server.
    const order = c.events.map((e) => e.type);
    const idxOf = (t: string) => order.indexOf(t);
    assert.ok(idxOf('conversation.item.input_audio_transcription.completed') < idxOf('response.created'));
    assert.ok(idxOf('response.output_item.added') < idxOf('response.content_part.added'));
    assert.ok(idxOf('response.content_part.added') < idxOf('response.output_audio.delta'));
    assert.ok(order.lastIndexOf('response.output_audio.delta') < idxOf('response.output_audio.done'));
    assert.ok(idxOf('response.output_audio_transcript.done') < idxOf('response.content_part.done'));
    assert.ok(idxOf('response.output_item.done') < idxOf('response.done'));

    const expectedMs = say.length * 60;
    assert.equal(audioBytes(c.events), expectedMs * 8);
    const deltas = c.of('response.output_audio.delta');
    assert.equal(deltas.length, Math.ceil(expectedMs / 100));
    assert.ok(Buffer.from(deltas[0].delta, 'base64').some((b) => b !== 0xff), 'agent audio is not silence');
    const transcript = c.of('response.output_audio_transcript.delta').map((e) => e.delta).join('');
    assert.equal(transcript, say);
    assert.equal(c.of('response.output_audio_transcript.done')[0].transcript, say);
    assert.deepEqual(done.response.output[0].content, [{ type: 'output_audio', transcript: say }]);

    const u = done.response.usage;
    assert.equal(u.output_token_details.audio_tokens, Math.round(expectedMs / 50));
    assert.equal(u.output_token_details.text_tokens, Math.ceil(say.length / 4));
    assert.equal(u.input_token_details.audio_tokens, 15, '1500 ms appended when the response started, / 100');
    assert.equal(u.input_token_details.text_tokens, Math.ceil(('You are a phone agent.'.length + 'I need a table for two'.length) / 4));
    assert.equal(u.input_token_details.cached_tokens, 0, 'nothing cached on the first response');
    assert.equal(u.total_tokens, u.input_tokens + u.output_tokens);

    assert.equal(s.userTurns, 1);
    assert.equal(s.inputAudioMs, 1600);
    assert.deepEqual(
      s.responses.map((r) => [r.status, r.audioMsSent, r.transcript, r.trigger]),
      [['completed', expectedMs, say, 'vad']],
    );
    assert.ok(new Set(c.events.map((e) => e.event_id)).size === c.events.length, 'event ids are unique');
    await c.close();
  });

  test('no transcription events unless transcription is configured; no response when create_response is false', async () => {
    const { c, idx } = await connect({ turns: [{ say: 'Hi' }] });
    c.send({
      type: 'session.update',
      session: { type: 'realtime', audio: { input: { format: { type: 'audio/pcmu' }, turn_detection: { type: 'server_vad', create_response: false } } } },
    });
    await c.waitFor('session.updated');
    c.appendAudio(concat(loud(300), silence(300)));
    await c.waitFor('conversation.item.done');
    // A round trip after the audio: anything the sim sent for it has arrived by the time this is answered.
    c.send({ type: 'input_audio_buffer.clear' });
    await c.waitFor('input_audio_buffer.cleared');
    assert.equal(c.of('conversation.item.input_audio_transcription.completed').length, 0);
    assert.equal(c.of('response.created').length, 0);
    assert.equal(sim.sessions[idx].userTurns, 1);
    await c.close();
  });

  test('interrupt_response: speech during a response cancels it with reason turn_detected', async () => {
    const long = 'This is a rather long greeting that keeps going for several seconds of audio.';
    const { c, idx } = await connect({ turns: [{ say: long }, { say: 'Yes?' }], userTranscripts: ['wait'], pacing: 'realtime' });
    c.send({ type: 'session.update', session: PCMU_SESSION });
    await c.waitFor('session.updated');
    c.send({ type: 'response.create' });
    await c.waitFor('response.output_audio.delta');
    c.appendAudio(loud(200));
    const started = await c.waitFor('input_audio_buffer.speech_started');
    const done = await c.waitFor('response.done');
    assert.equal(done.response.status, 'cancelled');
    assert.deepEqual(done.response.status_details, { type: 'cancelled', reason: 'turn_detected' });
    assert.equal(done.response.output[0].status, 'incomplete');
    assert.ok(c.events.indexOf(started) < c.events.indexOf(done));
    const firstId = done.response.id;
    const s = sim.sessions[idx];
    assert.equal(s.responses[0].status, 'cancelled');
    assert.equal(s.responses[0].cancelReason, 'turn_detected');
    assert.ok(s.responses[0].audioMsSent < long.length * 60);
    // The user's turn then ends and gets the next scripted reply.
    c.appendAudio(silence(600));
    const done2 = await c.waitFor('response.done', () => true, 2);
    assert.equal(done2.response.status, 'completed');
    assert.equal(s.responses[1].transcript, 'Yes?');
    const lateDeltas = c.events.slice(c.events.indexOf(done)).filter((e) => e.type === 'response.output_audio.delta' && e.response_id === firstId);
    assert.equal(lateDeltas.length, 0);
    await c.close();
  });
});

describe('pacing', () => {
  test('burst sends a response far faster than realtime; realtime takes about the audio duration', async () => {
    const say = 'Ten chars.'; // 600 ms of audio
    const timeResponse = async (pacing: 'burst' | 'realtime') => {
      const { c } = await connect({ turns: [{ say }], pacing });
      const t0 = performance.now();
      c.send({ type: 'response.create' });
      await c.waitFor('response.done');
      const elapsed = performance.now() - t0;
      const firstDelta = c.of('response.output_audio.delta').length;
      await c.close();
      return { elapsed, firstDelta };
    };
    const burst = await timeResponse('burst');
    const realtime = await timeResponse('realtime');
    assert.ok(burst.elapsed < 300, `burst took ${burst.elapsed} ms`);
    assert.ok(realtime.elapsed >= 580 && realtime.elapsed < 1200, `realtime took ${realtime.elapsed} ms`);
    assert.equal(burst.firstDelta, realtime.firstDelta);
  });
});

describe('response.create / response.cancel', () => {
  test('cancel mid-response finishes it as cancelled and stops its deltas', async () => {
    const say = 'A long answer. '.repeat(10); // 9 s of audio, 90 deltas in burst mode
    const { c, idx } = await connect({ turns: [{ say }, { say: 'Next.' }] });
    c.send({ type: 'response.create' });
    await c.waitFor('response.output_audio.delta');
    c.send({ type: 'response.cancel' });
    const done = await c.waitFor('response.done');
    assert.equal(done.response.status, 'cancelled');
    assert.deepEqual(done.response.status_details, { type: 'cancelled', reason: 'client_cancelled' });
    const rec = sim.sessions[idx].responses[0];
    assert.equal(rec.status, 'cancelled');
    assert.equal(rec.cancelReason, 'client_cancelled');
    assert.ok(rec.audioMsSent > 0 && rec.audioMsSent < say.length * 60, `sent ${rec.audioMsSent} ms`);
    assert.equal(audioBytes(c.events, done.response.id), rec.audioMsSent * 8, 'record matches what went out');
    assert.equal(done.response.usage.output_token_details.audio_tokens, Math.round(rec.audioMsSent / 50));
    // The next response.create is accepted immediately and plays the next turn.
    c.send({ type: 'response.create' });
    const done2 = await c.waitFor('response.done', () => true, 2);
    assert.equal(done2.response.status, 'completed');
    assert.ok(done2.response.usage.input_token_details.cached_tokens > 0, 'prompt caching from the 2nd response on');
    assert.equal(
      c.events.slice(c.events.indexOf(done)).filter((e) => e.type === 'response.output_audio.delta' && e.response_id === done.response.id).length,
      0,
    );
    await c.close();
  });

  test('cancel with nothing active -> response_cancel_not_active; create while active -> error', async () => {
    const { c, idx } = await connect({ turns: [{ say: 'Some words to say here.' }] });
    c.send({ type: 'response.cancel', event_id: 'evt_c1' });
    const e = await c.waitFor('error');
    assert.equal(e.error.code, 'response_cancel_not_active');
    assert.equal(e.error.event_id, 'evt_c1');
    c.send({ type: 'response.create' });
    c.send({ type: 'response.create' });
    const e2 = await c.waitFor('error', () => true, 2);
    assert.equal(e2.error.code, 'conversation_already_has_active_response');
    await c.waitFor('response.done');
    assert.equal(c.of('response.created').length, 1);
    assert.equal(sim.sessions[idx].responses.length, 1);
    assert.equal(c.ws.readyState, WebSocket.OPEN);
    await c.close();
  });

  test('exhausted scenario falls back to a short "Okay." turn', async () => {
    const { c } = await connect({ turns: [] });
    c.send({ type: 'response.create', response: { instructions: 'Greet the callee.' } });
    const done = await c.waitFor('response.done');
    assert.equal(done.response.output[0].content[0].transcript, 'Okay.');
    await c.close();
  });
});

describe('conversation.item.truncate', () => {
  test('beyond the audio sent is rejected, within it is accepted', async () => {
    const say = 'Hello there, how are you?'; // 1500 ms
    const { c, idx } = await connect({ turns: [{ say }] });
    c.send({ type: 'response.create' });
    const done = await c.waitFor('response.done');
    const itemId = done.response.output[0].id as string;
    c.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: 1600 });
    const e = await c.waitFor('error');
    assert.equal(e.error.code, 'invalid_value');
    assert.equal(e.error.message, 'Audio content of 1500ms is already shorter than 1600ms');
    c.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: 700 });
    const t = await c.waitFor('conversation.item.truncated');
    assert.deepEqual([t.item_id, t.content_index, t.audio_end_ms], [itemId, 0, 700]);
    c.send({ type: 'conversation.item.truncate', item_id: 'item_nope', content_index: 0, audio_end_ms: 10 });
    assert.equal((await c.waitFor('error', () => true, 2)).error.code, 'item_truncate_invalid_item_id');
    // After truncation the item is only 700 ms long.
    c.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: 800 });
    assert.match((await c.waitFor('error', () => true, 3)).error.message, /700ms is already shorter than 800ms/);
    assert.deepEqual(sim.sessions[idx].truncations, [
      { itemId, audioEndMs: 1600, audioMsSentForItem: 1500, accepted: false },
      { itemId, audioEndMs: 700, audioMsSentForItem: 1500, accepted: true },
      { itemId: 'item_nope', audioEndMs: 10, audioMsSentForItem: 0, accepted: false },
      { itemId, audioEndMs: 800, audioMsSentForItem: 1500, accepted: false },
    ]);
    await c.close();
  });
});

describe('function calls', () => {
  test('call turn -> function_call_output -> response.create plays the next turn', async () => {
    const { c, idx } = await connect({
      turns: [{ say: 'Let me check.', call: { name: 'check_calendar', arguments: { date: '2025-06-01', party: 2 } } }, { say: 'You are booked.' }],
    });
    c.send({ type: 'response.create' });
    const args = await c.waitFor('response.function_call_arguments.done');
    assert.equal(args.name, 'check_calendar');
    assert.deepEqual(JSON.parse(args.arguments), { date: '2025-06-01', party: 2 });
    assert.match(args.call_id, /^call_/);
    const deltas = c.of('response.function_call_arguments.delta').map((e) => e.delta).join('');
    assert.equal(deltas, args.arguments);
    const done = await c.waitFor('response.done');
    assert.deepEqual(
      done.response.output.map((i: { type: string }) => i.type),
      ['message', 'function_call'],
      'audio item first, then the call',
    );
    assert.equal(done.response.output[1].call_id, args.call_id);
    assert.equal(c.of('response.created').length, 1, 'no automatic response after a call');

    c.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: 'call_bogus', output: '{}' } });
    assert.equal((await c.waitFor('error')).error.param, 'item.call_id');
    c.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: args.call_id, output: '{"ok":true}' } });
    const added = await c.waitFor('conversation.item.added', (e) => e.item.type === 'function_call_output');
    assert.equal(added.previous_item_id, done.response.output[1].id);
    await c.waitFor('conversation.item.done', (e) => e.item.type === 'function_call_output');
    c.send({ type: 'response.create' });
    const done2 = await c.waitFor('response.done', () => true, 2);
    assert.equal(done2.response.output[0].content[0].transcript, 'You are booked.');
    assert.deepEqual(sim.sessions[idx].functionOutputs.map(({ at: _at, ...r }) => r), [{ callId: args.call_id, output: '{"ok":true}' }]);
    await c.close();
  });
});

describe('conversation and buffer housekeeping', () => {
  test('message items, delete, retrieve, commit/clear', async () => {
    const { c, idx } = await connect();
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'system', content: [{ type: 'input_text', text: 'Be brief.' }] } });
    const added = await c.waitFor('conversation.item.added');
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'text', text: 'beta style' }] } });
    assert.equal((await c.waitFor('error')).error.param, 'item.content[0].type');
    c.send({ type: 'conversation.item.retrieve', item_id: added.item.id });
    assert.equal((await c.waitFor('conversation.item.retrieved')).item.content[0].text, 'Be brief.');
    c.send({ type: 'conversation.item.delete', item_id: added.item.id });
    assert.equal((await c.waitFor('conversation.item.deleted')).item_id, added.item.id);
    c.send({ type: 'conversation.item.delete', item_id: added.item.id });
    assert.equal((await c.waitFor('error', () => true, 2)).error.code, 'item_delete_invalid_item_id');
    c.send({ type: 'input_audio_buffer.commit' });
    assert.equal((await c.waitFor('error', () => true, 3)).error.code, 'input_audio_buffer_commit_empty');
    // turn_detection off: audio only buffers; a manual commit makes the user item.
    c.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { format: { type: 'audio/pcmu' }, turn_detection: null } } } });
    await c.waitFor('session.updated');
    c.appendAudio(loud(300));
    c.send({ type: 'input_audio_buffer.clear' });
    await c.waitFor('input_audio_buffer.cleared');
    c.appendAudio(loud(200));
    c.send({ type: 'input_audio_buffer.commit' });
    await c.waitFor('input_audio_buffer.committed');
    assert.equal(c.of('input_audio_buffer.speech_started').length, 0);
    const s = sim.sessions[idx];
    assert.deepEqual(s.messages, [{ itemId: added.item.id, role: 'system', text: 'Be brief.' }]);
    assert.equal(s.inputAudioMs, 500);
    assert.equal(s.received.find((e) => e.type === 'input_audio_buffer.append')?.audio, 160, 'audio recorded as byte length');
    await c.close();
  });
});

describe('robustness and faults', () => {
  test('malformed JSON and unknown event types -> error event, socket stays open', async () => {
    const { c, idx } = await connect();
    c.sendRaw('{not json');
    const e = await c.waitFor('error');
    assert.equal(e.error.type, 'invalid_request_error');
    c.send({ type: 'response.teleport' });
    const e2 = await c.waitFor('error', () => true, 2);
    assert.equal(e2.error.param, 'type');
    c.send({ type: 'session.update', session: { type: 'realtime' } });
    await c.waitFor('session.updated');
    assert.equal(c.ws.readyState, WebSocket.OPEN);
    assert.equal(sim.sessions[idx].received[0].type, '<invalid_json>');
    await c.close();
  });

  test('dropAfterResponses terminates the socket mid-audio without a close frame', async () => {
    const say = 'One two three four five six seven eight.';
    const { c, idx } = await connect({ turns: [{ say }], dropAfterResponses: 1 });
    c.send({ type: 'response.create' });
    const { code } = await c.closed;
    assert.equal(code, 1006, 'abnormal closure: no close frame');
    const sent = audioBytes(c.events);
    assert.ok(sent > 0 && sent < say.length * 60 * 8, `sent ${sent} bytes`);
    assert.equal(c.of('response.done').length, 0);
    const s = sim.sessions[idx];
    assert.equal((await s.closed).code, 1006);
    assert.equal(s.responses[0].status, 'in_progress');
  });

  test('a drop under backpressure first lets out what was sent: the client gets every event the session counts as sent', async () => {
    // Megabytes of audio in a burst to a client that is not reading: ws and the socket buffer most of it.
    const { c, idx } = await connect({ turns: [{ say: 'word '.repeat(2000) }], dropAfterResponses: 1 });
    const s = sim.sessions[idx];
    let closed = false;
    void s.closed.then(() => (closed = true));
    c.ws.pause();
    c.send({ type: 'response.create' });
    await until(() => s.warnings.some((w) => w.startsWith('fault: dropping')));
    const sentAtDrop = s.sent.length;
    assert.equal(closed, false, 'the connection stays up while what was sent is still buffered');
    c.ws.resume();
    assert.equal((await c.closed).code, 1006, 'then it ends without a close frame');
    assert.equal(s.sent.length, sentAtDrop, 'nothing more is sent once the drop is decided');
    assert.deepEqual(
      c.events.map((e) => e.event_id),
      s.sent.map((e) => e.event_id),
      'what the session counts as sent is exactly what the client received',
    );
    assert.ok(audioBytes(c.events) > 1_000_000, `the burst was cut mid-way (${audioBytes(c.events)} bytes of audio)`);
  });

  test('fatalErrorAfterResponses sends server_error and closes with 1011', async () => {
    const { c, idx } = await connect({ turns: [{ say: 'Hi.' }, { say: 'This one fails halfway through.' }], fatalErrorAfterResponses: 2 });
    c.send({ type: 'response.create' });
    await c.waitFor('response.done');
    c.send({ type: 'response.create' });
    const { code } = await c.closed;
    assert.equal(code, 1011);
    const err = c.of('error')[0];
    assert.equal(err.error.type, 'server_error');
    assert.deepEqual(sim.sessions[idx].responses.map((r) => r.status), ['completed', 'failed']);
  });

  test('a client vanishing mid-response is harmless', async () => {
    const { c, idx } = await connect({ turns: [{ say: 'Long speech. '.repeat(20) }], pacing: 'realtime' });
    c.send({ type: 'response.create' });
    await c.waitFor('response.output_audio.delta');
    c.ws.terminate();
    const s = sim.sessions[idx];
    await s.closed;
    assert.equal(s.responses[0].status, 'in_progress');
    assert.equal(s.active, null);
  });
});
