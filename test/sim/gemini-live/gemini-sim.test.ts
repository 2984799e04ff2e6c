import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { startGeminiLiveSim, type GeminiLiveSim, type GeminiScenario } from './index.js';
import { REASON_BAD_KEY, REASON_DEADLINE, REASON_INTERNAL } from './protocol.js';
import { audioBytes, BASE_SETUP, concat, KEY, loud, silence, TestClient, type Msg } from './test-client.js';

/** Scenarios are picked by conversation index, so one simulator serves the whole file. */
const scenarios: GeminiScenario[] = [];
let sim: GeminiLiveSim;

before(async () => {
  sim = await startGeminiLiveSim({ apiKey: KEY, scenario: (i) => scenarios[i] ?? { turns: [] } });
});

after(async () => {
  await sim.close();
});

/** Connects a client whose new conversation will use `scenario`. */
async function connect(scenario: GeminiScenario = { turns: [] }, setup: Record<string, unknown> = BASE_SETUP) {
  const idx = sim.sessions.length;
  scenarios[idx] = scenario;
  const c = await TestClient.connect(`${sim.wsUrl}`, setup);
  return { c, s: sim.sessions[idx] };
}

function refusedStatus(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('open', () => reject(new Error('upgrade unexpectedly accepted')));
    ws.on('error', () => {});
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
  });
}

const GREET = { clientContent: { turns: [{ role: 'user', parts: [{ text: 'The call has been answered; greet the callee.' }] }], turnComplete: true } };
const isTurnComplete = (m: Msg) => m.serverContent?.turnComplete === true;

describe('connection and auth', () => {
  test('a bad key is accepted then closed with 1007, a missing key with 1008; no conversation is created', async () => {
    const before = sim.sessions.length;
    const bad = await TestClient.open(sim.wsUrl, 'nope');
    assert.deepEqual(await bad.closed, { code: 1007, reason: REASON_BAD_KEY });
    const none = await TestClient.open(sim.wsUrl, null);
    const closedNone = await none.closed;
    assert.equal(closedNone.code, 1008);
    assert.match(closedNone.reason, /unregistered callers/);
    assert.equal(closedNone.reason.length <= 123, true, 'close reasons fit a close frame');
    assert.equal(sim.sessions.length, before);
    assert.deepEqual(sim.rejected.slice(-2).map((r) => r.closeCode), [1007, 1008]);
  });

  test('a wrong path is refused at HTTP level with a Google-style 404', async () => {
    const { status, body } = await refusedStatus(`${sim.baseUrl.replace('http', 'ws')}/ws/google.ai.generativelanguage.v2.GenerativeService.BidiGenerateContent?key=${KEY}`);
    assert.equal(status, 404);
    assert.equal(JSON.parse(body).error.status, 'NOT_FOUND');
  });

  test('the key in x-goog-api-key works, as do v1, v1alpha and the SDK-style doubled slash', async () => {
    const base = sim.baseUrl.replace('http', 'ws');
    for (const [path, via] of [
      ['//ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent', 'header'],
      ['/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContent', 'query'],
    ] as const) {
      scenarios[sim.sessions.length] = { turns: [] };
      const c = await TestClient.open(`${base}${path}`, KEY, via);
      c.send({ setup: BASE_SETUP });
      await c.waitFor((m) => 'setupComplete' in m, 'setupComplete');
      await c.close();
    }
  });

  test('authFailure "http" refuses the upgrade with Google REST statuses instead', async () => {
    const strict = await startGeminiLiveSim({ apiKey: KEY, authFailure: 'http' });
    try {
      const bad = await refusedStatus(`${strict.wsUrl}?key=nope`);
      assert.equal(bad.status, 400);
      assert.equal(JSON.parse(bad.body).error.details[0].reason, 'API_KEY_INVALID');
      assert.equal((await refusedStatus(strict.wsUrl)).status, 403);
    } finally {
      await strict.close();
    }
  });
});

