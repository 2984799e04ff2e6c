import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import fastQuerystring from 'fast-querystring';
import twilio from 'twilio';
import Fastify from 'fastify';
import { isValidSignature, parseAmdWebhook, parseRecordingWebhook, parseStatusWebhook, WebhookError, type ParsedWebhook } from '../../src/telephony/twilio/webhooks.js';
import { twilioRoutes } from '../../src/telephony/twilio/routes.js';
import { parseFormBody } from '../../src/server/url-encoding.js';
import { anyText, check, noEscapes, parsedOrRefused, VALID_RUNS, RUNS } from './fuzz-kit.js';

const hex32 = fc.stringMatching(/^[0-9a-f]{32}$/);
const callSid = hex32.map((h) => 'CA' + h);
const accountSid = hex32.map((h) => 'AC' + h);

type Form = Record<string, string>;
const statusForm: fc.Arbitrary<Form> = fc.record({
  AccountSid: accountSid,
  CallSid: callSid,
  CallStatus: fc.constantFrom('queued', 'initiated', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled'),
  CallDuration: fc.nat({ max: 100_000 }).map(String),
  SequenceNumber: fc.nat().map(String),
  Direction: fc.constant('outbound-api'),
  ApiVersion: fc.constant('2010-04-01'),
});
const amdForm: fc.Arbitrary<Form> = fc.record({
  AccountSid: accountSid,
  CallSid: callSid,
  AnsweredBy: fc.constantFrom('human', 'machine_start', 'machine_end_beep', 'machine_end_silence', 'machine_end_other', 'fax', 'unknown'),
  MachineDetectionDuration: fc.nat({ max: 30_000 }).map(String),
});
const recordingForm: fc.Arbitrary<Form> = fc.record({
  AccountSid: accountSid,
  CallSid: callSid,
  RecordingSid: hex32.map((h) => 'RE' + h),
  RecordingUrl: hex32.map((h) => `https://api.twilio.com/2010-04-01/Accounts/AC${h}/Recordings/RE${h}`),
  RecordingStatus: fc.constantFrom('in-progress', 'completed', 'absent', 'failed'),
  RecordingDuration: fc.nat({ max: 100_000 }).map(String),
  RecordingChannels: fc.constantFrom('1', '2'),
});

const HUGE = ['x'.repeat(70_000), '9'.repeat(400), '1e400', '-1', '0.5', 'NaN'];
const UNICODE = ['\u0000', '\uD800', '😀', 'é', '\n', '&', '=', '%', '+'];
type FormMutation = { kind: 'remove' | 'retype' | 'repeat' | 'huge' | 'unicode'; at: number; text: string; which: number };
const formMutation: fc.Arbitrary<FormMutation> = fc.record({ kind: fc.constantFrom('remove', 'retype', 'repeat', 'huge', 'unicode'), at: fc.nat(), text: anyText, which: fc.nat() });

/** Encodes a (mutated) form as Twilio would, then optionally truncates it or plants a bad %-escape. */
function mutatedBody(form: Form, muts: FormMutation[], cut: number | null, badEscape: boolean): string {
  const entries: Array<[string, string]> = Object.entries(form);
  for (const m of muts) {
    if (!entries.length) break;
    const i = m.at % entries.length;
    const [k, v] = entries[i];
    if (m.kind === 'remove') entries.splice(i, 1);
    else if (m.kind === 'retype') entries[i] = [k, m.text];
    else if (m.kind === 'repeat') entries.push([k, m.text]);
    else if (m.kind === 'huge') entries[i] = [k, HUGE[m.which % HUGE.length]];
    else entries[i] = [k, v.slice(0, m.which % (v.length + 1)) + UNICODE[m.which % UNICODE.length] + v.slice(m.which % (v.length + 1))];
  }
  let body = new URLSearchParams(entries).toString();
  if (badEscape) body += '&CallSid=%zz%E0%A4%A';
  return cut === null ? body : body.slice(0, cut % (body.length + 1));
}

const hostileBody = (valid: fc.Arbitrary<Form>) =>
  fc.oneof(
    { arbitrary: anyText, weight: 1 },
    { arbitrary: fc.dictionary(fc.string({ maxLength: 16 }), fc.string({ maxLength: 40 })).map((d) => new URLSearchParams(d).toString()), weight: 1 },
    {
      arbitrary: fc.tuple(valid, fc.array(formMutation, { minLength: 1, maxLength: 3 }), fc.option(fc.nat()), fc.boolean()).map(([f, m, cut, bad]) => mutatedBody(f, m, cut, bad)),
      weight: 4,
    },
  );

const FIELDS = /CallSid|CallStatus|CallDuration|AnsweredBy|RecordingSid|RecordingStatus|RecordingDuration|RecordingUrl|SequenceNumber/;

/** Parses a form body as @fastify/formbody does (fast-querystring) and checks the outcome. */
function parseOrClearError(parse: (b: unknown) => ParsedWebhook, body: string): void {
  parsedOrRefused(
    () => parse(fastQuerystring.parse(body)),
    WebhookError,
    (err) => assert.match(err.message, FIELDS, 'the error names the field at fault'),
    (parsed) => {
      assert.match(parsed.carrierCallId, /^CA[0-9a-fA-F]{32}$/);
      assert.match(parsed.dedupeKey, /^(status|amd|recording):(CA|RE)[0-9a-fA-F]{32}/, 'deduplicated by a carrier id');
      const e = parsed.event as { durationSec?: number };
      if (e.durationSec !== undefined) assert.ok(Number.isSafeInteger(e.durationSec) && e.durationSec >= 0, 'a duration is a whole number of seconds');
    },
  );
}

const kinds = [
  ['status', parseStatusWebhook, statusForm],
  ['AMD', parseAmdWebhook, amdForm],
  ['recording', parseRecordingWebhook, recordingForm],
] as const;

for (const [name, parse, form] of kinds) {
  test(`${name} callback: 100k hostile form bodies parse or fail with a WebhookError naming the field`, async () => {
    await noEscapes(() => check(`webhook ${name} hostile`, hostileBody(form), (body) => parseOrClearError(parse, body)));
  });
  test(`${name} callback: every valid form body parses to what it carries`, async () => {
    await noEscapes(() =>
      check(
        `webhook ${name} valid`,
        form,
        (f) => {
          const p = parse(fastQuerystring.parse(new URLSearchParams(f).toString()));
          assert.equal(p.carrierCallId, f.CallSid);
          const e = p.event as Record<string, unknown>;
          if (e.type === 'amd') assert.equal(e.answeredBy, f.AnsweredBy);
          if (e.type === 'recording') assert.deepEqual([e.recordingId, e.status, e.durationSec], [f.RecordingSid, f.RecordingStatus, Number(f.RecordingDuration)]);
          if (e.type === 'status') assert.equal(e.durationSec, Number(f.CallDuration));
        },
        VALID_RUNS,
      ),
    );
  });
}

const TOKEN = 'fuzz-auth-token-0123456789';
const URL_BASE = 'https://callwright.example/twilio/status?callId=';

test('signature check: 100k forged, mutated or garbage signatures are refused without throwing; genuine ones pass', async () => {
  const arb = fc.record({
    form: fc.oneof(statusForm, fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 30 }), { maxKeys: 5 })),
    callId: fc.uuid(),
    tamper: fc.constantFrom('none', 'signature', 'param', 'url', 'garbage', 'missing', 'token'),
    garbage: anyText,
  });
  await noEscapes(() =>
    check('webhook signature', arb, ({ form, callId, tamper, garbage }) => {
      const url = URL_BASE + callId;
      const sig = twilio.getExpectedTwilioSignature(TOKEN, url, form);
      let ok: boolean;
      switch (tamper) {
        case 'none':
          assert.equal(isValidSignature(TOKEN, sig, url, form), true);
          return;
        case 'signature':
          ok = isValidSignature(TOKEN, (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1), url, form);
          break;
        case 'param':
          ok = isValidSignature(TOKEN, sig, url, { ...form, CallStatus: (form.CallStatus ?? '') + 'x' });
          break;
        case 'url':
          ok = isValidSignature(TOKEN, sig, url + '0', form);
          break;
        case 'garbage':
          ok = isValidSignature(TOKEN, garbage, garbage, { [garbage]: garbage });
          break;
        case 'missing':
          ok = isValidSignature(TOKEN, undefined, url, form);
          break;
        default:
          ok = isValidSignature(TOKEN + 'x', sig, url, form);
      }
      assert.equal(ok, false, `tampered (${tamper}) must fail`);
    }),
  );
});

