/**
 * Inbound calls through the real server and the Twilio simulator: POST /api/setup/twilio points the
 * number's voice webhook at the server, then the simulator places a call to it as Twilio does (signed
 * voice webhook with Direction=inbound, TwiML run, media stream, the number's status callback).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until, withStack, timelineOf, ENGINES } from './helpers.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import twilio from 'twilio';
import { loggerOptions } from '../../src/server/logging.js';
import { SIM_ACCOUNT_SID, SIM_API_TOKEN, SIM_AUTH_TOKEN, SIM_FROM, type Engine, type Stack } from '../sim/stack.js';
import type { CalleeScript } from '../sim/twilio/index.js';

const CALLER = '+14155550177';
const GREETING = "Hello, you've reached Raju Kumar. I'm an AI assistant answering for him, and this call is recorded. How can I help?";
const MESSAGE = 'This is Priya. Please ask Raju to call me back about the order.';
const GOODBYE = "Thanks Priya, I'll pass that on to Raju. Goodbye!";

async function setUp(stack: Stack): Promise<void> {
  const r = await stack.api('POST', '/api/setup/twilio');
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

/** The id of the one inbound call the server has, once it exists. */
async function inboundCallId(stack: Stack): Promise<string> {
  return until('the inbound call record', async () => (await stack.api('GET', '/api/calls?direction=inbound')).body.calls?.[0]?.id as string | undefined);
}

/** The system prompt the engine was given (whichever simulator). */
function promptOf(stack: Stack, engine: Engine): string {
  if (engine === 'cascade') return String(stack.cascade.llm[0].body.messages[0].content);
  return engine === 'openai' ? String(stack.openai.sessions[0].config.instructions) : JSON.stringify(stack.gemini.sessions[0].setup.systemInstruction);
}

test('POST /api/setup/twilio points the number at PUBLIC_URL/twilio/voice and the status callback', async () => {
  await withStack({}, async (stack) => {
    const n = stack.twilio.numbers.find((x) => x.phoneNumber === SIM_FROM)!;
    assert.equal(n.voiceUrl, '', 'a new number has no voice URL');
    const r = await stack.api('POST', '/api/setup/twilio');
    assert.equal(r.status, 200);
    assert.equal(r.body.voiceUrl, `${stack.baseUrl}/twilio/voice`);
    assert.equal(r.body.statusCallback, `${stack.baseUrl}/twilio/status`);
    assert.equal(r.body.inbound, 'off');
    assert.equal(n.voiceUrl, `${stack.baseUrl}/twilio/voice`);
    assert.equal(n.voiceMethod, 'POST');
    assert.equal(n.statusCallback, `${stack.baseUrl}/twilio/status`);
    assert.equal(n.updates.length, 1);
    assert.equal((await stack.api('POST', '/api/setup/twilio', undefined, 'wrong-token')).status, 401);
  });
});

test('POST /api/setup/twilio: a number that is not on the account is a 404 naming it', async () => {
  await withStack({ env: { TWILIO_FROM_NUMBER: '+14155550999' } }, async (stack) => {
    const r = await stack.api('POST', '/api/setup/twilio');
    assert.equal(r.status, 404);
    assert.equal(r.body.error.field, 'TWILIO_FROM_NUMBER');
  });
});

test('a call to another number on the account is declined with a clear log line, even with INBOUND=assistant', async () => {
  const lines: string[] = [];
  const sink = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
  await withStack({ env: { INBOUND: 'assistant' }, logger: { ...loggerOptions('info'), stream: sink } }, async (stack) => {
    await setUp(stack);
    // A second number on the account whose voice webhook was pointed here too (a copied console setting).
    const other = '+14155550188';
    stack.twilio.numbers.push({ sid: 'PN0000000000000000000000000000beef', phoneNumber: other, voiceUrl: `${stack.baseUrl}/twilio/voice`, voiceMethod: 'POST', statusCallback: '', statusCallbackMethod: 'POST', updates: [] });
    const tw = stack.twilio.placeInboundCall({ from: CALLER, to: other, script: { steps: [{ say: 'Hello?' }] } });
    await tw.done;
    assert.match(String(tw.log.find((l) => l.type === 'say')?.text), /this number does not take calls/);
    assert.equal(tw.hangupBy, 'twiml');
    assert.equal(tw.streams.length, 0, 'no media stream');
    assert.equal(stack.openai.sessions.length + stack.gemini.sessions.length, 0, 'no AI session');
    assert.equal((await stack.api('GET', '/api/calls')).body.calls.length, 0, 'no call record');
    const declined = lines.map((l) => JSON.parse(l)).find((l) => l.event === 'inbound.declined');
    assert.equal(declined?.reason, 'wrong-number');
    assert.match(declined.msg, /other than TWILIO_FROM_NUMBER/);
    assert.ok(!lines.join('').includes(other), 'the number called is masked in the log');
  });
});

