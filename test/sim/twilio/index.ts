/**
 * Twilio simulator: REST API, webhooks, Media Streams and recordings on 127.0.0.1, speaking the real
 * wire protocols so the product runs unmodified against it. See README.md.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallRunner, type StoredRecording } from './call.js';
import { DEFAULT_SCRIPT } from './callee.js';
import { createRestHandler } from './rest.js';
import { encodeRecordingMp3 } from './mp3.js';
import type { CalleeScript, CreateParams, InboundCallOptions, SimCall, SimNumber, TwilioSim, TwilioSimOptions } from './types.js';
import { newSid } from './util.js';
import { Conferences } from './conference.js';
import { WebhookSender } from './webhooks.js';
import { Messaging } from './messages.js';

export type * from './types.js';
export { speech, speechPcm, tone, silence, GREETING_TEXT } from './callee-audio.js';
export { parseTwiml, parseXml, TwimlParseError } from './twiml.js';
export { mailbox, screeningAssistant, SCREENING_PROMPTS, SCREENING_HOLD, PERSON_PICKS_UP, SCREENER_TAKES_MESSAGE } from './scripts.js';

export async function startTwilioSim(opts: TwilioSimOptions): Promise<TwilioSim> {
  const calls: CallRunner[] = [];
  const recordings = new Map<string, StoredRecording>();
  let recordingFailuresLeft = opts.recordingFailures ?? 0;
  let returned = 0;
  const callWaiters: Array<() => void> = [];
  let baseUrl = '';
  let closed = false;

  const webhooks = new WebhookSender({
    authToken: opts.authToken,
    timeoutMs: opts.webhookTimeoutMs ?? 10000,
    retryDelayMs: opts.webhookRetryDelayMs ?? 100,
  });

  const hard = new AbortController();
  const conferences = new Conferences({
    accountSid: opts.accountSid,
    log: opts.log,
    send: (req) => void webhooks.send(req, hard.signal, (a) => opts.log?.(`[twilio-sim] conference webhook ${a.url} -> ${a.status ?? a.error}`)).catch(() => undefined),
  });
  const partyScript = (params: CreateParams) => (opts.script ? opts.script(params) : DEFAULT_SCRIPT);
  const messaging = new Messaging({ accountSid: opts.accountSid, webhooks });
  const inboundAbort = new AbortController();
  // A number is bought with no voice URL: calls to it reach no one until IncomingPhoneNumbers sets one.
  const numbers: SimNumber[] = (opts.numbers ?? []).map((phoneNumber) => ({ sid: newSid('PN'), phoneNumber, voiceUrl: '', voiceMethod: 'POST', statusCallback: '', statusCallbackMethod: 'POST', updates: [] }));

  const runCall = (params: CreateParams, script: CalleeScript): CallRunner => {
      const call = new CallRunner(
        {
          baseUrl,
          accountSid: opts.accountSid,
          authToken: opts.authToken,
          webhooks,
          ringMs: opts.ringMs ?? 200,
          idleHangupMs: opts.idleHangupMs ?? 60000,
          saveRecording: (rec) => recordings.set(rec.sid, rec),
          recordingProcessingMs: opts.recordingProcessingMs ?? 0,
          log: opts.log,
          conferences,
          partyScript,
        },
        params,
        script,
      );
      calls.push(call);
      opts.log?.(`[twilio-sim] call ${call.sid} created to ${params.To}`);
      call.start();
      for (const w of callWaiters.splice(0)) w();
      return call;
  };

  const handler = createRestHandler({
    messaging,
    accountSid: opts.accountSid,
    authToken: opts.authToken,
    baseUrl: () => baseUrl,
    calls: () => calls,
    numbers: () => numbers,
    createCall: (params) => runCall(params, partyScript(params)),
    recording: (sid) => recordings.get(sid),
    deleteRecording: (sid) => recordings.delete(sid),
    encodeMp3: opts.encodeMp3 ?? (async (left, right, channels) => encodeRecordingMp3(left, right, channels)),
    onRecordingDownloaded: opts.onRecordingDownloaded,
    createResponseDelayMs: (params) => {
      const d = opts.createResponseDelayMs;
      return typeof d === 'function' ? d(params) : (d ?? 0);
    },
    takeRecordingFailure: () => {
      if (recordingFailuresLeft <= 0) return false;
      recordingFailuresLeft--;
      return true;
    },
  });

  const server = http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  opts.log?.(`[twilio-sim] listening on ${baseUrl}`);

  return {
    url: baseUrl,
    calls,
    numbers,
    placeInboundCall(o: InboundCallOptions): SimCall {
      const n = numbers.find((x) => x.phoneNumber === o.to);
      if (!n) throw new Error(`${o.to} is not one of the account's numbers`);
      if (!n.voiceUrl) throw new Error(`${o.to} has no VoiceUrl: configure it through IncomingPhoneNumbers first`);
      // The number's configuration in CreateParams' terms: its voice webhook is the call's TwiML URL,
      // and its StatusCallback gets only the final status (no StatusCallbackEvent on a number).
      const params: CreateParams = {
        To: n.phoneNumber,
        From: o.from,
        Url: n.voiceUrl,
        Method: n.voiceMethod,
        StatusCallback: n.statusCallback || undefined,
        StatusCallbackMethod: n.statusCallbackMethod,
        StatusCallbackEvent: [],
        RecordingStatusCallbackEvent: [],
        Direction: 'inbound',
        raw: {},
      };
      return runCall(params, o.script);
    },
    conferences: conferences.all,
    messages: messaging.sent,
    inboundMessages: messaging.received,
    set incomingSmsUrl(url: string | undefined) {
      messaging.incomingUrl = url;
    },
    get incomingSmsUrl() {
      return messaging.incomingUrl;
    },
    waitForMessage: (pred, timeoutMs) => messaging.waitForMessage(pred, timeoutMs),
    sendSms: (m) => messaging.deliverInbound(m, inboundAbort.signal),
    failRecordings(n: number): void {
      recordingFailuresLeft += n;
    },
    async waitForCall(timeoutMs = 5000): Promise<SimCall> {
      const deadline = Date.now() + timeoutMs;
      while (returned >= calls.length) {
        if (closed) throw new Error('twilio sim closed');
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no call was created within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, left);
          function done(): void {
            clearTimeout(t);
            const i = callWaiters.indexOf(done);
            if (i >= 0) callWaiters.splice(i, 1);
            resolve();
          }
          callWaiters.push(done);
        });
      }
      return calls[returned++];
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      inboundAbort.abort();
      for (const w of callWaiters.splice(0)) w();
      hard.abort();
      for (const c of calls) c.shutdown();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