test('webhook routes: signed hostile bodies get 400 or 204, never a 5xx, and unsigned ones 403', async () => {
  const app = Fastify({ logger: false });
  const events: string[] = [];
  await app.register(twilioRoutes, {
    authToken: TOKEN,
    publicUrl: 'https://callwright.example',
    handlers: { streamParamsFor: () => undefined, onCarrierEvent: (_id, _sid, ev) => void events.push(ev.type), authorizeStream: () => undefined },
  });
  await app.ready();
  const route = fc.constantFrom(['status', statusForm], ['amd', amdForm], ['recording', recordingForm]).chain(([path, form]) =>
    fc.tuple(fc.constant(path as string), hostileBody(form as fc.Arbitrary<Form>), fc.boolean()),
  );
  try {
    await noEscapes(() =>
      fc.assert(
        fc.asyncProperty(route, async ([path, body, signed]) => {
          const url = `/twilio/${path}?callId=c1`;
          const form = fastQuerystring.parse(body) as Record<string, string>;
          const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
          if (signed) headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(TOKEN, 'https://callwright.example' + url, form);
          const res = await app.inject({ method: 'POST', url, headers, payload: body });
          // A malformed %-escape is refused before the signature can be checked (it needs the parsed form).
          const malformed = (() => {
            try {
              parseFormBody(body);
              return false;
            } catch {
              return true;
            }
          })();
          if (!signed) assert.ok([403, 413].includes(res.statusCode) || (malformed && res.statusCode === 400), String(res.statusCode));
          // 413 for bodies over the form limit; otherwise a clear 400 naming the field, or accepted.
          else assert.ok([204, 400, 413].includes(res.statusCode), `${res.statusCode} ${res.body.slice(0, 200)}`);
          if (res.statusCode === 400) {
            const { message: error, field } = JSON.parse(res.body).error;
            if (malformed) {
              assert.match(error, /^[\x20-\x7e]{1,64}: malformed %-escape in the form body/);
              assert.equal(typeof field, 'string');
            } else assert.match(error, FIELDS);
          }
        }),
        // Each run is a full HTTP request through Fastify; the parsers above carry the 100k runs.
        { numRuns: Math.max(1, Math.round(RUNS / 50)) },
      ),
    );
  } finally {
    await app.close();
  }
});