describe('setup', () => {
  test('setupComplete comes first, in a binary frame; the setup is recorded', async () => {
    const connectionsBefore = sim.connections;
    const { c, s } = await connect();
    assert.deepEqual(c.messages[0], { setupComplete: {} });
    assert.deepEqual(c.binaryFrames, [true], 'the real service sends JSON in binary frames');
    assert.equal(s.setup.model, 'models/gemini-live-2.5-flash-preview');
    assert.deepEqual(s.setup.generationConfig?.speechConfig, BASE_SETUP.generationConfig.speechConfig);
    assert.equal(s.received[0].kind, 'setup');
    assert.equal(sim.connections, connectionsBefore + 1);
    await c.close();
    assert.equal((await s.closed).code, 1000);
  });

  test('a first message other than setup closes with 1007 and creates no conversation', async () => {
    const before = sim.sessions.length;
    const c = await TestClient.open(sim.wsUrl);
    c.send({ realtimeInput: { audioStreamEnd: true } });
    const closed = await c.closed;
    assert.equal(closed.code, 1007);
    assert.match(closed.reason, /first message must be 'setup'/);
    assert.equal(sim.sessions.length, before);
    assert.match(sim.rejected[sim.rejected.length - 1].reason, /realtimeInput/);
  });

  test('unknown or snake_case setup fields close with the protobuf parser wording; a second setup is refused', async () => {
    const c = await TestClient.open(sim.wsUrl);
    c.send({ setup: { ...BASE_SETUP, realtime_input_config: {} } });
    const closed = await c.closed;
    assert.equal(closed.code, 1007);
    assert.equal(closed.reason, `Invalid JSON payload received. Unknown name "realtime_input_config" at 'setup': Cannot find field.`);

    const c2 = await TestClient.open(sim.wsUrl);
    c2.send({ setup: { ...BASE_SETUP, realtimeInputConfig: { automaticActivityDetection: { silenceMs: 300 } } } });
    assert.match((await c2.closed).reason, /Unknown name "silenceMs" at 'setup\.realtimeInputConfig\.automaticActivityDetection'/);

    const { c: c3 } = await connect();
    c3.send({ setup: BASE_SETUP });
    assert.equal((await c3.closed).code, 1007);
  });
});

