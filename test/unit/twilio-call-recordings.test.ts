/**
 * A call's recordings as the carrier lists them (Carrier.callRecordings), for the calls of a node that
 * died: the Twilio carrier against the Twilio simulator, and the poll that waits for one to complete.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTwilioSim, type TwilioSim } from '../sim/twilio/index.js';
import { FakeProduct } from '../sim/twilio/fake-product.js';
import { TwilioCarrier } from '../../src/telephony/twilio/carrier.js';
import { CarrierError, type Carrier, type CarrierRecording } from '../../src/telephony/carrier.js';
import { findCompletedRecording } from '../../src/calls/carrier-recording.js';

const ACCOUNT = 'AC' + '0123456789abcdef'.repeat(2);
const TOKEN = 'test-auth-token-0123456789abcdef';
const PROCESSING_MS = 400;

async function rig(body: (r: { sim: TwilioSim; product: FakeProduct; carrier: TwilioCarrier }) => Promise<void>): Promise<void> {
  const product = await new FakeProduct(TOKEN).start();
  product.routes.set('/twilio/voice', () => ({ body: product.streamTwiml() }));
  const sim = await startTwilioSim({
    accountSid: ACCOUNT,
    authToken: TOKEN,
    ringMs: 20,
    recordingProcessingMs: PROCESSING_MS,
    script: () => ({ steps: [{ say: 'Hi there', durationMs: 300 }, { pauseMs: 300 }, { hangup: true }] }),
  });
  try {
    await body({ sim, product, carrier: new TwilioCarrier({ accountSid: ACCOUNT, authToken: TOKEN, apiUrl: sim.url }) });
  } finally {
    await sim.close();
    await product.close();
  }
}

const dial = (carrier: TwilioCarrier, product: FakeProduct, record: boolean) =>
  carrier.dial({ callId: 'c1', to: '+15558675310', from: '+15017122661', publicUrl: product.url, record, timeLimitSec: 60, amdSpeechEndThresholdMs: 1000 });

async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('Twilio callRecordings: a recorded call lists its recording in progress, processing after the call, then completed and downloadable; an unrecorded call lists none; an unknown call is refused', async () => {
  await rig(async ({ sim, product, carrier }) => {
    const { carrierCallId } = await dial(carrier, product, true);
    const call = await sim.waitForCall();
    assert.equal(call.sid, carrierCallId);
    await (await product.waitSocket()).waitEvent('start');
    const live = await carrier.callRecordings(carrierCallId);
    assert.deepEqual(live, [{ recordingId: call.recordingSid, status: 'in-progress' }]);

    await until('the call ended', () => call.endTime !== null);
    const endedAt = performance.now();
    assert.deepEqual(await carrier.callRecordings(carrierCallId), [{ recordingId: call.recordingSid, status: 'processing' }]);
    const media = carrier.recordingSource(call.recordingSid!);
    assert.equal((await fetch(media.url, { headers: media.headers })).status, 404, 'not served while processing');

    await call.done;
    assert.deepEqual(await carrier.callRecordings(carrierCallId), [{ recordingId: call.recordingSid, status: 'completed' }]);
    const mp3 = await fetch(media.url, { headers: media.headers });
    assert.equal(mp3.status, 200);
    assert.equal(mp3.headers.get('content-type'), 'audio/mpeg');
    assert.ok((await mp3.arrayBuffer()).byteLength > 1000);
    // The callback named it only once it was completed.
    const cb = product.hitsTo('/twilio/recording')[0];
    assert.equal(cb?.params.RecordingStatus, 'completed');
    assert.ok(cb.at - endedAt >= PROCESSING_MS - 50, `the callback waited out the processing: ${Math.round(cb.at - endedAt)} ms`);

    const plain = await dial(carrier, product, false);
    const second = await sim.waitForCall();
    await second.done;
    assert.deepEqual(await carrier.callRecordings(plain.carrierCallId), []);

    await assert.rejects(carrier.callRecordings('CA' + '0'.repeat(32)), (e: unknown) => e instanceof CarrierError && e.status === 404 && !e.retryable);
  });
});

test('findCompletedRecording against the simulator: waits out the processing, then names the recording', async () => {
  await rig(async ({ sim, product, carrier }) => {
    const { carrierCallId } = await dial(carrier, product, true);
    const call = await sim.waitForCall();
    await until('the call ended', () => call.endTime !== null);
    const r = await findCompletedRecording(carrier, carrierCallId, { pollMs: [0, 100, 200, 400, 800], signal: new AbortController().signal });
    assert.deepEqual(r, { found: call.recordingSid });
  });
});

/** A carrier whose list answers from a script, one answer per ask (the last repeats). */
function listing(...answers: Array<CarrierRecording[] | Error>): Carrier & { asks: number } {
  const c = {
    name: 'fake',
    asks: 0,
    dial: async () => ({ carrierCallId: 'x' }),
    hangup: async () => undefined,
    recordingSource: () => ({ url: 'http://127.0.0.1/', headers: {} }),
    callPrice: async () => undefined,
    async callRecordings(): Promise<CarrierRecording[]> {
      const a = answers[Math.min(c.asks++, answers.length - 1)]!;
      if (a instanceof Error) throw a;
      return a;
    },
  };
  return c;
}

test('findCompletedRecording: the known recording first, retries on a carrier outage, and says why when there is none to fetch', async () => {
  const signal = new AbortController().signal;
  const rec = (recordingId: string, status: CarrierRecording['status'], errorCode?: number): CarrierRecording => ({ recordingId, status, ...(errorCode ? { errorCode } : {}) });
  const poll = { pollMs: [0, 1, 1, 1], signal };

  assert.deepEqual(await findCompletedRecording(listing([rec('RE1', 'completed'), rec('RE2', 'completed')]), 'CA', { ...poll, knownId: 'RE2' }), { found: 'RE2' });
  const outage = listing(new CarrierError('HTTP 503', true, 503), [rec('RE1', 'processing')], [rec('RE1', 'completed')]);
  assert.deepEqual(await findCompletedRecording(outage, 'CA', poll), { found: 'RE1' });
  assert.equal(outage.asks, 3);

  const refused = await findCompletedRecording(listing(new CarrierError('HTTP 401', false, 401)), 'CA', poll);
  assert.equal('notFound' in refused && refused.notFound, 'list-failed');
  const absent = await findCompletedRecording(listing([rec('RE1', 'absent', 13617)]), 'CA', poll);
  assert.deepEqual(absent, { notFound: 'absent', message: "the carrier reports the call's recording absent (error 13617)" });
  const none = listing([]);
  assert.equal(((await findCompletedRecording(none, 'CA', poll)) as { notFound: string }).notFound, 'none');
  assert.equal(none.asks, 2, 'empty twice before giving up');
  const stuck = await findCompletedRecording(listing([rec('RE1', 'processing')]), 'CA', { pollMs: [0, 300, 300], signal });
  assert.deepEqual(stuck, { notFound: 'not-ready', message: 'no completed recording after 1 s of asking the carrier (last: the carrier lists it as processing)' });
  const unlisting: Carrier = { ...listing([]), callRecordings: undefined };
  assert.equal(((await findCompletedRecording(unlisting, 'CA', poll)) as { notFound: string }).notFound, 'not-listable');

  const shutdown = new AbortController();
  const stopping = findCompletedRecording(listing([rec('RE1', 'processing')]), 'CA', { pollMs: [0, 60_000], signal: shutdown.signal });
  setTimeout(() => shutdown.abort(), 20);
  assert.deepEqual(await stopping, { stopped: true }, 'shutdown ends the wait at once');
});