test('INBOUND=off (default): the caller hears a polite goodbye, no AI session starts and no call is recorded', async () => {
  await withStack({}, async (stack) => {
    await setUp(stack);
    const tw = stack.twilio.placeInboundCall({ from: CALLER, to: SIM_FROM, script: { steps: [{ say: 'Hello?' }] } });
    await tw.done;
    const said = tw.log.find((l) => l.type === 'say');
    assert.match(String(said?.text), /no one can take your call/);
    assert.equal(tw.hangupBy, 'twiml');
    assert.equal(tw.streams.length, 0, 'no media stream');
    assert.equal(stack.openai.sessions.length + stack.gemini.sessions.length, 0, 'no AI session');
    assert.equal((await stack.api('GET', '/api/calls')).body.calls.length, 0);
    // The voice webhook carried Twilio's inbound parameters and was signed like any other.
    const hook = tw.log.find((l) => l.type === 'webhook' && String(l.url).endsWith('/twilio/voice'));
    assert.equal(hook?.status, 200);
  });
});

for (const engine of ENGINES) {
  test(`[${engine}] INBOUND=assistant: the agent greets first with the disclosure, takes a message; caller ID, direction, recording and cost are on the record`, async () => {
    const script: CalleeScript = { steps: [{ waitForAgent: true, quietMs: 300 }, { say: MESSAGE }, { waitForAgent: true, quietMs: 300, timeoutMs: 5000 }] };
    await withStack(
      {
        engine,
        env: { INBOUND: 'assistant', INBOUND_CLIENT_ID: 'raju' },
        conversation: () => ({ turns: [{ say: GREETING }, { say: GOODBYE, call: { name: 'end_call', args: { reason: 'message taken' } } }], userTranscripts: [MESSAGE] }),
      },
      async (stack) => {
        await setUp(stack);
        const tw = stack.twilio.placeInboundCall({ from: CALLER, to: SIM_FROM, script });
        const id = await inboundCallId(stack);
        const call = await stack.waitForEnd(id, 20_000);
        await tw.done;

        assert.equal(call.direction, 'inbound');
        assert.equal(call.from, CALLER);
        assert.equal(call.to, SIM_FROM);
        assert.equal(call.clientId, 'raju');
        assert.equal(call.endReason, 'agent-hangup');
        assert.deepEqual(
          call.transcript.map((t: any) => [t.speaker, t.text]),
          [
            ['agent', GREETING],
            ['callee', MESSAGE],
            ['agent', GOODBYE],
          ],
        );
        // The caller was waiting: the greeting did not wait to hear them.
        const events = await timelineOf(stack, id);
        assert.equal(events.find((e) => e.type === 'greeting.start')?.data.reason, 'inbound');
        assert.ok(tw.firstAgentAudioLineMs !== null && tw.firstAgentAudioLineMs < 2000, `greeted at ${tw.firstAgentAudioLineMs} ms of line time`);
        // The same disclosure and recording notice rules as a call we place, worded for a call we answer.
        const prompt = promptOf(stack, engine);
        assert.match(prompt, /AI assistant answering for Raju Kumar/);
        assert.match(prompt, /the call is recorded/);
        assert.match(prompt, /take a message/);
        // Recorded through the carrier once the stream was up, with the same records as an outbound call.
        const rec = tw.log.find((l) => l.type === 'rest-recording-create') as any;
        assert.equal(rec?.fields.RecordingChannels, 'dual');
        // The late records (recording, carrier price) are in once the event stream above has ended (at
        // records.complete): read the call again, since the one from the end of the call may predate them.
        const recorded = (await stack.api('GET', `/api/calls/${id}`)).body;
        assert.ok(recorded.recording?.url, 'the recording was downloaded');
        assert.equal((await stack.api('GET', recorded.recording.url.replace(/^.*\/api\//, '/api/'))).status, 200);
        assert.ok(recorded.cost.total > 0, 'the call has a cost');
        assert.ok(recorded.cost.lines.some((l: any) => l.source === 'carrier'), 'with the carrier price');
        // The list: the Incoming filter finds it (with the caller), the outgoing one does not.
        const incoming = (await stack.api('GET', '/api/calls?direction=inbound')).body.calls;
        assert.deepEqual(
          incoming.map((c: any) => [c.id, c.direction, c.from]),
          [[id, 'inbound', CALLER]],
        );
        assert.equal((await stack.api('GET', '/api/calls?direction=outbound')).body.calls.length, 0);
        assert.equal((await stack.api('GET', `/api/calls?q=${encodeURIComponent('5550177')}`)).body.calls.length, 1, 'the caller ID is searchable');
        assert.equal((await stack.api('GET', '/api/calls?direction=sideways')).body.error.field, 'direction');
      },
    );
  });
}

test('INBOUND=assistant over MAX_CONCURRENT_CALLS: the second caller is asked to call back later, and the refusal is recorded', async () => {
  await withStack(
    {
      env: { INBOUND: 'assistant', MAX_CONCURRENT_CALLS: '1' },
      conversation: () => ({ turns: [{ say: GREETING }] }),
    },
    async (stack) => {
      await setUp(stack);
      stack.twilio.placeInboundCall({ from: CALLER, to: SIM_FROM, script: { steps: [{ waitForAgent: true, quietMs: 300 }, { pauseMs: 30_000 }] } });
      const first = await inboundCallId(stack);
      await until('the first call to talk', async () => (await stack.api('GET', `/api/calls/${first}`)).body.status === 'talking');

      const second = stack.twilio.placeInboundCall({ from: '+14155550188', to: SIM_FROM, script: { steps: [{ say: 'Hello?' }] } });
      await second.done;
      assert.match(String(second.log.find((l) => l.type === 'say')?.text), /call back later/);
      assert.equal(second.streams.length, 0);
      assert.equal((await stack.api('GET', '/api/calls')).body.calls.length, 1, 'the refused call is not a call');
      const refusals = (await stack.api('GET', '/api/refusals')).body.refusals;
      assert.equal(refusals.length, 1);
      assert.equal(refusals[0].rule, 'max-concurrent-calls');
      assert.match(refusals[0].message, /^inbound call/);

      // The first call was not disturbed.
      assert.equal((await stack.api('GET', `/api/calls/${first}`)).body.status, 'talking');
      assert.equal((await stack.api('POST', `/api/calls/${first}/hangup`)).status, 200);
      await stack.waitForEnd(first);
    },
  );
});

test('INBOUND=assistant: transfer_call hands the caller over to OWNER_PHONE, showing our number as caller ID', async () => {
  const OWNER = '+14155550142';
  await withStack(
    {
      env: { INBOUND: 'assistant', INBOUND_CLIENT_ID: 'raju', OWNER_PHONE: OWNER },
      script: () => ({ steps: [], idleHangupMs: 30_000 }), // the owner, when <Dial>ed
      conversation: () => ({ turns: [{ say: GREETING }, { say: "I'll put you through to Raju now.", call: { name: 'transfer_call', args: { mode: 'cold' } } }], userTranscripts: ['Can I talk to Raju directly?'] }),
    },
    async (stack) => {
      await setUp(stack);
      const tw = stack.twilio.placeInboundCall({
        from: CALLER,
        to: SIM_FROM,
        script: { steps: [{ waitForAgent: true, quietMs: 300 }, { say: 'Can I talk to Raju directly?' }, { waitForAgent: true, quietMs: 300 }, { waitForBridge: true, timeoutMs: 10_000 }, { pauseMs: 400 }, { hangup: true }] },
      });
      const id = await inboundCallId(stack);
      const call = await stack.waitForEnd(id, 30_000);
      assert.equal(call.endReason, 'transferred');
      assert.equal(tw.dials.length, 1);
      assert.equal(tw.dials[0].to, OWNER);
      assert.equal(tw.dials[0].callerId, SIM_FROM, 'our number, not the caller (who may be withheld)');
      assert.ok(tw.dials[0].answeredAtMs !== null, 'the owner answered');
    },
  );
});

test('the inbound voice webhook: unsigned is refused (403), a missing field is a 400 naming it, a retried one gets the same session', async () => {
  await withStack({ env: { INBOUND: 'assistant' }, conversation: () => ({ turns: [{ say: GREETING }] }) }, async (stack) => {
    const url = `${stack.baseUrl}/twilio/voice`;
    const sid = 'CA' + '7'.repeat(32);
    const params = { AccountSid: SIM_ACCOUNT_SID, ApiVersion: '2010-04-01', CallSid: sid, CallStatus: 'ringing', Direction: 'inbound', From: CALLER, To: SIM_FROM, Called: SIM_FROM, Caller: CALLER };
    const post = async (p: Record<string, string>, signed = true) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(signed ? { 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(SIM_AUTH_TOKEN, url, p) } : {}) },
        body: new URLSearchParams(p).toString(),
      });
      return { status: res.status, body: await res.text() };
    };
    assert.equal((await post(params, false)).status, 403);
    const { From: _f, ...noFrom } = params;
    const bad = await post(noFrom);
    assert.equal(bad.status, 400);
    assert.match(bad.body, /From/);
    assert.equal(stack.openai.sessions.length, 0, 'no session for a refused webhook');

    const first = await post(params);
    assert.equal(first.status, 200);
    // Under its node's prefix when the stack is a named node (TEST_STORE=postgres), as in a deployment.
    assert.match(first.body, /<Connect><Stream url="ws:\/\/127\.0\.0\.1:\d+(\/n\/[\w.-]+)?\/twilio\/media">/);
    const again = await post(params);
    assert.equal(again.body, first.body, 'Twilio retrying the webhook gets the same stream parameters');
    const calls = (await stack.api('GET', '/api/calls')).body.calls;
    assert.equal(calls.length, 1);
    // No media stream follows: the call ends as a media error, like any call whose stream never came.
    await stack.app.service.end(calls[0].id, 'media-error');
  });
});