describe('user turns, model audio, transcription and usage', () => {
  test('speech + silence -> inputTranscription fragments, 24 kHz audio of exact length, outputTranscription, generationComplete, turnComplete + usage', async () => {
    const say = 'Sure, a table for two at eight.';
    const { c, s } = await connect({ turns: [{ say }, { say: 'Anything else?' }], userTranscripts: ['I need a table for two please', 'No'] });
    c.sendAudio(concat(loud(1000), silence(500)));
    await c.waitFor(isTurnComplete, 'turnComplete');

    const input = c.content('inputTranscription').map((sc) => sc.inputTranscription);
    assert.ok(input.length >= 2, 'sent in fragments');
    assert.equal(input.map((t) => t.text).join(''), 'I need a table for two please');
    assert.ok(input.every((t) => t.finished === undefined), 'the real service leaves `finished` unset');

    const expectedMs = say.length * 60;
    const chunks = c.content('modelTurn').map((sc) => sc.modelTurn.parts[0].inlineData);
    assert.ok(chunks.every((d) => d.mimeType === 'audio/pcm;rate=24000'));
    assert.equal(audioBytes(c.messages), expectedMs * 24 * 2, '24 samples per ms, 2 bytes each');
    assert.equal(chunks.length, Math.ceil(expectedMs / 100));
    assert.equal(Buffer.from(chunks[0].data, 'base64').length, 4800, '100 ms chunks');
    assert.ok(Buffer.from(chunks[0].data, 'base64').some((b) => b !== 0), 'agent audio is not silence');
    assert.equal(c.content('outputTranscription').map((sc) => sc.outputTranscription.text).join(''), say);

    const order = (pred: (m: Msg) => boolean) => c.indexOf(pred);
    const lastAudio = c.messages.map((m) => m.serverContent?.modelTurn !== undefined).lastIndexOf(true);
    const lastInput = c.messages.map((m) => m.serverContent?.inputTranscription !== undefined).lastIndexOf(true);
    const lastOutput = c.messages.map((m) => m.serverContent?.outputTranscription !== undefined).lastIndexOf(true);
    const genDone = order((m) => m.serverContent?.generationComplete === true);
    const turnDone = order(isTurnComplete);
    assert.ok(lastInput < order((m) => m.serverContent?.modelTurn !== undefined), 'user transcript before the reply');
    assert.ok(lastAudio < genDone && lastOutput < genDone, 'generationComplete once all audio and words are out');
    assert.ok(genDone < turnDone);

    const u1 = c.messages[turnDone].usageMetadata;
    const promptText = Math.ceil('You are a phone agent.'.length / 4);
    const responseAudio = Math.floor(expectedMs / 40);
    assert.deepEqual(u1, {
      promptTokenCount: 37 + promptText,
      responseTokenCount: responseAudio,
      totalTokenCount: 37 + promptText + responseAudio,
      promptTokensDetails: [
        { modality: 'TEXT', tokenCount: promptText },
        { modality: 'AUDIO', tokenCount: 37 },
      ],
      responseTokensDetails: [{ modality: 'AUDIO', tokenCount: responseAudio }],
    }, '1500 ms of input -> 37 audio tokens (25/s, floored)');

    // Usage is per turn: the second report's prompt is the whole context (both user turns' audio, the
    // system instruction, and the first reply, now context), its response only the second reply.
    c.sendAudio(concat(loud(300), silence(500)));
    const u2 = (await c.waitFor(isTurnComplete, 'turnComplete', 2)).usageMetadata;
    const reply2 = Math.floor((expectedMs + 'Anything else?'.length * 60) / 40) - responseAudio;
    assert.deepEqual(u2.promptTokensDetails, [
      { modality: 'TEXT', tokenCount: promptText },
      { modality: 'AUDIO', tokenCount: Math.floor(2300 / 40) + responseAudio },
    ]);
    assert.equal(u2.promptTokenCount, promptText + Math.floor(2300 / 40) + responseAudio);
    assert.equal(u2.responseTokenCount, reply2, 'response side is this turn only');
    assert.deepEqual(u2.responseTokensDetails, [{ modality: 'AUDIO', tokenCount: reply2 }]);
    assert.deepEqual(s.usageReports, [u1, u2], 'every report is kept, for a test to bill them itself');

    assert.deepEqual(
      s.turns.map((t) => [t.index, t.trigger, t.status, t.audioMsSent, t.transcript, t.generationComplete]),
      [
        [0, 'user', 'complete', expectedMs, say, true],
        [1, 'user', 'complete', 'Anything else?'.length * 60, 'Anything else?', true],
      ],
    );
    assert.deepEqual(s.userTurns.map((u) => [u.startMs, u.endMs, u.transcript]), [
      [0, 1500, 'I need a table for two please'],
      [1500, 2300, 'No'],
    ]);
    assert.equal(s.inputAudioMs, 2300);
    assert.equal((s.received.find((r) => r.kind === 'realtimeInput')?.message as Msg).realtimeInput.audio.data, 640, 'audio recorded as byte length');
    assert.equal(s.interruptions.length, 0);
    await c.close();
  });

  test('8 kHz input declared in the mimeType is understood (the service resamples any rate)', async () => {
    const { c, s } = await connect({ turns: [{ say: 'Yes.' }] });
    c.sendAudio(concat(silence(200, 8000), loud(400, 8000), silence(500, 8000)), 8000);
    await c.waitFor(isTurnComplete, 'turnComplete');
    assert.deepEqual([s.userTurns[0].startMs, s.userTurns[0].endMs], [200, 1100]);
    assert.equal(s.inputAudioMs, 1100);
    await c.close();
  });

  test('manual activity detection: activityStart/End delimit the turn; activityStart with automatic VAD closes 1007', async () => {
    const setup = { ...BASE_SETUP, realtimeInputConfig: { automaticActivityDetection: { disabled: true } } };
    const { c, s } = await connect({ turns: [{ say: 'Got it.' }], userTranscripts: ['Hello there'] }, setup);
    c.send({ realtimeInput: { activityStart: {} } });
    c.sendAudio(concat(silence(200), loud(100), silence(900))); // the VAD is off: silence does not end the turn
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(s.turns.length, 0);
    c.send({ realtimeInput: { activityEnd: {} } });
    await c.waitFor(isTurnComplete, 'turnComplete');
    assert.deepEqual(s.userTurns, [{ connection: 0, source: 'activity', startMs: 0, endMs: 1200, transcript: 'Hello there' }]);
    await c.close();

    const { c: auto } = await connect();
    auto.send({ realtimeInput: { activityStart: {} } });
    const closed = await auto.closed;
    assert.equal(closed.code, 1007);
    assert.match(closed.reason, /automatic activity detection is disabled/);
  });
});

