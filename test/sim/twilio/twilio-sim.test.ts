import { test } from 'node:test';
import assert from 'node:assert/strict';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { mailbox, startTwilioSim, type TwilioSim, type TwilioSimOptions, type CalleeScript, type SimCall } from './index.js';
import { FakeProduct, type FakeSocket, type Hit } from './fake-product.js';
import { speech, speechPcm, tone } from './callee-audio.js';
import { parseTwiml, TwimlParseError, readStream } from './twiml.js';
import { Playout, SEGMENT_GAP_MS } from './playout.js';
import { encodeMp3, encodeRecordingMp3 } from './mp3.js';
import { mulawDecode } from '../../../src/media/mulaw.js';
import { analyseFrame } from '../../../src/media/beep-detector.js';
import { dtmfAudio } from '../../../src/media/dtmf.js';

const ACCOUNT = 'AC' + '0123456789abcdef'.repeat(2);
const TOKEN = 'test-auth-token-0123456789abcdef';
const TO = '+15558675310';
const FROM = '+15017122661';

type RequestOptions<T> = RequestClient.RequestOptions<T>;

/** The SDK with a transport that rewrites api.twilio.com to the simulator, as the product does. */
class SimRequestClient extends twilio.RequestClient {
  constructor(private readonly base: string) {
    super({ keepAlive: false });
  }
  override request<TData>(opts: RequestOptions<TData>) {
    return super.request<TData>({ ...opts, uri: opts.uri.replace('https://api.twilio.com', this.base) });
  }
}

function sdk(sim: TwilioSim, token = TOKEN) {
  return twilio(ACCOUNT, token, { httpClient: new SimRequestClient(sim.url) });
}

interface Rig {
  sim: TwilioSim;
  product: FakeProduct;
  client: ReturnType<typeof sdk>;
}

async function rig(
  options: Partial<TwilioSimOptions> = {},
  body: (r: Rig) => Promise<void>,
): Promise<void> {
  const product = await new FakeProduct(TOKEN).start();
  const sim = await startTwilioSim({ accountSid: ACCOUNT, authToken: TOKEN, ringMs: 20, ...options });
  try {
    await body({ sim, product, client: sdk(sim) });
  } finally {
    await sim.close();
    await product.close();
  }
}

function rms(frame: Int16Array): number {
  let s = 0;
  for (const v of frame) s += v * v;
  return Math.sqrt(s / frame.length);
}

function inboundFrames(sock: FakeSocket): Uint8Array[] {
  return sock.events('media').map((m) => new Uint8Array(Buffer.from(m.media.payload, 'base64')));
}

async function basicAuthFetch(url: string, init: RequestInit & { token?: string } = {}): Promise<Response> {
  const auth = Buffer.from(`${ACCOUNT}:${init.token ?? TOKEN}`).toString('base64');
  return fetch(url, { ...init, headers: { Authorization: `Basic ${auth}`, ...(init.headers ?? {}) } });
}

function statusHits(product: FakeProduct): Hit[] {
  return product.hitsTo('/status');
}

// ---------------------------------------------------------------------------------------------
// Units

test('TwiML parser: verbs, attributes, parameters, entities, CDATA and strictness', () => {
  const verbs = parseTwiml(
    `<?xml version="1.0" encoding="UTF-8"?>
     <!-- greeting -->
     <Response>
       <Say voice='alice'>Tom &amp; Jerry &#233;&#x21;</Say>
       <Connect action="https://x.test/after">
         <Stream url="wss://x.test/media?a=1&amp;b=2" name="s1">
           <Parameter name="callId" value="c-42"/>
           <Parameter name="note" value="a &quot;quoted&quot; value"/>
         </Stream>
       </Connect>
       <Play digits="ww12#"/>
       <Say><![CDATA[<raw> & text]]></Say>
       <Hangup/>
     </Response>`,
  );
  assert.deepEqual(verbs.map((v) => v.name), ['Say', 'Connect', 'Play', 'Say', 'Hangup']);
  assert.equal(verbs[0].text, 'Tom & Jerry é!');
  assert.equal(verbs[0].attrs.voice, 'alice');
  const stream = readStream(verbs[1].children[0]);
  assert.equal(stream.url, 'wss://x.test/media?a=1&b=2');
  assert.deepEqual(stream.customParameters, { callId: 'c-42', note: 'a "quoted" value' });
  assert.equal(verbs[2].attrs.digits, 'ww12#');
  assert.equal(verbs[3].text, '<raw> & text');
  for (const bad of [
    '<Response><Say>x</Response>',
    '<Response><Say>x</Say>',
    '<Reply/>',
    '<Response/><Response/>',
    '<Response><Say a="1" a="2"/></Response>',
    '<Response>&nbsp;</Response>',
    'hello',
    '',
  ]) {
    assert.throws(() => parseTwiml(bad), TwimlParseError, bad);
  }
});

test('playout: marks are released only when playback reaches them; clear releases all', () => {
  const p = new Playout();
  assert.equal(p.mark('immediate'), true, 'a mark on an empty buffer is reached already');
  p.push(new Uint8Array(400).fill(1));
  assert.equal(p.mark('a'), false);
  p.push(new Uint8Array(160).fill(2));
  assert.equal(p.mark('b'), false);
  assert.deepEqual(p.take().marks, []); // 160
  assert.deepEqual(p.take().marks, []); // 320
  const third = p.take(); // 400 of 'a' done + 80 of the next chunk
  assert.deepEqual(third.marks, ['a']);
  assert.equal(third.played, 160);
  assert.equal(p.segmentPlayedBytes, 480);
  p.push(new Uint8Array(1000));
  assert.equal(p.mark('c'), false);
  const cleared = p.clear();
  assert.deepEqual(cleared.marks, ['b', 'c']);
  assert.equal(cleared.droppedBytes, 80 + 1000);
  assert.equal(cleared.segmentPlayedBytes, 480);
  const after = p.take();
  assert.equal(after.played, 0);
  assert.ok(after.frame.every((b) => b === 0xff), 'silence once empty');
  p.push(new Uint8Array(160));
  p.take();
  assert.equal(p.segmentPlayedBytes, 160, 'a new segment starts after the clear');
  assert.equal(p.totalPlayedBytes, 640);
});

test('playout: a brief underrun continues the segment, a real pause starts a new one', () => {
  const p = new Playout();
  p.push(new Uint8Array(160));
  p.take();
  p.take(); // 20 ms dry, as when a server streams at exactly real-time pace
  assert.equal(p.segmentActive, true);
  p.push(new Uint8Array(160));
  p.take();
  assert.equal(p.segmentPlayedBytes, 320);
  for (let i = 0; i < SEGMENT_GAP_MS / 20; i++) p.take();
  assert.equal(p.segmentActive, false);
  p.push(new Uint8Array(160));
  p.take();
  assert.equal(p.segmentPlayedBytes, 160);
  assert.equal(p.totalPlayedBytes, 480);
});

