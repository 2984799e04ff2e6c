import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { FULL_CONVERSATION, GREETING, withStack, readSse } from './helpers.js';
import { SIM_API_TOKEN } from '../sim/stack.js';
import { DEFAULT_PRICES } from '../../src/records/pricing.js';

test('a full call: greeting, two exchanges, goodbye and end_call, with every record kept', async () => {
  await withStack({ script: () => FULL_CONVERSATION.script, scenario: () => FULL_CONVERSATION.scenario }, async (stack) => {
    const id = await stack.placeCall();
    // Follow it live while it happens, as the UI will.
    const live = readSse(`${stack.baseUrl}/api/calls/${id}/events`, SIM_API_TOKEN);
    const call = await stack.waitForEnd(id, 30_000);

    assert.equal(call.status, 'ended');
    assert.equal(call.endReason, 'agent-hangup');
    assert.equal(call.answeredBy, 'human');
    assert.equal(call.clientName, 'Raju Kumar');
    assert.deepEqual(
      call.transcript.map((t: any) => [t.speaker, t.text]),
      [
        ['callee', 'Hello?'],
        ['agent', GREETING],
        ['callee', 'Sure, what would you like?'],
        ['agent', "I'd like one chicken biryani for pickup at seven."],
        ['callee', 'Got it. Anything else?'],
        ['agent', "That's all, thank you. Goodbye!"],
      ],
    );
    for (let i = 1; i < call.transcript.length; i++) assert.ok(call.transcript[i].offsetSec >= call.transcript[i - 1].offsetSec, 'entries in spoken order');
    assert.deepEqual(call.toolCalls.map((t: any) => [t.name, t.arguments]), [['end_call', { reason: 'order placed' }]]);

    // The engine was configured while the phone rang: G.711 both ways, server VAD, transcription, tools.
    const session = stack.openai.sessions[0];
    const audio = session.config.audio as any;
    assert.deepEqual(audio.input.format, { type: 'audio/pcmu' });
    assert.deepEqual(audio.output.format, { type: 'audio/pcmu' });
    assert.equal(audio.input.turn_detection.type, 'server_vad');
    assert.ok(audio.input.transcription.model);
    assert.ok((session.config.tools as any[]).some((t) => t.name === 'end_call'));
    const instructions = String(session.config.instructions);
    assert.match(instructions, /AI assistant/);
    assert.match(instructions, /I'll check with Raju Kumar and get back to you/);
    assert.match(instructions, /chicken biryani/);

    const events = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
    const types = [...events.matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
    assert.ok(types.indexOf('engine.ready') < types.lastIndexOf('status') && types.includes('engine.ready'));
    const seqOf = (re: RegExp) => [...events.matchAll(/^id: (\d+)\nevent: (.+)\ndata: (.+)$/gm)].find((m) => re.test(m[2] + m[3]))?.[1];
    assert.ok(Number(seqOf(/^engine\.ready/)) < Number(seqOf(/^greeting\.start/)), 'engine ready before the greeting');

    // Mu-law passes through untouched: the carrier got exactly the bytes the engine produced.
    const twilioCall = stack.twilio.calls[0];
    const sentBytes = session.responses.reduce((a: number, r: any) => a + r.audioMsSent * 8, 0);
    assert.equal(twilioCall.agentAudioBytesReceived, sentBytes);
    assert.equal(twilioCall.hangupBy, 'api');
    // The goodbye played to the end before the hang-up.
    const s0 = twilioCall.streams[0];
    assert.equal(s0.clears.length, 0);
    assert.equal(s0.agentPlayedMs * 8, sentBytes);

    // Records: .txt, .mp3, cost.
    const txt = await stack.api('GET', `/api/calls/${id}/transcript.txt`);
    assert.equal(txt.status, 200);
    assert.match(txt.body, /Agent: Hi, I'm an AI assistant/);
    assert.match(txt.body, /Callee: Got it\. Anything else\?/);
    assert.match(txt.body, /Ended: agent-hangup/);
    assert.equal(readFileSync(`${stack.dataDir}/transcripts/${id}.txt`, 'utf8').includes('Callee: Hello?'), true);

    assert.ok(call.recording?.url);
    const mp3 = await fetch(stack.baseUrl + call.recording.url, { headers: { Authorization: `Bearer ${SIM_API_TOKEN}` } });
    assert.equal(mp3.status, 200);
    assert.equal(mp3.headers.get('content-type'), 'audio/mpeg');
    const bytes = new Uint8Array(await mp3.arrayBuffer());
    assert.ok(bytes.length > 1000);
    assert.ok((bytes[0] === 0x49 && bytes[1] === 0x44) || (bytes[0] === 0xff && (bytes[1] & 0xe0) === 0xe0), 'ID3 tag or MPEG frame sync');
    assert.equal(statSync(`${stack.dataDir}/recordings/${id}.mp3`).size, bytes.length);

    const cost = call.cost;
    assert.equal(cost.currency, 'USD');
    assert.equal(cost.priceTable, DEFAULT_PRICES.version);
    const item = (re: RegExp) => cost.lines.filter((l: any) => re.test(l.item));
    assert.equal(item(/^twilio call$/)[0].source, 'carrier', 'Twilio reported price replaces the estimate');
    assert.equal(item(/^twilio call$/)[0].amount, 0.014);
    // The default models (gpt-realtime-2.1, and gpt-transcribe, billed by the second of audio).
    for (const meter of [/gpt-realtime-2\.1 audio input$/, /gpt-realtime-2\.1 audio output$/, /gpt-realtime-2\.1 text input$/, /gpt-realtime-2\.1 text output$/, /gpt-realtime-2\.1 text cached input$/, /gpt-transcribe audio seconds$/]) {
      assert.equal(item(meter).length, 1, `cost line ${meter}`);
      assert.ok(item(meter)[0].quantity > 0);
    }
    // Twilio's extras, which its reported call price leaves out: answering-machine detection per call, and
    // the recording per started minute (the same minutes as the call).
    assert.deepEqual(item(/^twilio answering machine detection$/).map((l: any) => [l.quantity, l.unit, l.amount]), [[1, 'call', 0.0075]]);
    const rec = item(/^twilio recording$/);
    assert.equal(rec.length, 1);
    assert.equal(rec[0].quantity, item(/^twilio call$/)[0].quantity);
    assert.equal(rec[0].amount, Math.round(rec[0].quantity * 0.0025 * 1e6) / 1e6);
    // Cached tokens are part of the input count: billed once, at the cached rate.
    const usage = session.responses.length;
    assert.ok(usage >= 3);
    const sum = cost.lines.reduce((a: number, l: any) => a + l.amount, 0);
    assert.ok(Math.abs(sum - cost.total) < 1e-6);
    assert.deepEqual(cost.unpriced, []);

    const sse = await live;
    assert.equal(sse[sse.length - 1].event, 'end');
    const liveTypes = sse.map((e) => e.event);
    assert.ok(liveTypes.includes('transcript'));
    assert.deepEqual(sse.filter((e) => e.event === 'status').map((e) => e.data.data.status), ['queued', 'dialing', 'ringing', 'answered', 'screening', 'talking', 'ended']);
    const ids = sse.filter((e) => e.id).map((e) => e.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'event ids ascend');
    assert.equal(new Set(ids).size, ids.length, 'no event twice');
  });
});
