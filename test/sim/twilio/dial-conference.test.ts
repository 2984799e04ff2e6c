/**
 * The simulator's <Dial>: a number (a second simulated party answers, or not, and the action URL hears
 * how it went) and a conference room (participants, start and end per startConferenceOnEnter and
 * endConferenceOnExit, signed status callbacks), as Twilio documents them (README.md, "Dial and Conference").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { startTwilioSim, type CalleeScript, type TwilioSim } from './index.js';
import { FakeProduct } from './fake-product.js';

const ACCOUNT = 'AC' + '0123456789abcdef'.repeat(2);
const TOKEN = 'test-auth-token-0123456789abcdef';
const FROM = '+15017122661';
const A = '+15558675310';
const B = '+15558675311';
const OWNER = '+15558675312';

class SimRequestClient extends twilio.RequestClient {
  constructor(private readonly base: string) {
    super({ keepAlive: false });
  }
  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    return super.request<TData>({ ...opts, uri: opts.uri.replace('https://api.twilio.com', this.base) });
  }
}

async function rig(script: (to: string) => CalleeScript, body: (sim: TwilioSim, product: FakeProduct, client: twilio.Twilio) => Promise<void>): Promise<void> {
  const product = await new FakeProduct(TOKEN).start();
  const sim = await startTwilioSim({ accountSid: ACCOUNT, authToken: TOKEN, ringMs: 20, script: (p) => script(p.To) });
  try {
    await body(sim, product, twilio(ACCOUNT, TOKEN, { httpClient: new SimRequestClient(sim.url) }));
  } finally {
    await sim.close();
    await product.close();
  }
}

test('<Dial>number: the party answers and stays until the caller hangs up; the call is bridged meanwhile', async () => {
  await rig(
    (to) => (to === OWNER ? { steps: [], idleHangupMs: 30_000 } : { steps: [{ waitForBridge: true, timeoutMs: 5000 }, { pauseMs: 100 }, { hangup: true }] }),
    async (sim, _product, client) => {
      await client.calls.create({ to: A, from: FROM, twiml: `<Response><Dial callerId="${FROM}" timeout="10">${OWNER}</Dial><Say>after</Say></Response>` });
      const call = await sim.waitForCall();
      await call.done;
      assert.equal(call.hangupBy, 'callee');
      assert.equal(call.dials.length, 1);
      assert.equal(call.dials[0].to, OWNER);
      assert.equal(call.dials[0].callerId, FROM);
      assert.equal(call.dials[0].status, 'completed');
      assert.ok(call.dials[0].answeredAtMs !== null);
      assert.match(call.dials[0].childSid, /^CA[0-9a-f]{32}$/);
      assert.ok(!call.log.some((e) => e.type === 'say'), 'the caller hung up during the <Dial>: the next verb never ran');
    },
  );
});

test('<Dial action>: a party that does not answer ends the <Dial>; the action URL gets DialCallStatus and its TwiML runs', async () => {
  await rig(
    (to) => (to === OWNER ? { result: 'no-answer', steps: [] } : { steps: [] }),
    async (sim, product, client) => {
      product.routes.set('/after-dial', async () => ({ body: '<Response><Say>Nobody answered.</Say><Hangup/></Response>' }));
      await client.calls.create({ to: A, from: FROM, twiml: `<Response><Dial action="${product.url}/after-dial" timeout="5">${OWNER}</Dial><Say>not reached</Say></Response>` });
      const call = await sim.waitForCall();
      await call.done;
      const hit = product.hitsTo('/after-dial')[0];
      assert.ok(hit?.signatureValid);
      assert.equal(hit.params.DialCallStatus, 'no-answer');
      assert.equal(hit.params.CallSid, call.sid);
      assert.deepEqual(call.log.filter((e) => e.type === 'say').map((e) => e.text), ['Nobody answered.'], 'the action document replaced the rest of the first');
      assert.equal(call.dials[0].status, 'no-answer');
    },
  );
});

test('<Conference>: starts with two participants, ends when an endConferenceOnExit participant leaves, and reports each change once per callback URL', async () => {
  await rig(
    (to) => (to === A ? { steps: [{ waitForBridge: true, timeoutMs: 5000 }, { pauseMs: 100 }, { hangup: true }] } : { steps: [], idleHangupMs: 30_000 }),
    async (sim, product, client) => {
      product.routes.set('/conf', async () => ({ status: 204 }));
      const room = (end: boolean) =>
        `<Response><Dial><Conference statusCallback="${product.url}/conf" statusCallbackEvent="start end join leave" endConferenceOnExit="${end}" beep="false">room-1</Conference></Dial></Response>`;
      await client.calls.create({ to: B, from: FROM, twiml: room(false) });
      const b = await sim.waitForCall();
      await product.waitHit((h) => h.path === '/conf' && h.params.StatusCallbackEvent === 'participant-join');
      assert.equal(sim.conferences[0].started, false, 'one participant: the conference waits (hold music)');
      await client.calls.create({ to: A, from: FROM, twiml: room(true) });
      const a = await sim.waitForCall();
      await a.done;
      await b.done;
      assert.equal(b.hangupBy, 'twiml', "B's <Dial> ended with the conference and nothing followed it");
      await product.waitHit((h) => h.params.StatusCallbackEvent === 'conference-end');
      const hits = product.hitsTo('/conf');
      assert.ok(hits.every((h) => h.signatureValid));
      assert.deepEqual(
        hits.map((h) => [h.params.StatusCallbackEvent, h.params.CallSid === a.sid ? 'A' : h.params.CallSid === b.sid ? 'B' : '-']),
        [['participant-join', 'B'], ['participant-join', 'A'], ['conference-start', '-'], ['participant-leave', 'A'], ['participant-leave', 'B'], ['conference-end', '-']],
      );
      const conf = sim.conferences[0];
      assert.ok(hits.every((h) => h.params.ConferenceSid === conf.sid && h.params.FriendlyName === 'room-1' && h.params.AccountSid === ACCOUNT));
      assert.equal(hits[0].params.EndConferenceOnExit, 'false');
      assert.equal(hits[1].params.EndConferenceOnExit, 'true');
      assert.equal(hits[5].params.ReasonConferenceEnded, 'participant_with_end_conference_on_exit_left');
      assert.deepEqual(conf.participants.map((p) => p.reason), ['conference-ended', 'hangup']);
    },
  );
});

test('<Conference>: a REST update takes the call out of the room (participant-leave), the others stay', async () => {
  await rig(
    () => ({ steps: [], idleHangupMs: 30_000 }),
    async (sim, product, client) => {
      const twiml = '<Response><Dial><Conference>room-2</Conference></Dial></Response>';
      await client.calls.create({ to: A, from: FROM, twiml });
      const a = await sim.waitForCall();
      await client.calls.create({ to: B, from: FROM, twiml });
      const b = await sim.waitForCall();
      for (let i = 0; !sim.conferences[0]?.started; i++) {
        assert.ok(i < 250, 'the conference started');
        await new Promise((r) => setTimeout(r, 20));
      }
      await client.calls(a.sid).update({ twiml: '<Response><Say>Bye from the room.</Say></Response>' });
      await a.done;
      const conf = sim.conferences[0];
      assert.equal(conf.participants[0].reason, 'twiml-updated');
      assert.equal(conf.ended, false, 'B is still in the room');
      assert.ok(a.log.some((e) => e.type === 'say' && e.text === 'Bye from the room.'));
      await client.calls(b.sid).update({ status: 'completed' });
      await b.done;
      assert.equal(conf.ended, true, 'the last participant left');
    },
  );
});