describe('barge-in', () => {
  test('speech while the turn is being generated -> interrupted, turnComplete, no more audio; the next turn answers', async () => {
    const long = 'This is a rather long greeting that keeps going for several seconds of audio.';
    const { c, s } = await connect({ turns: [{ say: long }, { say: 'Yes?' }], userTranscripts: ['wait'], pacing: 'realtime' });
    c.send(GREET);
    await c.waitForContent('modelTurn', 2);
    c.sendAudio(loud(200));
    await c.waitForContent('interrupted');
    const interruptedAt = c.indexOf((m) => m.serverContent?.interrupted === true);
    assert.ok(isTurnComplete(c.messages[interruptedAt + 1]), 'interrupted -> turnComplete');
    assert.ok(c.messages[interruptedAt + 1].usageMetadata.responseTokenCount > 0);
    assert.equal(c.content('generationComplete').length, 0, 'no generationComplete in an interrupted turn');
    assert.equal(s.turns[0].status, 'interrupted');
    assert.ok(s.turns[0].audioMsSent < long.length * 60);
    assert.deepEqual(s.interruptions, [
      { turnIndex: 0, cause: 'speech', audioMsSent: s.turns[0].audioMsSent, atInputMs: 0, cancelledCallIds: [] },
    ]);
    c.sendAudio(silence(600));
    await c.waitFor(isTurnComplete, 'turnComplete', 2, 3000);
    const afterInterrupt = c.messages.slice(interruptedAt);
    assert.equal(audioBytes(afterInterrupt), 'Yes?'.length * 60 * 48, 'only the new turn speaks after the interruption');
    assert.equal(s.turns[1].transcript, 'Yes?');
    await c.close();
  });

  test('once generationComplete is out, speech gets no interrupted even though the client may still be playing', async () => {
    const { c, s } = await connect({ turns: [{ say: 'Hello, this is a long greeting of several seconds.' }, { say: 'Sure.' }] });
    c.send(GREET);
    await c.waitFor(isTurnComplete, 'turnComplete');
    c.sendAudio(concat(loud(300), silence(500)));
    await c.waitFor(isTurnComplete, 'turnComplete', 2);
    assert.equal(c.content('interrupted').length, 0);
    assert.equal(s.interruptions.length, 0);
    assert.deepEqual(s.turns.map((t) => t.status), ['complete', 'complete']);
    await c.close();
  });

  test('activityHandling NO_INTERRUPTION: speech does not interrupt; the reply follows turnComplete', async () => {
    const setup = { ...BASE_SETUP, realtimeInputConfig: { activityHandling: 'NO_INTERRUPTION' } };
    const { c, s } = await connect({ turns: [{ say: 'A short one.' }, { say: 'Ok.' }], pacing: 'realtime' }, setup);
    c.send(GREET);
    await c.waitForContent('modelTurn');
    c.sendAudio(concat(loud(100), silence(500)));
    await c.waitFor(isTurnComplete, 'turnComplete', 2, 4000);
    assert.equal(c.content('interrupted').length, 0);
    assert.deepEqual(s.turns.map((t) => [t.index, t.status]), [[0, 'complete'], [1, 'complete']]);
    await c.close();
  });
});

