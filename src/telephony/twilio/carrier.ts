import twilio from 'twilio';
import type { Carrier, CarrierPrice, CarrierRecording, DialRequest, NumberConfiguration, TransferLegRequest } from '../carrier.js';
import { CarrierError } from '../carrier.js';
import { RebasedRequestClient } from './rest-client.js';
import { TwilioRest } from './rest-api.js';
import { mediaStreamUrl, numberUrls, transferLegUrls, webhookUrls } from './urls.js';
import { conferenceTwiml, dialTwiml, digitsThenStreamTwiml } from './twiml.js';

export interface TwilioCarrierOptions {
  accountSid: string;
  authToken: string;
  apiUrl: string;
}

interface CallResource {
  sid: string;
  price?: string | null;
  price_unit?: string | null;
  duration?: string | null;
}

/** A call's Recording as the Call Recordings list returns it (https://www.twilio.com/docs/voice/api/recording). */
interface RecordingResource {
  sid: string;
  status: string;
  error_code?: number | null;
}

const RECORDING_STATUSES: ReadonlySet<string> = new Set<CarrierRecording['status']>(['in-progress', 'paused', 'stopped', 'processing', 'completed', 'absent']);

/**
 * Twilio REST call control. What a live call does (dial, update, hang up, price, recording, message) goes
 * through rest-api.ts, light on the event loop that carries live audio; setting up a number goes through
 * the official SDK. No media here: see media-stream.ts and routes.ts.
 */
export class TwilioCarrier implements Carrier {
  readonly name = 'twilio';
  private sdk?: twilio.Twilio;
  private readonly rest: TwilioRest;

  constructor(private readonly opts: TwilioCarrierOptions) {
    this.rest = new TwilioRest(opts.apiUrl, opts.accountSid, opts.authToken);
  }

  /** The SDK, for the set-up requests only (it loads its REST resources on first use). */
  private get client(): twilio.Twilio {
    this.sdk ??= twilio(this.opts.accountSid, this.opts.authToken, { httpClient: new RebasedRequestClient(this.opts.apiUrl), autoRetry: true, maxRetries: 2 });
    return this.sdk;
  }

  private updateCall(carrierCallId: string, params: Record<string, string>): Promise<CallResource> {
    return this.rest.post<CallResource>(`/Calls/${encodeURIComponent(carrierCallId)}.json`, params);
  }

  async dial(req: DialRequest): Promise<{ carrierCallId: string }> {
    const urls = webhookUrls(req.publicUrl, req.callId);
    try {
      const call = await this.rest.post<CallResource>('/Calls.json', {
        To: req.to,
        From: req.from,
        Url: urls.voice,
        Method: 'POST',
        StatusCallback: urls.status,
        StatusCallbackMethod: 'POST',
        StatusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
        // DetectMessageEnd waits for the beep, so a voicemail verdict lands where a message could start;
        // async keeps the call flowing (the stream opens at once) while AMD listens.
        MachineDetection: 'DetectMessageEnd',
        AsyncAmd: 'true',
        AsyncAmdStatusCallback: urls.amd,
        AsyncAmdStatusCallbackMethod: 'POST',
        MachineDetectionSpeechEndThreshold: req.amdSpeechEndThresholdMs,
        TimeLimit: req.timeLimitSec,
        Timeout: 30,
        ...(req.record
          ? { Record: true, RecordingChannels: 'dual', RecordingStatusCallback: urls.recording, RecordingStatusCallbackMethod: 'POST', RecordingStatusCallbackEvent: ['completed'] }
          : {}),
      });
      return { carrierCallId: call.sid };
    } catch (err) {
      throw toCarrierError(err, 'dial');
    }
  }

  async hangup(carrierCallId: string): Promise<void> {
    try {
      await this.updateCall(carrierCallId, { Status: 'completed' });
    } catch (err) {
      const e = toCarrierError(err, 'hangup');
      // 21220: the call is not in progress any more; the goal (no live call) is met.
      if (e.code === 21220 || e.status === 404) return;
      throw e;
    }
  }

  recordingSource(recordingId: string): { url: string; headers: Record<string, string> } {
    if (!/^RE[0-9a-fA-F]{32}$/.test(recordingId)) throw new CarrierError('invalid recording id', false);
    const base = this.opts.apiUrl.replace(/\/+$/, '');
    return {
      url: `${base}/2010-04-01/Accounts/${this.opts.accountSid}/Recordings/${recordingId}.mp3`,
      headers: { Authorization: 'Basic ' + Buffer.from(`${this.opts.accountSid}:${this.opts.authToken}`).toString('base64') },
    };
  }