test("INBOUND_RUNBOOK: the runbook's instructions are the task and its goal the outcome's; a runbook that is missing declines the call politely", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cw-inbound-runbooks-'));
  writeFileSync(join(dir, 'front-desk.md'), '---\ntitle: Front desk\ngoal: Take a message for {{owner}}\nvariables:\n  owner:\n    description: Who the message is for\n    default: Raju\n---\nAsk for the caller\'s name and number. Never quote prices.\n');
  await withStack(
    {
      env: { INBOUND: 'assistant', INBOUND_CLIENT_ID: 'raju', RUNBOOKS_DIR: dir, INBOUND_RUNBOOK: 'front-desk' },
      conversation: () => ({ turns: [{ say: GREETING, call: { name: 'end_call', args: { reason: 'done' } } }] }),
    },
    async (stack) => {
      await setUp(stack);
      stack.twilio.placeInboundCall({ from: CALLER, to: SIM_FROM, script: { steps: [{ waitForAgent: true, quietMs: 300, timeoutMs: 5000 }] } });
      const id = await inboundCallId(stack);
      const call = await stack.waitForEnd(id);
      assert.match(call.instructions, /Goal: Take a message for Raju/);
      assert.match(call.instructions, /Never quote prices/);
      assert.match(promptOf(stack, 'openai'), /Never quote prices/);
      assert.equal(call.outcome?.goal, 'Take a message for Raju');
    },
  );
  await withStack({ env: { INBOUND: 'assistant', RUNBOOKS_DIR: dir, INBOUND_RUNBOOK: 'no-such-runbook' } }, async (stack) => {
    await setUp(stack);
    const tw = stack.twilio.placeInboundCall({ from: CALLER, to: SIM_FROM, script: { steps: [] } });
    await tw.done;
    assert.match(String(tw.log.find((l) => l.type === 'say')?.text), /cannot take calls right now/);
    assert.equal(stack.openai.sessions.length, 0);
  });
});

test('callwright setup twilio does the same through the CLI', async () => {
  await withStack({}, async (stack) => {
    const cwd = mkdtempSync(join(tmpdir(), 'callwright-cli-'));
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => {
        const child = spawn(process.execPath, [resolve('bin/callwright.js'), ...args], { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, NO_COLOR: '1' } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => res({ code, stdout, stderr }));
      });
    const r = await run(['setup', 'twilio', '--url', stack.baseUrl, '--token', SIM_API_TOKEN]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`calls now go to ${stack.baseUrl}/twilio/voice \\(POST\\)`));
    assert.match(r.stdout, /INBOUND=off/);
    assert.equal(stack.twilio.numbers[0].voiceUrl, `${stack.baseUrl}/twilio/voice`);
  });
});