describe('clientContent', () => {
  test('a greeting request makes the model speak first; without turnComplete nothing happens', async () => {
    const { c, s } = await connect({ turns: [{ say: 'Hi, this is Ada calling for Sam.' }] });
    c.send({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'context only' }] }] } });
    c.send(GREET);
    await c.waitFor(isTurnComplete, 'turnComplete');
    assert.equal(c.content('outputTranscription').map((sc) => sc.outputTranscription.text).join(''), 'Hi, this is Ada calling for Sam.');
    assert.deepEqual(s.clientContents.map((r) => [r.text, r.turnComplete]), [
      ['context only', false],
      ['The call has been answered; greet the callee.', true],
    ]);
    assert.deepEqual(s.turns.map((t) => t.trigger), ['clientContent']);
    await c.close();
  });

  test('onText answers a matching text turn, as often as it comes, and the script stays where it was', async () => {
    const { c, s } = await connect({ turns: [{ say: 'Hi.' }, { say: 'Next scripted.' }], onText: [{ match: 'STILL waiting', say: 'Still checking.' }] });
    const text = (t: string) => ({ clientContent: { turns: [{ role: 'user', parts: [{ text: t }] }], turnComplete: true } });
    const said = () => c.content('outputTranscription').map((sc) => sc.outputTranscription.text).join('');
    let n = 0;
    for (const t of ['Greet them.', 'You are still waiting; say so.', 'You are still waiting; say so.', 'Go on.']) {
      c.send(text(t));
      await c.waitFor(isTurnComplete, 'turnComplete', ++n);
    }
    assert.equal(said(), 'Hi.Still checking.Still checking.Next scripted.');
    assert.deepEqual(s.turns.map((t) => t.index), [0, 1, 1, 1]);
    await c.close();
  });

  test('realtimeInput.text also starts a turn', async () => {
    const { c, s } = await connect({ turns: [{ say: 'Hello.' }] });
    c.send({ realtimeInput: { text: 'Say hello.' } });
    await c.waitFor(isTurnComplete, 'turnComplete');
    assert.deepEqual(s.textInputs, ['Say hello.']);
    assert.equal(s.turns[0].trigger, 'text');
    await c.close();
  });
});