  async playDigits(carrierCallId: string, digits: string, stream: { publicUrl: string; params: Record<string, string> }): Promise<void> {
    // <Play digits> is documented for digits and w; a TwiML error on a live call would drop the call, so
    // anything else (the A-D keys) is refused here rather than sent.
    if (!/^[0-9*#w]+$/.test(digits)) throw new CarrierError(`Twilio <Play digits> cannot play "${digits}": only 0-9, *, # and w`, false);
    try {
      await this.updateCall(carrierCallId, { Twiml: digitsThenStreamTwiml(digits, mediaStreamUrl(stream.publicUrl), stream.params) });
    } catch (err) {
      throw toCarrierError(err, 'playDigits');
    }
  }

  async transfer(carrierCallId: string, to: string, opts: { callerId: string; ringTimeoutSec: number }): Promise<void> {
    try {
      // New TwiML on a live call ends the running <Connect><Stream> (our side gets `stop`) and runs <Dial>.
      await this.updateCall(carrierCallId, { Twiml: dialTwiml(to, opts.callerId, opts.ringTimeoutSec) });
    } catch (err) {
      throw toCarrierError(err, 'transfer');
    }
  }

  async dialTransferLeg(req: TransferLegRequest): Promise<{ carrierCallId: string }> {
    const urls = transferLegUrls(req.publicUrl, req.callId);
    try {
      const call = await this.rest.post<CallResource>('/Calls.json', {
        To: req.to,
        From: req.from,
        Url: urls.answered,
        Method: 'POST',
        StatusCallback: urls.status,
        StatusCallbackMethod: 'POST',
        StatusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
        // Synchronous detection: the TwiML request carries AnsweredBy, so a voicemail greeting is never
        // briefed and never joined to the callee.
        MachineDetection: 'Enable',
        Timeout: req.ringTimeoutSec,
      });
      return { carrierCallId: call.sid };
    } catch (err) {
      throw toCarrierError(err, 'dialTransferLeg');
    }
  }

  async joinRoom(carrierCallId: string, room: string): Promise<void> {
    try {
      await this.updateCall(carrierCallId, { Twiml: conferenceTwiml(room) });
    } catch (err) {
      throw toCarrierError(err, 'joinRoom');
    }
  }

  async sendMessage(msg: { to: string; from: string; body: string }): Promise<{ messageId: string }> {
    try {
      const m = await this.rest.post<{ sid: string }>('/Messages.json', { To: msg.to, From: msg.from, Body: msg.body });
      return { messageId: m.sid };
    } catch (err) {
      throw toCarrierError(err, 'sendMessage');
    }
  }

  async startRecording(carrierCallId: string, opts: { callId: string; publicUrl: string }): Promise<void> {
    try {
      // The Recordings resource of a call in progress; the same dual channels and callback as a dial's.
      await this.rest.post(`/Calls/${encodeURIComponent(carrierCallId)}/Recordings.json`, {
        RecordingChannels: 'dual',
        RecordingStatusCallback: webhookUrls(opts.publicUrl, opts.callId).recording,
        RecordingStatusCallbackMethod: 'POST',
        RecordingStatusCallbackEvent: ['completed'],
      });
    } catch (err) {
      throw toCarrierError(err, 'startRecording');
    }
  }

  async configureNumber(number: string, publicUrl: string): Promise<NumberConfiguration> {
    const urls = numberUrls(publicUrl);
    let sid: string | undefined;
    try {
      sid = (await this.client.incomingPhoneNumbers.list({ phoneNumber: number, limit: 1 }))[0]?.sid;
    } catch (err) {
      throw toCarrierError(err, 'configureNumber');
    }
    if (!sid) throw new CarrierError('the number is not one of this Twilio account\'s phone numbers (IncomingPhoneNumbers)', false, 404);
    try {
      const n = await this.client.incomingPhoneNumbers(sid).update({ voiceUrl: urls.voice, voiceMethod: 'POST', statusCallback: urls.status, statusCallbackMethod: 'POST' });
      return { numberId: n.sid, voiceUrl: n.voiceUrl, voiceMethod: n.voiceMethod, statusCallback: n.statusCallback ?? null };
    } catch (err) {
      throw toCarrierError(err, 'configureNumber');
    }
  }

  async callPrice(carrierCallId: string): Promise<CarrierPrice | undefined> {
    try {
      const c = await this.rest.get<CallResource>(`/Calls/${encodeURIComponent(carrierCallId)}.json`);
      return { price: c.price === null || c.price === undefined ? null : Number(c.price), unit: c.price_unit ?? null, durationSec: c.duration ? Number(c.duration) : null };
    } catch {
      return undefined;
    }
  }

  async callRecordings(carrierCallId: string): Promise<CarrierRecording[]> {
    let page: { recordings?: RecordingResource[] };
    try {
      // One page (50): a call has one recording, two at most (dialled with Record, then started again).
      page = await this.rest.get(`/Calls/${encodeURIComponent(carrierCallId)}/Recordings.json`);
    } catch (err) {
      throw toCarrierError(err, 'callRecordings');
    }
    return (page.recordings ?? []).map((r) => ({
      recordingId: r.sid,
      // A status this code does not know yet is taken for "not ready": waited for, never fetched early.
      status: RECORDING_STATUSES.has(r.status) ? (r.status as CarrierRecording['status']) : 'processing',
      ...(typeof r.error_code === 'number' ? { errorCode: r.error_code } : {}),
    }));
  }
}

function toCarrierError(err: unknown, op: string): CarrierError {
  const e = err as { status?: number; code?: number; message?: string };
  const status = typeof e.status === 'number' ? e.status : undefined;
  const retryable = status === undefined || status >= 500 || status === 429;
  return new CarrierError(`Twilio ${op} failed${status ? ` (HTTP ${status}${e.code ? `, code ${e.code}` : ''})` : ''}: ${e.message ?? String(err)}`, retryable, status, e.code);
}
