import { test } from 'node:test';
import assert from 'node:assert/strict';
import twilio from 'twilio';
import { FULL_CONVERSATION, GREETING, withStack, until } from './helpers.js';
import { SIM_ACCOUNT_SID, SIM_AUTH_TOKEN, type Stack } from '../sim/stack.js';

const sign = (url: string, params: Record<string, string>) => twilio.getExpectedTwilioSignature(SIM_AUTH_TOKEN, url, params);

async function post(url: string, params: Record<string, string>) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': sign(url, params) },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, body: await res.text() };
}

/** The call's timeline through the store's repository, on either database (the events API streams on while the call is live). */
const timelineOf = async (stack: Stack, id: string) => (await stack.app.timeline.list(id)).map((e) => ({ type: e.type, data: e.data as any }));

test('the callee answers before the dial response returns: the CallSid is bound from the first signed callback and the call is bridged', async () => {
  await withStack({ createResponseDelayMs: 4000, script: () => FULL_CONVERSATION.script, scenario: () => FULL_CONVERSATION.scenario }, async (stack) => {
    const id = await stack.placeCall();
    const call = await stack.waitForEnd(id, 30_000);
    const tw = stack.twilio.calls[0];

    // The race really happened: TwiML fetched, stream started and greeting played before the 201 left.
    const at = (type: string) => tw.log.find((e) => e.type === type)?.atMs ?? Infinity;
    assert.ok(at('stream-started') < at('rest-create-response'), 'the stream started before the dial response');
    assert.ok(tw.log.some((e) => e.type === 'twiml' && (e.verbs as string[]).includes('Connect')), 'stream TwiML, not a hang-up');
    assert.ok(!tw.log.some((e) => e.type === 'twiml-hangup'));

    assert.equal(call.status, 'ended');
    assert.equal(call.endReason, 'agent-hangup');
    assert.equal(call.answeredBy, 'human', 'the AMD callback was applied');
    assert.deepEqual(call.transcript.map((t: any) => t.speaker), ['callee', 'agent', 'callee', 'agent', 'callee', 'agent']);
    assert.equal(call.transcript[1].text, GREETING);
    assert.equal(tw.hangupBy, 'api');

    const events = await timelineOf(stack, id);
    const dialed = events.filter((e) => e.type === 'carrier.dialed');
    assert.equal(dialed.length, 1, 'bound once, whichever came first');
    assert.equal(dialed[0].data.carrierCallId, tw.sid);
    assert.equal(dialed[0].data.learnedFrom, 'callback');
    assert.deepEqual(
      events.filter((e) => e.type === 'status').map((e) => e.data.status),
      ['queued', 'dialing', 'ringing', 'answered', 'screening', 'talking', 'ended'],
    );
    assert.ok(!events.some((e) => e.type === 'error'), 'no errors');
  });
});

test('a signed callback naming another CallSid than the bound one is refused, recorded, and changes nothing', async () => {
  await withStack({ script: () => ({ steps: [{ say: 'Hello?' }, { pauseMs: 60_000 }] }) }, async (stack) => {
    const id = await stack.placeCall();
    const tw = await stack.twilio.waitForCall();
    await until('talking', async () => (await stack.api('GET', `/api/calls/${id}`)).body.status === 'talking');
    const other = 'CA' + 'f'.repeat(32);
    const status = { CallSid: other, AccountSid: SIM_ACCOUNT_SID, CallStatus: 'completed', CallDuration: '3' };
    assert.equal((await post(`${stack.baseUrl}/twilio/status?callId=${id}`, status)).status, 204);
    const voice = await post(`${stack.baseUrl}/twilio/voice?callId=${id}`, { CallSid: other, AccountSid: SIM_ACCOUNT_SID });
    assert.equal(voice.status, 200);
    assert.match(voice.body, /<Hangup\/>/, 'no stream parameters for another CallSid');
    const call = (await stack.api('GET', `/api/calls/${id}`)).body;
    assert.equal(call.status, 'talking', 'the call is untouched');
    const conflicts = (await timelineOf(stack, id)).filter((e) => e.type === 'error' && e.data.code === 'carrier_id_conflict');
    assert.equal(conflicts.length, 2);
    assert.match(conflicts[0].data.message, new RegExp(`named call ${other}, but this call is ${tw.sid}`));
    await stack.api('POST', `/api/calls/${id}/hangup`);
  });
});

test('a callback the carrier delivers several times at once is applied once, on whichever store keeps the receipts', async () => {
  await withStack({ script: () => ({ steps: [{ say: 'Hello?' }, { pauseMs: 60_000 }] }) }, async (stack) => {
    const id = await stack.placeCall();
    const tw = await stack.twilio.waitForCall();
    await until('talking', async () => (await stack.api('GET', `/api/calls/${id}`)).body.status === 'talking');
    const recordingStatuses = async () => (await timelineOf(stack, id)).filter((e) => e.type === 'recording.status').map((e) => e.data.status);
    const callback = (RecordingStatus: string) => ({ CallSid: tw.sid, AccountSid: SIM_ACCOUNT_SID, RecordingSid: 'RE' + 'a'.repeat(32), RecordingStatus });
    // A retry storm that overlaps in the server (the receipt's insert is awaited), and another status of the same recording.
    const answers = await Promise.all([...Array.from({ length: 4 }, () => post(`${stack.baseUrl}/twilio/recording?callId=${id}`, callback('in-progress'))), post(`${stack.baseUrl}/twilio/recording?callId=${id}`, callback('absent'))]);
    assert.deepEqual(answers.map((a) => a.status), [204, 204, 204, 204, 204], 'answered once applied (or dropped as a duplicate)');
    await until('recorded', async () => (await recordingStatuses()).length >= 2);
    assert.deepEqual((await recordingStatuses()).sort(), ['absent', 'in-progress'], 'each callback applied once');
    assert.equal((await post(`${stack.baseUrl}/twilio/recording?callId=${id}`, callback('in-progress'))).status, 204);
    assert.deepEqual((await recordingStatuses()).sort(), ['absent', 'in-progress'], 'a later retry is still a duplicate');
    await stack.api('POST', `/api/calls/${id}/hangup`);
  });
});