describe('tools', () => {
  const turns = [{ say: 'Let me check.', call: { name: 'check_calendar', args: { day: 'fri', party: 2 } } }, { say: 'You are booked.' }];

  test('audio, then toolCall; the toolResponse continues the same turn with one turnComplete at the end', async () => {
    const { c, s } = await connect({ turns });
    c.send(GREET);
    const call = (await c.waitFor((m) => 'toolCall' in m, 'toolCall')).toolCall.functionCalls[0];
    assert.deepEqual([call.name, call.args], ['check_calendar', { day: 'fri', party: 2 }]);
    assert.match(call.id, /^call-/);
    const callAt = c.indexOf((m) => 'toolCall' in m);
    assert.ok(c.messages.map((m) => m.serverContent?.modelTurn !== undefined).lastIndexOf(true) < callAt, 'the call follows the audio');
    assert.equal(c.content('generationComplete').length + c.content('turnComplete').length, 0, 'the turn stays open');
    assert.equal(s.turns[0].status, 'awaiting_tool');

    c.send({ toolResponse: { functionResponses: [{ id: call.id, name: call.name, response: { ok: true } }] } });
    await c.waitFor(isTurnComplete, 'turnComplete');
    assert.equal(c.content('turnComplete').length, 1);
    assert.equal(c.content('outputTranscription').map((sc) => sc.outputTranscription.text).join(''), 'Let me check.You are booked.');
    assert.deepEqual(s.turns.map((t) => [t.index, t.trigger, t.status]), [[0, 'clientContent', 'complete'], [1, 'toolResponse', 'complete']]);
    assert.deepEqual(s.toolResponses.map(({ at: _at, ...r }) => r), [{ id: call.id, name: 'check_calendar', response: { ok: true }, accepted: true }]);
    assert.equal(s.toolCalls[0].status, 'answered');
    await c.close();
  });

  test('speech while a call is pending -> interrupted + toolCallCancellation', async () => {
    const { c, s } = await connect({ turns });
    c.send(GREET);
    const call = (await c.waitFor((m) => 'toolCall' in m, 'toolCall')).toolCall.functionCalls[0];
    c.sendAudio(loud(200));
    const cancel = await c.waitFor((m) => 'toolCallCancellation' in m, 'toolCallCancellation');
    assert.deepEqual(cancel.toolCallCancellation.ids, [call.id]);
    assert.equal(c.content('interrupted').length, 1);
    assert.equal(s.toolCalls[0].status, 'cancelled');
    assert.deepEqual(s.interruptions[0].cancelledCallIds, [call.id]);
    await c.close();
  });

  test('a toolResponse for an unknown id closes with 1008; one without an id with 1007', async () => {
    const { c, s } = await connect();
    c.send({ toolResponse: { functionResponses: [{ id: 'call-bogus', name: 'x', response: {} }] } });
    assert.deepEqual(await c.closed, { code: 1008, reason: 'Requested entity was not found.' });
    assert.equal(s.toolResponses[0].accepted, false);
    const { c: c2 } = await connect();
    c2.send({ toolResponse: { functionResponses: [{ name: 'x', response: {} }] } });
    assert.equal((await c2.closed).code, 1007);
  });
});

describe('session resumption', () => {
  const resumable = { ...BASE_SETUP, sessionResumption: {} };

  test('handles follow each turnComplete; a new connection with one continues the same conversation', async () => {
    const { c, s } = await connect({ turns: [{ say: 'One.' }, { say: 'Two.' }] }, resumable);
    c.send(GREET);
    const upd = await c.waitFor((m) => 'sessionResumptionUpdate' in m, 'sessionResumptionUpdate');
    assert.ok(c.indexOf(isTurnComplete) < c.indexOf((m) => 'sessionResumptionUpdate' in m));
    assert.equal(upd.sessionResumptionUpdate.resumable, true);
    const handle = upd.sessionResumptionUpdate.newHandle as string;
    assert.match(handle, /^h-\d+$/);
    const usageBefore = c.messages.find(isTurnComplete)!.usageMetadata;
    await c.close();

    const sessionsBefore = sim.sessions.length;
    const c2 = await TestClient.connect(sim.wsUrl, { ...BASE_SETUP, sessionResumption: { handle } });
    assert.equal(sim.sessions.length, sessionsBefore, 'no new conversation');
    c2.send(GREET);
    const done = await c2.waitFor(isTurnComplete, 'turnComplete');
    assert.equal(c2.content('outputTranscription').map((sc) => sc.outputTranscription.text).join(''), 'Two.');
    assert.ok(done.usageMetadata.promptTokenCount > usageBefore.promptTokenCount, 'the resumed context still holds the first turn');
    assert.deepEqual(s.resumptions, [{ handle, connection: 1 }]);
    assert.deepEqual(s.turns.map((t) => [t.index, t.connection]), [[0, 0], [1, 1]]);
    await c2.close();
  });

  test('goAway handover: the replacement resumes while the old socket is still open, which then goes quiet', async () => {
    const { c, s } = await connect({ turns: [{ say: 'One.' }, { say: 'Two.' }], goAwayAfterMs: 40 }, resumable);
    c.send(GREET);
    const handle = (await c.waitFor((m) => 'sessionResumptionUpdate' in m, 'handle')).sessionResumptionUpdate.newHandle;
    await c.waitFor((m) => 'goAway' in m, 'goAway');
    const c2 = await TestClient.connect(sim.wsUrl, { ...resumable, sessionResumption: { handle } });
    c.send(GREET); // late traffic on the old socket is ignored
    c2.send(GREET);
    await c2.waitFor(isTurnComplete, 'turnComplete');
    await c.close();
    assert.equal(c.content('turnComplete').length, 1, 'nothing more on the old socket');
    assert.deepEqual(s.turns.map((t) => [t.index, t.connection]), [[0, 0], [1, 1]]);
    assert.ok(s.warnings.some((w) => /superseded/.test(w)));
    assert.equal(s.connections.length, 2);
    await c2.close();
  });

  test('an unknown handle closes with 1007', async () => {
    const c = await TestClient.open(sim.wsUrl);
    c.send({ setup: { ...BASE_SETUP, sessionResumption: { handle: 'h-nope' } } });
    const closed = await c.closed;
    assert.equal(closed.code, 1007);
    assert.match(closed.reason, /h-nope/);
  });

  test('after a drop mid-turn, resuming with the last handle replays the lost turn', async () => {
    const { c, s } = await connect({ turns: [{ say: 'First.' }, { say: 'The second answer, cut short.' }], dropAfterTurns: 2 }, resumable);
    c.send(GREET);
    const handle = (await c.waitFor((m) => 'sessionResumptionUpdate' in m, 'handle')).sessionResumptionUpdate.newHandle;
    c.send(GREET);
    assert.equal((await c.closed).code, 1006);
    const c2 = await TestClient.connect(sim.wsUrl, { ...resumable, sessionResumption: { handle } });
    c2.send(GREET);
    await c2.waitFor(isTurnComplete, 'turnComplete');
    assert.deepEqual(s.turns.map((t) => [t.index, t.connection, t.status]), [[0, 0, 'complete'], [1, 0, 'speaking'], [1, 1, 'complete']]);
    await c2.close();
  });
});