test('callee audio: deterministic, loud enough for an energy VAD, silence is exact', () => {
  const a = speech('Hello, this is Sam.');
  assert.deepEqual(a, speech('Hello, this is Sam.'));
  assert.notDeepEqual(a, speech('Something else entirely'));
  const pcm = speechPcm('Hello, this is Sam.', 2000);
  assert.equal(pcm.length, 16000);
  for (let i = 160; i + 160 <= pcm.length - 160; i += 160) {
    assert.ok(rms(pcm.subarray(i, i + 160)) > 1000, `frame ${i / 160} too quiet`);
  }
  const overall = rms(pcm);
  assert.ok(overall > 2500 && overall < 4500, `overall RMS ${overall} should be about -20 dBFS`);
  assert.ok(rms(mulawDecode(tone(1000, 400))) > 5000);
});

test('mp3: real MPEG audio at 8 kHz stereo', () => {
  const mp3 = encodeMp3(speechPcm('left side', 1000), new Int16Array(8000), 2);
  assert.equal(mp3[0], 0xff);
  assert.equal(mp3[1] & 0xe0, 0xe0);
  // MPEG 2.5 (version bits 00) is the only MPEG version with an 8 kHz sample rate.
  assert.equal((mp3[1] >> 3) & 0x03, 0);
});

// ---------------------------------------------------------------------------------------------
// REST

test('REST: auth, validation and not-found errors look like Twilio (also through the SDK)', async () => {
  await rig({}, async ({ sim, client }) => {
    const base = `${sim.url}/2010-04-01/Accounts/${ACCOUNT}`;
    const noAuth = await fetch(`${base}/Calls.json`, { method: 'POST' });
    assert.equal(noAuth.status, 401);
    assert.deepEqual(await noAuth.json(), {
      code: 20003,
      message: 'Authenticate',
      more_info: 'https://www.twilio.com/docs/errors/20003',
      status: 401,
    });
    const badToken = await basicAuthFetch(`${base}/Calls.json`, { method: 'POST', token: 'nope' });
    assert.equal(badToken.status, 401);

    const form = (f: Record<string, string>) => ({
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(f).toString(),
    });
    const badTo = await basicAuthFetch(`${base}/Calls.json`, form({ To: '5551234', From: FROM, Url: 'http://x.test/' }));
    assert.equal(badTo.status, 400);
    assert.equal(((await badTo.json()) as { code: number }).code, 21211);
    const noTo = await basicAuthFetch(`${base}/Calls.json`, form({ From: FROM, Url: 'http://x.test/' }));
    assert.equal(((await noTo.json()) as { code: number }).code, 21211);
    const badFrom = await basicAuthFetch(`${base}/Calls.json`, form({ To: TO, From: 'me', Url: 'http://x.test/' }));
    assert.equal(badFrom.status, 400);
    assert.equal(((await badFrom.json()) as { code: number }).code, 21212);
    const noUrl = await basicAuthFetch(`${base}/Calls.json`, form({ To: TO, From: FROM }));
    assert.equal(noUrl.status, 400);
    assert.equal(((await noUrl.json()) as { code: number }).code, 21205);

    const missing = await basicAuthFetch(`${base}/Calls/CA${'0'.repeat(32)}.json`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { code: number }).code, 20404);

    // The SDK turns these bodies into RestException with Twilio's fields.
    await assert.rejects(client.calls.create({ to: 'nonsense', from: FROM, url: 'http://x.test/' }), (e: any) => {
      assert.equal(e.status, 400);
      assert.equal(e.code, 21211);
      assert.equal(e.moreInfo, 'https://www.twilio.com/docs/errors/21211');
      return true;
    });
    await assert.rejects(sdk(sim, 'wrong').calls.create({ to: TO, from: FROM, url: 'http://x.test/' }), (e: any) => {
      assert.equal(e.status, 401);
      assert.equal(e.code, 20003);
      return true;
    });
    assert.equal(sim.calls.length, 0);
  });
});

// ---------------------------------------------------------------------------------------------
// Call lifecycle

test('lifecycle: signed status callbacks in order, TwiML fetch, stream start with customParameters, resource', async () => {
  await rig({}, async ({ sim, product, client }) => {
    product.routes.set('/twiml', () => ({ body: product.streamTwiml('/media', { callId: 'call-7', lang: 'en' }) }));
    product.onSocket = (s) => {
      // Hang up from the server side once the start message is in: the call must then complete.
      void s.waitEvent('start').then(() => setTimeout(() => s.ws.close(1000), 100));
    };
    const created = await client.calls.create({
      to: TO,
      from: FROM,
      url: `${product.url}/twiml`,
      statusCallback: `${product.url}/status`,
      statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
    });
    assert.match(created.sid, /^CA[0-9a-f]{32}$/);
    assert.equal(created.status, 'queued');
    assert.equal(created.direction, 'outbound-api');
    assert.equal(created.accountSid, ACCOUNT);
    assert.equal(created.apiVersion, '2010-04-01');
    assert.equal(created.priceUnit, 'USD');
    assert.equal(created.price, null);

    const call = await sim.waitForCall();
    assert.equal(call.sid, created.sid);
    assert.deepEqual(call.params.StatusCallbackEvent, ['initiated', 'ringing', 'answered', 'completed']);
    await call.done;

    const statuses = statusHits(product);
    assert.deepEqual(
      statuses.map((h) => h.params.CallStatus),
      ['initiated', 'ringing', 'in-progress', 'completed'],
    );
    assert.deepEqual(statuses.map((h) => h.params.SequenceNumber), ['0', '1', '2', '3']);
    for (const h of statuses) {
      assert.ok(h.signatureValid, `signature of ${h.params.CallStatus}`);
      assert.equal(h.headers['content-type'], 'application/x-www-form-urlencoded');
      assert.equal(h.params.CallSid, call.sid);
      assert.equal(h.params.AccountSid, ACCOUNT);
      assert.equal(h.params.From, FROM);
      assert.equal(h.params.To, TO);
      assert.equal(h.params.Direction, 'outbound-api');
      assert.equal(h.params.ApiVersion, '2010-04-01');
      assert.equal(h.params.CallbackSource, 'call-progress-events');
      assert.ok(h.params.Timestamp.endsWith('+0000'));
    }
    const completed = statuses[3].params;
    assert.match(completed.CallDuration, /^\d+$/);
    assert.equal(completed.Duration, '1');

    const [twimlHit] = product.hitsTo('/twiml');
    assert.ok(twimlHit.signatureValid);
    assert.equal(twimlHit.method, 'POST');
    assert.equal(twimlHit.params.CallStatus, 'in-progress');
    assert.equal(twimlHit.params.CallSid, call.sid);

    const sock = product.sockets[0];
    assert.ok(sock.signatureValid, 'upgrade carries a valid X-Twilio-Signature');
    assert.deepEqual(sock.messages[0], { event: 'connected', protocol: 'Call', version: '1.0.0', at: sock.messages[0].at });
    const start = sock.messages[1];
    assert.equal(start.event, 'start');
    assert.equal(start.sequenceNumber, '1');
    assert.match(start.streamSid, /^MZ[0-9a-f]{32}$/);
    assert.deepEqual(start.start, {
      accountSid: ACCOUNT,
      streamSid: start.streamSid,
      callSid: call.sid,
      tracks: ['inbound'],
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      customParameters: { callId: 'call-7', lang: 'en' },
    });
    assert.equal(call.streams[0].closedBy, 'server');
    assert.equal(call.hangupBy, 'server-close');
    assert.equal(call.status, 'completed');

    const fetched = await client.calls(call.sid).fetch();
    assert.equal(fetched.status, 'completed');
    assert.match(String(fetched.duration), /^\d+$/);
    assert.equal(fetched.price, '-0.0140');
    assert.ok(fetched.startTime instanceof Date && fetched.endTime instanceof Date);
  });
});

