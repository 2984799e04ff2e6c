import { test } from 'node:test';
import assert from 'node:assert/strict';
import twilio from 'twilio';
import { isValidSignature, parseAmdWebhook, parseRecordingWebhook, parseStatusWebhook, WebhookError } from '../../src/telephony/twilio/webhooks.js';
import { streamTwiml } from '../../src/telephony/twilio/twiml.js';
import { mediaStreamUrl, webhookUrls } from '../../src/telephony/twilio/urls.js';
import { StreamTokens, tokenMatches } from '../../src/server/auth.js';
import { redactUrl } from '../../src/server/logging.js';

const SID = 'CA' + '1'.repeat(32);

test('signatures: valid passes, anything else fails', () => {
  const url = 'https://example.test/twilio/status?callId=x';
  const params = { CallSid: SID, CallStatus: 'ringing' };
  const sig = twilio.getExpectedTwilioSignature('tok', url, params);
  assert.equal(isValidSignature('tok', sig, url, params), true);
  assert.equal(isValidSignature('other', sig, url, params), false);
  assert.equal(isValidSignature('tok', sig, url.replace('x', 'y'), params), false);
  assert.equal(isValidSignature('tok', sig, url, { ...params, CallStatus: 'completed' }), false);
  assert.equal(isValidSignature('tok', undefined, url, params), false);
  assert.equal(isValidSignature('tok', 'garbage', url, params), false);
});

test('status, AMD and recording callbacks map to carrier events', () => {
  assert.deepEqual(parseStatusWebhook({ CallSid: SID, CallStatus: 'in-progress' }), { carrierCallId: SID, event: { type: 'status', status: 'answered', durationSec: undefined }, dedupeKey: `status:${SID}:answered` });
  assert.equal((parseStatusWebhook({ CallSid: SID, CallStatus: 'completed', CallDuration: '42' }).event as any).durationSec, 42);
  assert.deepEqual(parseAmdWebhook({ CallSid: SID, AnsweredBy: 'machine_end_beep' }).event, { type: 'amd', answeredBy: 'machine_end_beep', machine: true });
  assert.deepEqual(parseAmdWebhook({ CallSid: SID, AnsweredBy: 'unknown' }).event, { type: 'amd', answeredBy: 'unknown', machine: false });
  const rec = parseRecordingWebhook({ CallSid: SID, RecordingSid: 'RE' + 'a'.repeat(32), RecordingStatus: 'completed', RecordingUrl: 'https://evil.test/x' });
  // Only the origin survives, for the audit record of a foreign host; the URL itself is never kept.
  assert.deepEqual(rec.event, { type: 'recording', recordingId: 'RE' + 'a'.repeat(32), status: 'completed', durationSec: undefined, advertisedOrigin: 'https://evil.test' });
  assert.ok(!JSON.stringify(rec).includes('evil.test/x'), 'the callback URL is never kept');
});

test('malformed callbacks are rejected naming the field', () => {
  assert.throws(() => parseStatusWebhook({ CallSid: 'CA1', CallStatus: 'ringing' }), (e: Error) => e instanceof WebhookError && /CallSid/.test(e.message));
  assert.throws(() => parseStatusWebhook({ CallSid: SID, CallStatus: 'exploded' }), /CallStatus/);
  assert.throws(() => parseRecordingWebhook({ CallSid: SID, RecordingSid: '../../etc', RecordingStatus: 'completed' }), /RecordingSid/);
  assert.throws(() => parseAmdWebhook({}), WebhookError);
});

test('stream TwiML carries the id and secret as parameters, on a wss URL without a query', () => {
  const url = mediaStreamUrl('https://cw.example.test/');
  assert.equal(url, 'wss://cw.example.test/twilio/media');
  const xml = streamTwiml(url, { callId: 'abc', secret: 's3' });
  assert.match(xml, /<Connect><Stream url="wss:\/\/cw\.example\.test\/twilio\/media"><Parameter name="callId" value="abc"\/><Parameter name="secret" value="s3"\/><\/Stream><\/Connect>/);
  assert.equal(webhookUrls('https://cw.example.test', 'a b').status, 'https://cw.example.test/twilio/status?callId=a%20b');
});

test('stream TwiML is what the SDK builder writes, byte for byte, escapes included', () => {
  const sdk = (url: string, params: Record<string, string>) => {
    const r = new twilio.twiml.VoiceResponse();
    const stream = r.connect().stream({ url });
    for (const [name, value] of Object.entries(params)) stream.parameter({ name, value });
    return r.toString();
  };
  for (const [url, params] of [
    ['wss://cw.example.test/twilio/media', { callId: 'abc', secret: 's3' }],
    ['wss://h.test/a?x=1&y=<2>', { 'n"&<>': `v "quoted" & <tag> 'apos' \t\n\r é` }],
    ['wss://h.test/', {}],
  ] as const) assert.equal(streamTwiml(url, params), sdk(url, params));
});

test('tokens: constant-time match, scoped and expiring stream tokens, redacted URLs', () => {
  assert.equal(tokenMatches('abc', 'abc'), true);
  assert.equal(tokenMatches('abc', 'abcd'), false);
  const tokens = new StreamTokens('api-token-api-token', 60_000);
  const id = '11111111-1111-4111-8111-111111111111';
  const { token } = tokens.issue(id, 1_000_000_000_000);
  assert.equal(tokens.verify(id, token, 1_000_000_000_000 + 1000), true);
  assert.equal(tokens.verify(id, token, 1_000_000_000_000 + 61_000), false, 'expired');
  assert.equal(tokens.verify('22222222-2222-4222-8222-222222222222', token, 1_000_000_000_000), false, 'other call');
  assert.equal(new StreamTokens('another-api-token!!').verify(id, token, 1_000_000_000_000), false, 'other API token');
  assert.equal(tokens.verify(id, token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'), 1_000_000_000_000), false, 'tampered');
  assert.equal(redactUrl(`/api/calls/${id}/events?token=${token}&x=1`), `/api/calls/${id}/events?token=[redacted]&x=1`);
});