describe('faults', () => {
  test('goAway: sent after goAwayAfterMs with timeLeft; the connection is cut at the deadline unless the client leaves first', async () => {
    const { c } = await connect({ turns: [], goAwayAfterMs: 30 });
    const goAway = await c.waitFor((m) => 'goAway' in m, 'goAway');
    assert.equal(goAway.goAway.timeLeft, '1s');
    await c.close();

    const quick = await startGeminiLiveSim({ apiKey: KEY, goAwayGraceMs: 50, scenario: () => ({ turns: [], goAwayAfterMs: 20 }) });
    try {
      const c2 = await TestClient.connect(quick.wsUrl);
      assert.deepEqual(await c2.closed, { code: 1011, reason: REASON_DEADLINE });
      assert.equal(c2.messages.find((m) => 'goAway' in m)?.goAway.timeLeft, '0.050s');
    } finally {
      await quick.close();
    }
  });

  test('dropAfterTurns terminates the socket mid-audio without a close frame', async () => {
    const say = 'One two three four five six seven eight.';
    const { c, s } = await connect({ turns: [{ say }], dropAfterTurns: 1 });
    c.send(GREET);
    assert.equal((await c.closed).code, 1006);
    const sent = audioBytes(c.messages);
    assert.ok(sent > 0 && sent < say.length * 60 * 48, `sent ${sent} bytes`);
    assert.equal(c.content('turnComplete').length, 0);
    assert.equal((await s.closed).code, 1006);
    assert.equal(s.turns[0].status, 'speaking');
  });

  test('dropAfterTurns: 0 drops right after setupComplete, which still arrives', async () => {
    const { c, s } = await connect({ turns: [], dropAfterTurns: 0 });
    assert.equal((await c.closed).code, 1006);
    assert.deepEqual(c.messages, [{ setupComplete: {} }]);
    assert.equal(s.connections[0].serverClose, null);
  });

  test('fatalAfterTurns closes with 1011 mid-audio', async () => {
    const { c, s } = await connect({ turns: [{ say: 'This one fails halfway through.' }], fatalAfterTurns: 1 });
    c.send(GREET);
    assert.deepEqual(await c.closed, { code: 1011, reason: REASON_INTERNAL });
    assert.deepEqual(s.connections[0].serverClose, { code: 1011, reason: REASON_INTERNAL });
  });

  test('malformed JSON closes with 1007; so does an unknown top-level message, recorded for the test', async () => {
    const { c, s } = await connect();
    c.sendRaw('{not json');
    assert.equal((await c.closed).code, 1007);
    assert.equal(s.received[s.received.length - 1].kind, '<invalid_json>');

    const { c: c2, s: s2 } = await connect();
    c2.send({ sessionUpdate: {} });
    const closed = await c2.closed;
    assert.equal(closed.code, 1007);
    assert.equal(closed.reason, 'Invalid JSON payload received. Unknown name "sessionUpdate": Cannot find field.');
    assert.equal(s2.connections[0].serverClose?.code, 1007);
  });
});