test('createResponseDelayMs: the call rings, is answered, fetches TwiML and streams before the create response arrives', async () => {
  await rig({ createResponseDelayMs: 800 }, async ({ sim, product, client }) => {
    product.routes.set('/twiml', () => ({ body: product.streamTwiml('/media', { callId: 'early' }) }));
    const t0 = performance.now();
    const created = await client.calls.create({ to: TO, from: FROM, url: `${product.url}/twiml`, statusCallback: `${product.url}/status`, statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'] });
    const respondedAt = performance.now();
    assert.ok(respondedAt - t0 >= 800, 'the response was held back');
    // The resource is the one created ("queued"), not what the call has become meanwhile.
    assert.equal(created.status, 'queued');
    const call = await sim.waitForCall();
    assert.equal(call.sid, created.sid);
    // By then the product had been told the CallSid by signed webhooks and the media stream.
    const early = product.hits.filter((h) => h.at < respondedAt);
    assert.deepEqual(early.filter((h) => h.path === '/status').map((h) => h.params.CallStatus), ['initiated', 'ringing', 'in-progress']);
    assert.ok(early.some((h) => h.path === '/twiml' && h.params.CallSid === created.sid && h.signatureValid));
    const sock = await product.waitSocket();
    assert.equal(sock.messages[1].start.callSid, created.sid);
    assert.ok(sock.messages[1].at < respondedAt, 'stream started before the response');
    const order = call.log.map((e) => e.type);
    assert.ok(order.indexOf('stream-started') < order.indexOf('rest-create-response'));
    await client.calls(call.sid).update({ status: 'completed' });
    await call.done;
  });
});

test('media: 20 ms paced inbound frames with the callee speaking, then exact silence', async () => {
  await rig({ script: () => ({ steps: [{ say: 'Hello?', durationMs: 400 }] }) }, async ({ product, client, sim }) => {
    product.routes.set('/twiml', () => ({ body: product.streamTwiml() }));
    await client.calls.create({ to: TO, from: FROM, url: `${product.url}/twiml` });
    const sock = await product.waitSocket();
    await sock.waitFor(() => sock.events('media').length >= 40, 3000, '40 media frames');
    const media = sock.events('media');
    media.forEach((m, i) => {
      assert.equal(m.media.chunk, String(i + 1));
      assert.equal(m.media.timestamp, String(i * 20));
      assert.equal(m.media.track, 'inbound');
      assert.equal(m.streamSid, sock.streamSid);
    });
    const seqs = sock.messages.filter((m) => m.sequenceNumber).map((m) => Number(m.sequenceNumber));
    assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'sequenceNumber counts every message from 1');
    const span = media[39].at - media[0].at;
    assert.ok(span > 39 * 20 - 60 && span < 39 * 20 + 120, `39 frame intervals took ${span} ms`);
    const frames = inboundFrames(sock);
    assert.ok(frames.every((f) => f.length === 160));
    const loud = frames.slice(1, 19).map((f) => rms(mulawDecode(f)));
    assert.ok(loud.every((r) => r > 1000), `speech frames RMS ${loud.map(Math.round)}`);
    assert.ok(frames.slice(21, 40).every((f) => f.every((b) => b === 0xff)), 'silence after the utterance');
    const call = sim.calls[0];
    await client.calls(call.sid).update({ status: 'completed' });
    await call.done;
  });
});

test('marks are echoed only after the audio queued before them has been played', async () => {
  await rig({ script: () => ({ steps: [] }) }, async ({ product, client, sim }) => {
    product.routes.set('/twiml', () => ({ body: product.streamTwiml() }));
    await client.calls.create({ to: TO, from: FROM, url: `${product.url}/twiml` });
    const sock = await product.waitSocket();
    await sock.waitEvent('start');
    const sentAt = performance.now();
    sock.sendAudio(speech('one second of agent speech', 1000));
    sock.send({ event: 'mark', streamSid: sock.streamSid, mark: { name: 'one-second' } });
    sock.sendAudio(speech('half', 500));
    sock.send({ event: 'mark', streamSid: sock.streamSid, mark: { name: 'later' } });
    const echo = await sock.waitEvent('mark', (m) => m.mark.name === 'one-second', 3000);
    const elapsed = echo.at - sentAt;
    assert.ok(elapsed >= 960, `mark echoed after ${elapsed} ms, before its audio could have played`);
    assert.ok(elapsed < 1300, `mark echoed late: ${elapsed} ms`);
    assert.equal(sock.events('mark').length, 1, 'the second mark waits for its audio');
    const later = await sock.waitEvent('mark', (m) => m.mark.name === 'later', 3000);
    assert.ok(later.at - echo.at >= 460, 'second mark paced by the 500 ms queued before it');
    assert.equal(echo.streamSid, sock.streamSid);
    assert.match(echo.sequenceNumber, /^\d+$/);

    const call = sim.calls[0];
    assert.equal(call.streams[0].received.marks, 2);
    assert.equal(call.streams[0].agentPlayedMs, 1500);
    assert.equal(call.agentAudioBytesReceived, 12000);
    // A mark on an empty buffer has nothing to wait for.
    sock.send({ event: 'mark', streamSid: sock.streamSid, mark: { name: 'now' } });
    const now = await sock.waitEvent('mark', (m) => m.mark.name === 'now', 1000);
    assert.ok(now.at - later.at < 1000);
    await client.calls(call.sid).update({ status: 'completed' });
    await call.done;
  });
});

test('barge-in: callee talks over the agent, clear drops the rest and echoes pending marks at once', async () => {
  const script: CalleeScript = {
    steps: [
      { say: 'Hello?', durationMs: 400 },
      { waitAgentPlayedMs: 400 },
      { say: 'Sorry, who is this?', durationMs: 600 },
      { waitForAgent: true, quietMs: 300 },
      { hangup: true },
    ],
  };
  await rig({ script: () => script }, async ({ product, client, sim }) => {
    product.routes.set('/twiml', () => ({ body: product.streamTwiml() }));
    product.onSocket = (s) => {
      // A minimal product: speak after the callee's first words; on new callee speech, clear.
      let phase: 'listening' | 'speaking' | 'replying' = 'listening';
      let voicedFrames = 0;
      let silentFrames = 0;
      s.ws.on('message', (data) => {
        const m = JSON.parse(data.toString());
        if (m.event !== 'media') return;
        const loud = rms(mulawDecode(new Uint8Array(Buffer.from(m.media.payload, 'base64')))) > 1000;
        voicedFrames = loud ? voicedFrames + 1 : 0;
        silentFrames = loud ? 0 : silentFrames + 1;
        if (phase === 'listening' && silentFrames === 5 && s.events('media').length > 20) {
          phase = 'speaking';
          s.sendAudio(speech('Hi, this is the assistant calling about your appointment', 3000));
          s.send({ event: 'mark', streamSid: s.streamSid, mark: { name: 'greeting' } });
        } else if (phase === 'speaking' && voicedFrames === 3) {
          phase = 'replying';
          s.send({ event: 'clear', streamSid: s.streamSid });
          setTimeout(() => {
            s.sendAudio(speech('I am an assistant', 400));
            s.send({ event: 'mark', streamSid: s.streamSid, mark: { name: 'reply' } });
          }, 700);
        }
      });
    };
    await client.calls.create({ to: TO, from: FROM, url: `${product.url}/twiml` });
    const call = await sim.waitForCall();
    await call.done;
    const sock = product.sockets[0];
    const stream = call.streams[0];
    assert.equal(stream.received.clears, 1);
    const [clear] = stream.clears;
    assert.ok(clear.segmentPlayedMs >= 400 && clear.segmentPlayedMs <= 600, `played ${clear.segmentPlayedMs} ms before clear`);
    assert.equal(clear.segmentPlayedMs + clear.droppedMs, 3000);
    assert.equal(clear.playedMs, clear.segmentPlayedMs, 'the first segment: all that was played');
    const greetingEcho = sock.events('mark').find((m) => m.mark.name === 'greeting')!;
    const clearLog = call.log.find((e) => e.type === 'clear')!;
    assert.deepEqual(clearLog.marks, ['greeting']);
    const clearEchoIdx = sock.events('mark').indexOf(greetingEcho);
    assert.equal(clearEchoIdx, 0, 'greeting mark echoed by the clear, not by playback');
    assert.ok(sock.events('mark').some((m) => m.mark.name === 'reply'), 'reply played to the end');
    assert.equal(stream.agentPlayedMs, clear.segmentPlayedMs + 400);
    assert.ok(!call.log.some((e) => e.type === 'callee-timeout'));
    assert.equal(call.hangupBy, 'callee');
    assert.equal(sock.events('stop').length, 1);
  });
});

test('invalid frames from the server are logged and the stream carries on', async () => {
  await rig({ script: () => ({ steps: [] }) }, async ({ product, client, sim }) => {
    product.routes.set('/twiml', () => ({ body: product.streamTwiml() }));
    await client.calls.create({ to: TO, from: FROM, url: `${product.url}/twiml` });
    const sock = await product.waitSocket();
    await sock.waitEvent('start');
    sock.send('this is not json');
    sock.send({ event: 'bogus', streamSid: sock.streamSid });
    sock.send({ event: 'media', streamSid: 'MZ' + 'f'.repeat(32), media: { payload: 'AAAA' } });
    sock.send({ event: 'media', streamSid: sock.streamSid, media: {} });
    sock.send({ event: 'mark', streamSid: sock.streamSid, mark: {} });
    sock.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    sock.send({ event: 'mark', streamSid: sock.streamSid, mark: { name: 'still-alive' } });
    await sock.waitEvent('mark', (m) => m.mark.name === 'still-alive');
    const call = sim.calls[0];
    assert.equal(call.streams[0].invalid.length, 6);
    assert.equal(call.streams[0].invalid[0], 'this is not json');
    const logged = call.log.filter((e) => e.type === 'stream-invalid-message');
    assert.equal(logged.length, 6);
    assert.ok(logged.every((e) => e.code === 31951));
    assert.equal(call.status, 'in-progress');
    await client.calls(call.sid).update({ status: 'completed' });
    await call.done;
  });
});

test('callee hangs up: stop, socket closed, completed callback', async () => {
  await rig(
    { script: () => ({ steps: [{ say: 'Not interested.', durationMs: 300 }, { hangup: true }] }) },
    async ({ product, client, sim }) => {
      product.routes.set('/twiml', () => ({ body: product.streamTwiml() }));
      await client.calls.create({
        to: TO,
        from: FROM,
        url: `${product.url}/twiml`,
        statusCallback: `${product.url}/status`,
      });
      const call = await sim.waitForCall();
      await call.done;
      const sock = product.sockets[0];
      const stop = sock.events('stop')[0];
      assert.deepEqual(stop.stop, { accountSid: ACCOUNT, callSid: call.sid });
      assert.equal(stop.streamSid, sock.streamSid);
      assert.equal(sock.messages.at(-1)!.event, 'stop', 'stop is the last message');
      assert.equal(sock.closeCode, 1000);
      assert.equal(call.hangupBy, 'callee');
      assert.equal(call.streams[0].closedBy, 'sim');
      // Without StatusCallbackEvent only the final state is reported.
      assert.deepEqual(statusHits(product).map((h) => h.params.CallStatus), ['completed']);
      assert.ok(statusHits(product)[0].at >= sock.closedAt!, 'completed is reported after the stream closed');
    },
  );
});

test('REST hangup ends the stream before the completed callback', async () => {
  await rig({}, async ({ product, client, sim }) => {
    product.routes.set('/twiml', () => ({ body: product.streamTwiml() }));
    await client.calls.create({
      to: TO,
      from: FROM,
      url: `${product.url}/twiml`,
      statusCallback: `${product.url}/status`,
      statusCallbackEvent: ['completed'],
    });
    const sock = await product.waitSocket();
    await sock.waitEvent('start');
    const call = sim.calls[0];
    const updated = await client.calls(call.sid).update({ status: 'completed' });
    assert.equal(updated.status, 'completed');
    await call.done;
    assert.equal(sock.events('stop').length, 1);
    assert.equal(call.hangupBy, 'api');
    assert.equal(call.status, 'completed');
    const [completed] = statusHits(product);
    assert.equal(completed.params.CallStatus, 'completed');
    assert.ok(completed.at >= sock.closedAt!);
    assert.ok(call.log.some((e) => e.type === 'rest-update'));
  });
});

test('REST hangup while ringing cancels the call', async () => {
  await rig({ ringMs: 400 }, async ({ product, client, sim }) => {
    await client.calls.create({
      to: TO,
      from: FROM,
      url: `${product.url}/twiml`,
      statusCallback: `${product.url}/status`,
    });
    const call = await sim.waitForCall();
    await client.calls(call.sid).update({ status: 'canceled' });
    await call.done;
    assert.equal(call.status, 'canceled');
    assert.equal(product.hitsTo('/twiml').length, 0);
    assert.deepEqual(statusHits(product).map((h) => h.params.CallStatus), ['canceled']);
  });
});

test('TwiML update: the running stream stops, a new stream opens with a new streamSid, then <Play digits> and <Hangup>', async () => {
  await rig({ script: () => ({ steps: [] }) }, async ({ product, client, sim }) => {
    product.routes.set('/twiml', () => ({ body: product.streamTwiml('/first', { leg: '1' }) }));
    await client.calls.create({ to: TO, from: FROM, url: `${product.url}/twiml` });
    const first = await product.waitSocket(0);
    await first.waitEvent('start');
    const call = sim.calls[0];
    await client.calls(call.sid).update({ twiml: product.streamTwiml('/second', { leg: '2' }) });
    await first.waitClosed();
    assert.equal(first.events('stop').length, 1);
    const second = await product.waitSocket(1);
    const start2 = await second.waitEvent('start');
    assert.notEqual(start2.streamSid, first.streamSid);
    assert.deepEqual(start2.start.customParameters, { leg: '2' });
    assert.equal(second.path, '/second');
    assert.ok(second.signatureValid);
    assert.equal(call.streams.length, 2);
    assert.equal(call.streams[0].closedBy, 'sim');

    await client.calls(call.sid).update({ twiml: '<Response><Play digits="w1234#"/><Say>Bye</Say><Hangup/></Response>' });
    await call.done;
    assert.equal(second.events('stop').length, 1);
    assert.deepEqual(call.digitsPlayed, ['w1234#']);
    assert.ok(call.log.some((e) => e.type === 'say' && e.text === 'Bye'));
    assert.equal(call.hangupBy, 'twiml');

    await assert.rejects(client.calls(call.sid).update({ twiml: '<Response><Hangup/></Response>' }), (e: any) => {
      assert.equal(e.code, 21220);
      return true;
    });
  });
});

test('Url update, <Connect action> and a relative <Redirect> each fetch signed TwiML', async () => {
  await rig({ script: () => ({ steps: [] }) }, async ({ product, client, sim }) => {
    product.routes.set('/twiml', () => ({ body: product.streamTwiml() }));
    product.routes.set('/moved', () => ({
      body: `<Response><Connect action="/after-stream"><Stream url="${product.wsUrl}/again"/></Connect></Response>`,
    }));
    product.routes.set('/after-stream', () => ({ body: '<Response><Redirect method="POST">final?step=3</Redirect></Response>' }));
    product.routes.set('/final', () => ({ body: '<Response><Hangup/></Response>' }));
    product.onSocket = (s) => {
      if (s.path === '/again') void s.waitEvent('start').then(() => s.ws.close());
    };
    await client.calls.create({ to: TO, from: FROM, url: `${product.url}/twiml` });
    const first = await product.waitSocket(0);
    await first.waitEvent('start');
    const call = sim.calls[0];
    await client.calls(call.sid).update({ url: `${product.url}/moved`, method: 'POST' });
    await call.done;
    assert.deepEqual(
      product.hits.map((h) => h.path),
      ['/twiml', '/moved', '/after-stream', '/final'],
    );
    assert.ok(product.hits.every((h) => h.signatureValid && h.params.CallStatus === 'in-progress'));
    assert.equal(product.hitsTo('/final')[0].url, `${product.url}/final?step=3`);
    assert.equal(first.events('stop').length, 1);
    assert.equal(call.streams.length, 2);
    assert.equal(call.hangupBy, 'twiml');
  });
});

test('after the server closes the stream, TwiML after </Connect> runs', async () => {
  await rig({ script: () => ({ steps: [] }) }, async ({ product, client, sim }) => {
    product.onSocket = (s) => void s.waitEvent('start').then(() => s.ws.close());
    await client.calls.create({
      to: TO,
      from: FROM,
      twiml: product.streamTwiml('/media', {}, '<Say>Goodbye</Say><Hangup/>'),
    });
    const call = await sim.waitForCall();
    await call.done;
    const say = call.log.find((e) => e.type === 'say');
    const closed = call.log.find((e) => e.type === 'stream-closed');
    assert.ok(say && closed && say.atMs >= closed.atMs);
    assert.equal(call.hangupBy, 'twiml');
    assert.equal(product.hits.length, 0, 'inline Twiml needs no fetch');
  });
});

test('dropSocket: the TCP connection vanishes without stop; the call completes', async () => {
  await rig({ script: () => ({ steps: [{ pauseMs: 100 }, { dropSocket: true }] }) }, async ({ product, client, sim }) => {
    product.routes.set('/twiml', () => ({ body: product.streamTwiml() }));
    await client.calls.create({ to: TO, from: FROM, url: `${product.url}/twiml` });
    const call = await sim.waitForCall();
    await call.done;
    const sock = product.sockets[0];
    await sock.waitClosed();
    assert.equal(sock.events('stop').length, 0);
    assert.equal(sock.closeCode, 1006);
    assert.equal(call.hangupBy, 'socket-drop');
    assert.equal(call.status, 'completed');
  });
});

test('DTMF and raw frames from the callee script', async () => {
  await rig(
    { script: () => ({ steps: [{ digits: '42#' }, { sendRaw: '{"event":"weird"}' }, { hangup: true }] }) },
    async ({ product, client, sim }) => {
      product.routes.set('/twiml', () => ({ body: product.streamTwiml() }));
      await client.calls.create({ to: TO, from: FROM, url: `${product.url}/twiml` });
      const call = await sim.waitForCall();
      await call.done;
      const sock = product.sockets[0];
      assert.deepEqual(sock.events('dtmf').map((m) => m.dtmf), [
        { track: 'inbound_track', digit: '4' },
        { track: 'inbound_track', digit: '2' },
        { track: 'inbound_track', digit: '#' },
      ]);
      assert.ok(sock.raw.includes('{"event":"weird"}'));
    },
  );
});

test('phone menu: hears in-band keys, replays on a wrong key ("not a valid option") and on none, goes down a level, gives up after three tries', async () => {
  const menu = { prompt: ['Welcome.', 'For sales, press 1.'], timeoutMs: 400, gapMs: 200, options: { '1': { prompt: 'Sales. For a person, press 0.', timeoutMs: 400, options: { '0': { say: 'Hi, this is Sam.' } } } } };
  await rig({ script: () => ({ steps: [{ menu }, { say: 'Anything else?' }, { hangup: true }] }) }, async ({ product, client, sim }) => {
    product.routes.set('/twiml', () => ({ body: product.streamTwiml() }));
    await client.calls.create({ to: TO, from: FROM, url: `${product.url}/twiml` });
    const sock = await product.waitSocket();
    await sock.waitEvent('start');
    const call = sim.calls[0];
    const said = () => call.log.filter((l) => l.type === 'callee-said').map((l) => l.text);
    const until = async (what: string, ok: () => boolean) => {
      for (let i = 0; i < 400 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
      assert.ok(ok(), what);
    };
    await until('main prompt', () => said().includes('For sales, press 1.'));
    sock.sendAudio(dtmfAudio('9').audio);
    await until('invalid', () => said().includes("I'm sorry, that is not a valid option. Welcome."));
    await until('no input', () => said().includes("I'm sorry, I didn't get that. Welcome."));
    sock.sendAudio(dtmfAudio('1').audio);
    await until('submenu', () => said().includes('Sales. For a person, press 0.'));
    sock.sendAudio(dtmfAudio('0').audio);
    await call.done;
    assert.deepEqual(said().slice(-2), ['Hi, this is Sam.', 'Anything else?']);
    assert.deepEqual(call.log.filter((l) => l.type === 'menu-key').map((l) => [l.path, l.key, l.valid]), [['', '9', false], ['', '1', true], ['1', '0', true]]);
    assert.equal(call.log.filter((l) => l.type === 'menu-no-input').length, 1);
    assert.equal(call.hangupBy, 'callee');
  });
  // Nobody presses anything: three playings, then goodbye and a hang-up.
  await rig({ script: () => ({ steps: [{ menu: { prompt: 'Press 1.', timeoutMs: 200, noInput: '', options: {} } }] }) }, async ({ product, client, sim }) => {
    product.routes.set('/twiml', () => ({ body: product.streamTwiml() }));
    await client.calls.create({ to: TO, from: FROM, url: `${product.url}/twiml` });
    const call = await sim.waitForCall();
    await call.done;
    assert.deepEqual(call.log.filter((l) => l.type === 'callee-said').map((l) => l.text), ['Press 1.', 'Press 1.', 'Press 1.', 'Goodbye.']);
    assert.equal(call.log.filter((l) => l.type === 'menu-gave-up').length, 1);
    assert.equal(call.hangupBy, 'callee');
  });
});

test('waits that never complete time out, are logged, and the script continues', async () => {
  await rig(
    { script: () => ({ steps: [{ waitForAgent: true, timeoutMs: 200 }, { waitAgentPlayedMs: 100, timeoutMs: 100 }, { hangup: true }] }) },
    async ({ product, client, sim }) => {
      product.routes.set('/twiml', () => ({ body: product.streamTwiml() }));
      await client.calls.create({ to: TO, from: FROM, url: `${product.url}/twiml` });
      const call = await sim.waitForCall();
      await call.done;
      assert.equal(call.log.filter((e) => e.type === 'callee-timeout').length, 2);
      assert.equal(call.hangupBy, 'callee');
    },
  );
});

test('recording: signed callback after completion, MP3 download with injected failures, auth required', async () => {
  await rig(
    { recordingFailures: 1, script: () => ({ steps: [{ say: 'Hi there', durationMs: 400 }, { hangup: true }] }) },
    async ({ product, client, sim }) => {
      product.routes.set('/twiml', () => ({ body: product.streamTwiml() }));
      product.onSocket = (s) => {
        void s.waitEvent('start').then(() => s.sendAudio(speech('agent', 300)));
      };
      await client.calls.create({
        to: TO,
        from: FROM,
        url: `${product.url}/twiml`,
        record: true,
        recordingChannels: 'dual',
        recordingStatusCallback: `${product.url}/recording`,
        statusCallback: `${product.url}/status`,
      });
      const call = await sim.waitForCall();
      await call.done;
      const [rec] = product.hitsTo('/recording');
      assert.ok(rec, 'recording callback delivered before done');
      assert.ok(rec.signatureValid);
      assert.ok(rec.at >= statusHits(product)[0].at, 'after the completed callback');
      assert.match(rec.params.RecordingSid, /^RE[0-9a-f]{32}$/);
      assert.equal(rec.params.RecordingSid, call.recordingSid);
      assert.equal(rec.params.RecordingUrl, `${sim.url}/2010-04-01/Accounts/${ACCOUNT}/Recordings/${call.recordingSid}`);
      assert.equal(rec.params.RecordingStatus, 'completed');
      assert.equal(rec.params.RecordingChannels, '2');
      assert.equal(rec.params.RecordingSource, 'OutboundAPI');
      assert.equal(rec.params.CallSid, call.sid);
      assert.equal(rec.params.AccountSid, ACCOUNT);
      assert.match(rec.params.RecordingDuration, /^\d+$/);
      assert.ok(rec.params.RecordingStartTime.endsWith('+0000'));

      const mp3Url = `${rec.params.RecordingUrl}.mp3`;
      assert.equal((await fetch(mp3Url)).status, 401);
      const failed = await basicAuthFetch(mp3Url);
      assert.equal(failed.status, 500);
      await failed.arrayBuffer();
      const ok = await basicAuthFetch(mp3Url);
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('content-type'), 'audio/mpeg');
      const mp3 = Buffer.from(await ok.arrayBuffer());
      const id3 = mp3.subarray(0, 3).toString('latin1') === 'ID3';
      assert.ok(id3 || (mp3[0] === 0xff && (mp3[1] & 0xe0) === 0xe0), 'ID3 tag or MPEG frame sync');
      assert.ok(mp3.length > 1000);

      const wav = await basicAuthFetch(rec.params.RecordingUrl);
      const wavBuf = Buffer.from(await wav.arrayBuffer());
      assert.equal(wavBuf.subarray(0, 4).toString('latin1'), 'RIFF');
      assert.equal(wavBuf.readUInt16LE(22), 2);
      // Left = callee, right = agent: both directions were audible.
      const samples = (wavBuf.length - 44) / 4;
      let left = 0;
      let right = 0;
      for (let i = 0; i < samples; i++) {
        left = Math.max(left, Math.abs(wavBuf.readInt16LE(44 + i * 4)));
        right = Math.max(right, Math.abs(wavBuf.readInt16LE(46 + i * 4)));
      }
      assert.ok(left > 3000 && right > 3000, `left peak ${left}, right peak ${right}`);

      const missing = await basicAuthFetch(`${sim.url}/2010-04-01/Accounts/${ACCOUNT}/Recordings/RE${'1'.repeat(32)}.mp3`);
      assert.equal(missing.status, 404);
    },
  );
});

test('recording: the MP3 is encoded once, by the encoder the simulator was given; each full download is reported', async () => {
  const encodes: Array<{ left: number; right: number; channels: number }> = [];
  const downloads: string[] = [];
  await rig(
    {
      script: () => ({ steps: [{ say: 'Hi there', durationMs: 400 }, { hangup: true }] }),
      encodeMp3: async (left, right, channels) => {
        encodes.push({ left: left.length, right: right.length, channels });
        return encodeRecordingMp3(left, right, channels);
      },
      onRecordingDownloaded: (sid) => downloads.push(sid),
    },
    async ({ product, client, sim }) => {
      product.routes.set('/twiml', () => ({ body: product.streamTwiml() }));
      await client.calls.create({ to: TO, from: FROM, url: `${product.url}/twiml`, record: true, recordingChannels: 'dual' });
      const call = await sim.waitForCall();
      await call.done;
      const url = `${sim.url}/2010-04-01/Accounts/${ACCOUNT}/Recordings/${call.recordingSid}`;
      const first = Buffer.from(await (await basicAuthFetch(`${url}.mp3`)).arrayBuffer());
      const again = Buffer.from(await (await basicAuthFetch(`${url}.mp3`)).arrayBuffer());
      assert.ok(first.length > 1000);
      assert.deepEqual(again, first, 'the same MP3 both times');
      assert.equal(encodes.length, 1, 'encoded once');
      // One mu-law byte per sample, both directions as long as the call: ~0.4 s of speech plus the ring-out.
      assert.equal(encodes[0].left, encodes[0].right);
      assert.ok(encodes[0].left >= 3200, `${encodes[0].left} samples`);
      assert.equal(encodes[0].channels, 2);
      const wav = Buffer.from(await (await basicAuthFetch(url)).arrayBuffer());
      assert.equal(wav.length, 44 + encodes[0].left * 4, 'the WAV holds the same samples');
      assert.deepEqual(downloads, [call.recordingSid, call.recordingSid, call.recordingSid]);
    },
  );
});

test('async AMD: a machine answers; the callback comes after greeting and beep', async () => {
  await rig(
    { script: () => ({ answeredBy: 'machine_end_beep', greetingMs: 600, steps: [] }) },
    async ({ product, client, sim }) => {
      product.routes.set('/twiml', () => ({ body: product.streamTwiml() }));
      await client.calls.create({
        to: TO,
        from: FROM,
        url: `${product.url}/twiml`,
        machineDetection: 'DetectMessageEnd',
        asyncAmd: 'true',
        asyncAmdStatusCallback: `${product.url}/amd`,
      });
      const amd = await product.waitHit((h) => h.path === '/amd', 5000, 'amd callback');
      assert.ok(amd.signatureValid);
      assert.equal(amd.params.AnsweredBy, 'machine_end_beep');
      const ms = Number(amd.params.MachineDetectionDuration);
      assert.ok(ms >= 1000, `decided after ${ms} ms, before greeting (600) + beep (400) ended`);
      const call = sim.calls[0];
      assert.equal(call.answeredBy, 'machine_end_beep');
      // The beep reached the stream: a loud, pure 1 kHz tone after the greeting.
      const sock = product.sockets[0];
      const beepFrames = inboundFrames(sock).slice(32, 48).map((f) => rms(mulawDecode(f)));
      assert.ok(beepFrames.every((r) => r > 5000), `beep frames ${beepFrames.map(Math.round)}`);
      const fetched = await client.calls(call.sid).update({ status: 'completed' });
      assert.equal(fetched.answeredBy, 'machine_end_beep');
      await call.done;
    },
  );
});

test('mailbox: a beep of the script\'s tone and length after the greeting; it records what the agent says after it', async () => {
  await rig(
    { script: () => mailbox({ greetingMs: 600, beep: { hz: 600, durationMs: 300 } }) },
    async ({ product, client, sim }) => {
      product.routes.set('/twiml', () => ({ body: product.streamTwiml() }));
      await client.calls.create({ to: TO, from: FROM, url: `${product.url}/twiml`, machineDetection: 'DetectMessageEnd', asyncAmd: 'true', asyncAmdStatusCallback: `${product.url}/amd` });
      await product.waitHit((h) => h.path === '/amd', 5000, 'amd callback');
      const call = sim.calls[0];
      const box = call.mailbox!;
      assert.ok(box, 'a machine with a greeting records');
      const sock = product.sockets[0];
      // The tone: 15 frames of one pure frequency ending where recording begins.
      const frames = inboundFrames(sock).map((f) => analyseFrame(mulawDecode(f)));
      const tonal = frames.filter((a) => a.purity > 0.95 && a.rms > 5000);
      assert.equal(tonal.length, 15, `${tonal.length} tone frames`);
      assert.ok(tonal.every((a) => Math.abs(a.hz - 600) <= 25));
      assert.equal(box.agentMsOverGreeting, 0);
      sock.sendAudio(speech('the message', 1000));
      // The line plays it in real time; then nothing more is added.
      for (let i = 0; i < 250 && call.mailbox!.agentMsRecorded < 1000; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(call.mailbox!.agentMsRecorded, 1000);
      await client.calls(call.sid).update({ status: 'completed' });
      await call.done;
    },
  );
});

test('async AMD: a human is reported after amdDelayMs', async () => {
  await rig({ script: () => ({ amdDelayMs: 300, steps: [] }) }, async ({ product, client, sim }) => {
    product.routes.set('/twiml', () => ({ body: product.streamTwiml() }));
    await client.calls.create({
      to: TO,
      from: FROM,
      url: `${product.url}/twiml`,
      machineDetection: 'Enable',
      asyncAmd: 'true',
      asyncAmdStatusCallback: `${product.url}/amd`,
    });
    const amd = await product.waitHit((h) => h.path === '/amd', 5000, 'amd callback');
    assert.equal(amd.params.AnsweredBy, 'human');
    assert.equal(amd.params.MachineDetectionDuration, '300');
    assert.equal(amd.params.CallSid, sim.calls[0].sid);
    await client.calls(sim.calls[0].sid).update({ status: 'completed' });
    await sim.calls[0].done;
  });
});

test('webhooks: 5xx is retried twice; a TwiML URL that keeps failing fails the call', async () => {
  await rig({ webhookRetryDelayMs: 10 }, async ({ product, client, sim }) => {
    let statusCalls = 0;
    product.routes.set('/status', () => ({ status: ++statusCalls <= 2 ? 503 : 204 }));
    product.routes.set('/twiml', () => ({ status: 500, body: 'boom' }));
    await client.calls.create({
      to: TO,
      from: FROM,
      url: `${product.url}/twiml`,
      statusCallback: `${product.url}/status`,
      statusCallbackEvent: ['initiated', 'completed'],
    });
    const call: SimCall = await sim.waitForCall();
    await call.done;
    assert.equal(product.hitsTo('/twiml').length, 3, 'one attempt and two retries');
    assert.equal(call.status, 'failed');
    assert.equal(call.hangupBy, 'webhook-failed');
    const attempts = call.log.filter((e) => e.type === 'webhook' && e.kind === 'status');
    assert.deepEqual(attempts.map((e) => [e.event, e.attempt, e.status]), [
      ['initiated', 1, 503],
      ['initiated', 2, 503],
      ['initiated', 3, 204],
      ['completed', 1, 204],
    ]);
    const tokens = new Set(product.hitsTo('/status').slice(0, 3).map((h) => h.headers['i-twilio-idempotency-token']));
    assert.equal(tokens.size, 1, 'retries keep the idempotency token');
    assert.equal(statusHits(product).at(-1)!.params.CallStatus, 'failed');
  });
});

test('a busy callee: no TwiML fetch, final status busy, GET callbacks signed over the query string', async () => {
  await rig({ script: () => ({ result: 'busy', steps: [] }) }, async ({ product, client, sim }) => {
    await client.calls.create({
      to: TO,
      from: FROM,
      url: `${product.url}/twiml`,
      statusCallback: `${product.url}/status?tenant=a`,
      statusCallbackMethod: 'GET',
    });
    const call = await sim.waitForCall();
    await call.done;
    assert.equal(call.status, 'busy');
    assert.equal(product.hitsTo('/twiml').length, 0);
    const [hit] = statusHits(product);
    assert.equal(hit.method, 'GET');
    assert.ok(hit.signatureValid);
    const query = new URL(hit.url).searchParams;
    assert.equal(query.get('tenant'), 'a');
    assert.equal(query.get('CallStatus'), 'busy');
    assert.equal(query.get('CallDuration'), '0');
    const fetched = await client.calls(call.sid).fetch();
    assert.equal(fetched.status, 'busy');
    assert.equal(fetched.price, null);
  });
});

test('safety limit: a callee with nothing left to do hangs up after idleHangupMs', async () => {
  await rig({ idleHangupMs: 150 }, async ({ product, client, sim }) => {
    product.routes.set('/twiml', () => ({ body: product.streamTwiml() }));
    await client.calls.create({ to: TO, from: FROM, url: `${product.url}/twiml` });
    const call = await sim.waitForCall();
    await call.done;
    assert.equal(call.hangupBy, 'callee');
    assert.ok(call.log.some((e) => e.type === 'callee-idle-hangup'));
  });
});

test('a stream URL that refuses the upgrade ends the Connect and the call', async () => {
  await rig({}, async ({ product, client, sim }) => {
    product.routes.set('/twiml', () => ({ body: product.streamTwiml('/reject') }));
    await client.calls.create({ to: TO, from: FROM, url: `${product.url}/twiml` });
    const call = await sim.waitForCall();
    await call.done;
    assert.ok(call.log.some((e) => e.type === 'stream-connect-failed'));
    assert.equal(call.status, 'completed');
  });
});

test('close() tears down a live call and leaves nothing running', async () => {
  const product = await new FakeProduct(TOKEN).start();
  const sim = await startTwilioSim({ accountSid: ACCOUNT, authToken: TOKEN, ringMs: 20 });
  try {
    product.routes.set('/twiml', () => ({ body: product.streamTwiml() }));
    await sdk(sim).calls.create({ to: TO, from: FROM, url: `${product.url}/twiml` });
    const sock = await product.waitSocket();
    await sock.waitEvent('media');
    const call = await sim.waitForCall();
    await sim.close();
    await call.done;
    assert.equal(call.hangupBy, 'sim-closed');
    await sock.waitClosed();
    await assert.rejects(sim.waitForCall(50), /closed/);
  } finally {
    await sim.close();
    await product.close();
  }
});

test('Messages.json: the SDK sends an SMS and gets the Message resource; missing or bad fields get Twilio\'s error codes', async () => {
  await rig({}, async ({ sim, client }) => {
    const m = await client.messages.create({ to: TO, from: FROM, body: 'Mild or hot?' });
    assert.match(m.sid, /^SM[0-9a-f]{32}$/);
    assert.equal(m.status, 'queued');
    assert.equal(m.direction, 'outbound-api');
    assert.equal(m.to, TO);
    assert.equal(m.body, 'Mild or hot?');
    assert.deepEqual(sim.messages.map((x) => [x.to, x.from, x.body]), [[TO, FROM, 'Mild or hot?']]);
    assert.equal((await sim.waitForMessage((x) => x.body.startsWith('Mild'))).sid, m.sid);
    const codes: number[] = [];
    // The SDK itself refuses a create without `to`; over plain HTTP it is Twilio's 21604.
    const raw = await fetch(`${sim.url}/2010-04-01/Accounts/${ACCOUNT}/Messages.json`, {
      method: 'POST',
      headers: { Authorization: 'Basic ' + Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64'), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ From: FROM, Body: 'x' }).toString(),
    });
    assert.equal(raw.status, 400);
    codes.push(((await raw.json()) as { code: number }).code);
    for (const params of [{ to: 'nope', from: FROM, body: 'x' }, { to: TO, body: 'x' }, { to: TO, from: FROM }, { to: TO, from: FROM, body: 'x'.repeat(1601) }]) {
      try {
        await client.messages.create(params as never);
        codes.push(0);
      } catch (err) {
        codes.push((err as { code: number }).code);
      }
    }
    assert.deepEqual(codes, [21604, 21211, 21603, 21602, 21617]);
    assert.equal(sim.messages.length, 1, 'refused messages are not sent');
  });
});

test('sendSms: a reply reaches the incoming-message webhook with the documented fields, signed; its TwiML comes back', async () => {
  await rig({}, async ({ sim, product }) => {
    product.routes.set('/sms', async () => ({ status: 200, body: '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Got it</Message></Response>' }));
    sim.incomingSmsUrl = `${product.url}/sms`;
    const r = await sim.sendSms({ from: TO, to: FROM, body: '1234 extra hot' });
    assert.equal(r.result.status, 200);
    assert.match(r.result.body, /<Message>Got it<\/Message>/);
    const hit = product.hitsTo('/sms')[0];
    assert.ok(hit.signatureValid, 'X-Twilio-Signature validates');
    assert.equal(hit.params.From, TO);
    assert.equal(hit.params.To, FROM);
    assert.equal(hit.params.Body, '1234 extra hot');
    assert.equal(hit.params.AccountSid, ACCOUNT);
    assert.match(hit.params.MessageSid, /^SM[0-9a-f]{32}$/);
    assert.equal(hit.params.SmsMessageSid, hit.params.MessageSid);
    assert.equal(hit.params.NumMedia, '0');
    assert.equal(hit.params.ApiVersion, '2010-04-01');
    assert.equal(sim.inboundMessages.length, 1);
  });
});

test('inbound: the SDK finds the number by PhoneNumber and sets its voice URL; a call to it fetches TwiML as Twilio does (Direction=inbound, ringing, signed), and only a live call can be recorded', async () => {
  await rig({ numbers: [FROM] }, async ({ sim, product, client }) => {
    const [n] = await client.incomingPhoneNumbers.list({ phoneNumber: FROM, limit: 1 });
    assert.equal(n.phoneNumber, FROM);
    assert.equal((await client.incomingPhoneNumbers.list({ phoneNumber: '+15550000000', limit: 1 })).length, 0);
    assert.throws(() => sim.placeInboundCall({ from: TO, to: FROM, script: { steps: [] } }), /no VoiceUrl/);
    const updated = await client.incomingPhoneNumbers(n.sid).update({ voiceUrl: `${product.url}/twiml`, voiceMethod: 'POST', statusCallback: `${product.url}/status`, statusCallbackMethod: 'POST' });
    assert.equal(updated.voiceUrl, `${product.url}/twiml`);
    assert.equal(updated.statusCallback, `${product.url}/status`);
    await assert.rejects(client.incomingPhoneNumbers(n.sid).update({ voiceUrl: 'not a url' }), (e: { code?: number }) => e.code === 21502);

    product.routes.set('/twiml', () => ({ body: product.streamTwiml('/media', { callId: 'in-1' }) }));
    const call = sim.placeInboundCall({ from: TO, to: FROM, script: { steps: [{ say: 'Hi there' }, { hangup: true }] } });
    const hit = await product.waitHit((h) => h.path === '/twiml');
    assert.ok(hit.signatureValid);
    assert.equal(hit.params.Direction, 'inbound');
    assert.equal(hit.params.CallStatus, 'ringing');
    assert.equal(hit.params.From, TO);
    assert.equal(hit.params.To, FROM);
    const socket = await product.waitSocket();
    await socket.waitEvent('start');
    // The Recordings resource of the live call: dual channels, reported like any recording.
    const rec = await client.calls(call.sid).recordings.create({ recordingChannels: 'dual', recordingStatusCallback: `${product.url}/recording`, recordingStatusCallbackEvent: ['completed'] });
    assert.match(rec.sid, /^RE[0-9a-f]{32}$/);
    await call.done;
    const status = product.hitsTo('/status');
    assert.deepEqual(status.map((h) => h.params.CallStatus), ['completed'], "a number's status callback gets only the final status");
    const recHit = product.hitsTo('/recording')[0];
    assert.equal(recHit?.params.RecordingSid, rec.sid);
    assert.equal(recHit?.params.RecordingSource, 'StartCallRecordingAPI');
    await assert.rejects(client.calls(call.sid).recordings.create({ recordingChannels: 'dual' }), (e: { code?: number }) => e.code === 21220);
  });
});