describe('transcription models', () => {
  test('a *-transcribe-live session sends each utterance as inputTranscription ending in `finished`, and never answers', async () => {
    const setup = { model: 'models/gemini-3.5-transcribe-live', generationConfig: { responseModalities: ['TEXT'] }, inputAudioTranscription: {} };
    const { c, s } = await connect({ turns: [{ say: 'Never said.' }], userTranscripts: ['who is calling and why', 'thanks'] }, setup);
    c.sendAudio(concat(loud(600), silence(600), loud(300), silence(600)));
    await c.waitFor((m) => m.serverContent?.inputTranscription?.finished === true, 'a finished transcription', 2);
    c.send(GREET);
    await s.waitUntil(() => s.warnings.some((w) => /transcription model/.test(w)));
    const fragments = c.content('inputTranscription').map((sc) => sc.inputTranscription);
    assert.deepEqual(fragments.map((f) => f.text).join(''), 'who is calling and whythanks');
    assert.deepEqual(fragments.filter((f) => f.finished).map((f) => f.text), ['calling and why', 'thanks']);
    assert.equal(s.turns.length, 0, 'no model turn, for speech or for text');
    assert.equal(c.content('modelTurn').length, 0);
    await c.close();
  });
});

describe('options', () => {
  test('text frames, finished transcription, thinking tokens on every usage report', async () => {
    const alt = await startGeminiLiveSim({
      apiKey: KEY,
      frames: 'text',
      inputTranscriptionFinished: true,
      scenario: () => ({ turns: [{ say: 'Ten chars.' }, { say: 'Ten chars.' }], userTranscripts: ['one two three four'], thoughtsTokensPerTurn: 7 }),
    });
    try {
      const c = await TestClient.connect(alt.wsUrl);
      c.send(GREET);
      const u1 = (await c.waitFor(isTurnComplete, 'turnComplete')).usageMetadata;
      c.sendAudio(concat(loud(200), silence(500)));
      const u2 = (await c.waitFor(isTurnComplete, 'turnComplete', 2)).usageMetadata;
      assert.ok(c.binaryFrames.every((b) => !b));
      assert.equal(u1.responseTokenCount, 15);
      assert.equal(u2.responseTokenCount, 15, 'response side is this turn only');
      assert.ok(u2.promptTokenCount > u1.promptTokenCount + 15, 'prompt side is the whole context, earlier reply included');
      assert.deepEqual([u1.thoughtsTokenCount, u2.thoughtsTokenCount], [7, 7]);
      assert.equal(u2.totalTokenCount, u2.promptTokenCount + 15 + 7);
      const fragments = c.content('inputTranscription').map((sc) => sc.inputTranscription);
      assert.deepEqual(fragments.map((f) => f.text), ['one ', 'two ', 'three four']);
      assert.deepEqual(fragments.map((f) => f.finished), [undefined, undefined, true]);
      await c.close();
    } finally {
      await alt.close();
    }
  });
});
