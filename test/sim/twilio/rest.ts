/**
 * The slice of Twilio's 2010-04-01 REST API the product uses: Calls (create, fetch, update, list), a
 * call's Recordings (start, list), Recordings (media download) and Messages (send an SMS, see messages.ts). Responses mirror Twilio's JSON and error bodies so the official SDK
 * parses them, and raises RestException, exactly as against api.twilio.com.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallRunner, StoredRecording } from './call.js';
import type { CreateParams, SimNumber } from './types.js';
import { isDialable, newSid, rfc2822, sleep } from './util.js';
import { encodeWav } from './mp3.js';
import { mulawDecode } from '../../../src/media/mulaw.js';
import type { Messaging } from './messages.js';

export interface RestDeps {
  accountSid: string;
  authToken: string;
  baseUrl: () => string;
  calls: () => CallRunner[];
  createCall: (params: CreateParams) => CallRunner;
  /** The account's phone numbers (IncomingPhoneNumbers). */
  numbers: () => SimNumber[];
  recording: (sid: string) => StoredRecording | undefined;
  deleteRecording: (sid: string) => boolean;
  /** True while injected recording download failures remain. */
  takeRecordingFailure: () => boolean;
  /** Encodes a recording's MP3 from its mu-law channels. */
  encodeMp3: (left: Uint8Array, right: Uint8Array, channels: 1 | 2) => Promise<Uint8Array>;
  /** A recording's media was sent in full. */
  onRecordingDownloaded?: (sid: string) => void;
  /** How long to hold back the response to `POST Calls.json` while the call goes on (default 0). */
  createResponseDelayMs?: (params: CreateParams) => number;
  /** Programmable Messaging (SMS). */
  messaging: Messaging;
}

const API = '/2010-04-01';
const MAX_BODY = 1 << 20;

export function createRestHandler(deps: RestDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(deps, req, res).catch((e: unknown) => {
      if (!res.headersSent) sendError(res, 500, 20500, `Internal Server Error: ${String(e)}`);
      else res.destroy();
    });
  };
}

async function handle(deps: RestDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  const body = method === 'POST' ? await readBody(req) : '';

  const account = /^\/2010-04-01\/Accounts\/([^/]+)\//.exec(path);
  if (!account) return sendError(res, 404, 20404, `The requested resource ${path} was not found`);
  if (!authorized(deps, req)) {
    res.setHeader('WWW-Authenticate', 'Basic realm="Twilio API"');
    return sendError(res, 401, 20003, 'Authenticate');
  }
  if (account[1] !== deps.accountSid) return sendError(res, 404, 20404, `The requested resource ${path} was not found`);
  const base = `${API}/Accounts/${deps.accountSid}`;
  const rest = path.slice(base.length);

  if (rest === '/Calls.json') {
    if (method === 'POST') return createCall(deps, new URLSearchParams(body), res);
    if (method === 'GET') return listCalls(deps, url, res);
    return sendError(res, 405, 20004, 'Method not allowed');
  }
  if (rest === '/Messages.json') {
    if (method === 'POST') return deps.messaging.create(new URLSearchParams(body), res, sendJson, sendError);
    return sendError(res, 405, 20004, 'Method not allowed');
  }
  const callMatch = /^\/Calls\/(CA[0-9a-f]{32})\.json$/.exec(rest);
  if (callMatch) {
    const call = deps.calls().find((c) => c.sid === callMatch[1]);
    if (!call) return sendError(res, 404, 20404, `The requested resource ${path} was not found`);
    if (method === 'GET') return sendJson(res, 200, callResource(call));
    if (method === 'POST') {
      const err = call.update(new URLSearchParams(body));
      if (err) return sendError(res, err.status, err.code, err.message);
      return sendJson(res, 200, callResource(call));
    }
    return sendError(res, 405, 20004, 'Method not allowed');
  }
  const callRecMatch = /^\/Calls\/(CA[0-9a-f]{32})\/Recordings\.json$/.exec(rest);
  if (callRecMatch) {
    const call = deps.calls().find((c) => c.sid === callRecMatch[1]);
    if (!call) return sendError(res, 404, 20404, `The requested resource ${path} was not found`);
    if (method === 'GET') return sendJson(res, 200, callRecordingsPage(deps, call));
    if (method !== 'POST') return sendError(res, 405, 20004, 'Method not allowed');
    const r = call.startRecording(new URLSearchParams(body));
    if ('status' in r) return sendError(res, r.status, r.code, r.message);
    return sendJson(res, 201, callRecordingResource(deps, call, r.sid));
  }
  if (rest === '/IncomingPhoneNumbers.json') {
    if (method !== 'GET') return sendError(res, 405, 20004, 'Method not allowed');
    const want = url.searchParams.get('PhoneNumber');
    const found = deps.numbers().filter((n) => !want || n.phoneNumber === want);
    const uri = `${API}/Accounts/${deps.accountSid}/IncomingPhoneNumbers.json?PageSize=50&Page=0`;
    return sendJson(res, 200, { incoming_phone_numbers: found.map((n) => numberResource(deps, n)), end: Math.max(0, found.length - 1), first_page_uri: uri, next_page_uri: null, page: 0, page_size: 50, previous_page_uri: null, start: 0, uri });
  }
  const numMatch = /^\/IncomingPhoneNumbers\/(PN[0-9a-f]{32})\.json$/.exec(rest);
  if (numMatch) {
    const n = deps.numbers().find((x) => x.sid === numMatch[1]);
    if (!n) return sendError(res, 404, 20404, `The requested resource ${path} was not found`);
    if (method === 'GET') return sendJson(res, 200, numberResource(deps, n));
    if (method !== 'POST') return sendError(res, 405, 20004, 'Method not allowed');
    const form = new URLSearchParams(body);
    for (const k of ['VoiceUrl', 'StatusCallback']) {
      const v = form.get(k);
      if (v && !/^https?:\/\/\S+$/.test(v)) return sendError(res, 400, 21502, `${k} is not valid: ${v}`);
    }
    const m = form.get('VoiceMethod');
    if (m && m !== 'GET' && m !== 'POST') return sendError(res, 400, 21502, `VoiceMethod must be GET or POST`);
    n.updates.push(Object.fromEntries(form));
    if (form.has('VoiceUrl')) n.voiceUrl = form.get('VoiceUrl')!;
    if (form.has('VoiceMethod')) n.voiceMethod = form.get('VoiceMethod')!;
    if (form.has('StatusCallback')) n.statusCallback = form.get('StatusCallback')!;
    if (form.has('StatusCallbackMethod')) n.statusCallbackMethod = form.get('StatusCallbackMethod')!;
    return sendJson(res, 200, numberResource(deps, n));
  }
  const recMatch = /^\/Recordings\/(RE[0-9a-f]{32})(\.mp3|\.wav|\.json)?$/.exec(rest);
  if (recMatch) return recording(deps, method, recMatch[1], recMatch[2] ?? '', path, res);
  return sendError(res, 404, 20404, `The requested resource ${path} was not found`);
}

function authorized(deps: RestDeps, req: IncomingMessage): boolean {
  const h = req.headers.authorization ?? '';
  const m = /^Basic\s+(\S+)$/i.exec(h);
  if (!m) return false;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i > 0 && decoded.slice(0, i) === deps.accountSid && decoded.slice(i + 1) === deps.authToken;
}

async function createCall(deps: RestDeps, form: URLSearchParams, res: ServerResponse): Promise<void> {
  const to = form.get('To') ?? '';
  const from = form.get('From') ?? '';
  if (!isDialable(to)) return sendError(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
  if (!isDialable(from)) return sendError(res, 400, 21212, `The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`);
  const twimlUrl = form.get('Url');
  if (!form.get('Twiml') && !twimlUrl) return sendError(res, 400, 21205, 'Url parameter is required.');
  if (twimlUrl && !/^https?:\/\/\S+$/.test(twimlUrl)) return sendError(res, 400, 21205, `Url is not a valid URL: ${twimlUrl}`);
  const params = toCreateParams(form);
  const call = deps.createCall(params);
  // The resource as it was at creation ("queued"), whenever the response leaves.
  const created = callResource(call);
  const delayMs = deps.createResponseDelayMs?.(params) ?? 0;
  // Held back, the response lets the call's webhooks, TwiML fetch and media stream reach the product
  // first, as a slow API response or a fast answer does on Twilio (see README).
  if (delayMs > 0) await sleep(delayMs);
  call.noteCreateResponse(delayMs);
  sendJson(res, 201, created);
}

export function toCreateParams(form: URLSearchParams): CreateParams {
  const raw: Record<string, string | string[]> = {};
  for (const key of new Set(form.keys())) {
    const all = form.getAll(key);
    raw[key] = all.length === 1 ? all[0] : all;
  }
  const get = (k: string): string | undefined => form.get(k) ?? undefined;
  // The SDK repeats the field; curl users often send one space-separated value. Accept both.
  const events = (k: string): string[] => form.getAll(k).flatMap((v) => v.split(/[\s,]+/).filter(Boolean));
  return {
    To: form.get('To')!,
    From: form.get('From')!,
    Url: get('Url'),
    Twiml: get('Twiml'),
    Method: get('Method'),
    StatusCallback: get('StatusCallback'),
    StatusCallbackMethod: get('StatusCallbackMethod'),
    StatusCallbackEvent: events('StatusCallbackEvent'),
    MachineDetection: get('MachineDetection'),
    MachineDetectionTimeout: get('MachineDetectionTimeout'),
    MachineDetectionSpeechThreshold: get('MachineDetectionSpeechThreshold'),
    MachineDetectionSpeechEndThreshold: get('MachineDetectionSpeechEndThreshold'),
    MachineDetectionSilenceTimeout: get('MachineDetectionSilenceTimeout'),
    AsyncAmd: get('AsyncAmd'),
    AsyncAmdStatusCallback: get('AsyncAmdStatusCallback'),
    AsyncAmdStatusCallbackMethod: get('AsyncAmdStatusCallbackMethod'),
    Record: get('Record'),
    RecordingChannels: get('RecordingChannels'),
    RecordingStatusCallback: get('RecordingStatusCallback'),
    RecordingStatusCallbackMethod: get('RecordingStatusCallbackMethod'),
    RecordingStatusCallbackEvent: events('RecordingStatusCallbackEvent'),
    Timeout: get('Timeout'),
    TimeLimit: get('TimeLimit'),
    raw,
  };
}

/** An IncomingPhoneNumber as Twilio returns it (the fields the SDK maps; capabilities for a voice number). */
function numberResource(deps: RestDeps, n: SimNumber): Record<string, unknown> {
  const now = rfc2822(new Date());
  return {
    account_sid: deps.accountSid,
    address_requirements: 'none',
    api_version: '2010-04-01',
    beta: false,
    capabilities: { voice: true, sms: true, mms: false, fax: false },
    date_created: now,
    date_updated: now,
    friendly_name: n.phoneNumber,
    phone_number: n.phoneNumber,
    origin: 'twilio',
    sid: n.sid,
    sms_method: 'POST',
    sms_url: '',
    status_callback: n.statusCallback,
    status_callback_method: n.statusCallbackMethod,
    voice_caller_id_lookup: false,
    voice_fallback_method: 'POST',
    voice_fallback_url: null,
    voice_method: n.voiceMethod,
    voice_url: n.voiceUrl,
    voice_receive_mode: 'voice',
    status: 'in-use',
    uri: `${API}/Accounts/${deps.accountSid}/IncomingPhoneNumbers/${n.sid}.json`,
  };
}

/**
 * A call's Recording resource: the one `POST Calls/{sid}/Recordings.json` creates (in progress until the
 * call ends) and each entry of `GET Calls/{sid}/Recordings.json`. Duration is -1 until it is completed.
 */
function callRecordingResource(deps: RestDeps, call: CallRunner, sid: string): Record<string, unknown> {
  const stored = call.recordingStatus === 'completed' ? deps.recording(sid) : undefined;
  const created = rfc2822(call.startTime ?? call.dateCreated);
  return {
    account_sid: deps.accountSid,
    api_version: '2010-04-01',
    call_sid: call.sid,
    conference_sid: null,
    channels: call.params.RecordingChannels === 'mono' ? 1 : 2,
    date_created: created,
    date_updated: stored ? rfc2822(stored.dateCreated) : created,
    start_time: created,
    duration: stored ? String(stored.durationSec) : '-1',
    price: null,
    price_unit: 'USD',
    sid,
    source: call.recordingSource ?? 'OutboundAPI',
    status: call.recordingStatus ?? 'in-progress',
    error_code: null,
    encryption_details: null,
    track: 'both',
    uri: `${API}/Accounts/${deps.accountSid}/Calls/${call.sid}/Recordings/${sid}.json`,
  };
}

/** `GET Calls/{sid}/Recordings.json`: one page; a deleted recording is no longer listed. */
function callRecordingsPage(deps: RestDeps, call: CallRunner): Record<string, unknown> {
  const sid = call.recordingSid;
  const listed = sid && call.recordingStatus && (call.recordingStatus !== 'completed' || deps.recording(sid)) ? [callRecordingResource(deps, call, sid)] : [];
  const uri = `${API}/Accounts/${deps.accountSid}/Calls/${call.sid}/Recordings.json?PageSize=50&Page=0`;
  return { recordings: listed, end: Math.max(0, listed.length - 1), first_page_uri: uri, next_page_uri: null, page: 0, page_size: 50, previous_page_uri: null, start: 0, uri };
}

export function callResource(call: CallRunner): Record<string, unknown> {
  const uri = callUri(call);
  return {
    account_sid: call.accountSid,
    annotation: null,
    answered_by: call.amdEnabled && call.startTime ? call.answeredBy : null,
    api_version: '2010-04-01',
    caller_name: null,
    date_created: rfc2822(call.dateCreated),
    date_updated: rfc2822(call.dateUpdated),
    direction: call.params.Direction ?? 'outbound-api',
    duration: call.durationSec === null ? null : String(call.durationSec),
    end_time: call.endTime ? rfc2822(call.endTime) : null,
    forwarded_from: null,
    from: call.params.From,
    from_formatted: call.params.From,
    group_sid: null,
    parent_call_sid: null,
    phone_number_sid: null,
    price: call.price,
    price_unit: 'USD',
    queue_time: '0',
    sid: call.sid,
    start_time: call.startTime ? rfc2822(call.startTime) : null,
    status: call.status,
    subresource_uris: {
      feedback: uri.replace(/\.json$/, '/Feedback.json'),
      notifications: uri.replace(/\.json$/, '/Notifications.json'),
      recordings: uri.replace(/\.json$/, '/Recordings.json'),
      streams: uri.replace(/\.json$/, '/Streams.json'),
      payments: uri.replace(/\.json$/, '/Payments.json'),
      user_defined_message_subscriptions: uri.replace(/\.json$/, '/UserDefinedMessageSubscriptions.json'),
      user_defined_messages: uri.replace(/\.json$/, '/UserDefinedMessages.json'),
      events: uri.replace(/\.json$/, '/Events.json'),
      siprec: uri.replace(/\.json$/, '/Siprec.json'),
    },
    to: call.params.To,
    to_formatted: call.params.To,
    trunk_sid: null,
    uri,
  };
}

function callUri(call: CallRunner): string {
  return `${API}/Accounts/${call.accountSid}/Calls/${call.sid}.json`;
}

function listCalls(deps: RestDeps, url: URL, res: ServerResponse): void {
  const status = url.searchParams.get('Status');
  const to = url.searchParams.get('To');
  const calls = deps
    .calls()
    .filter((c) => (!status || c.status === status) && (!to || c.params.To === to))
    .reverse();
  const uri = `${API}/Accounts/${deps.accountSid}/Calls.json?PageSize=50&Page=0`;
  sendJson(res, 200, {
    calls: calls.map(callResource),
    end: Math.max(0, calls.length - 1),
    first_page_uri: uri,
    next_page_uri: null,
    page: 0,
    page_size: 50,
    previous_page_uri: null,
    start: 0,
    uri,
  });
}

async function recording(
  deps: RestDeps,
  method: string,
  sid: string,
  ext: string,
  path: string,
  res: ServerResponse,
): Promise<void> {
  const rec = deps.recording(sid);
  if (!rec) return sendError(res, 404, 20404, `The requested resource ${path} was not found`);
  if (method === 'DELETE') {
    deps.deleteRecording(sid);
    res.writeHead(204).end();
    return;
  }
  if (method !== 'GET') return sendError(res, 405, 20004, 'Method not allowed');
  if (ext === '.json') {
    return sendJson(res, 200, {
      account_sid: deps.accountSid,
      api_version: '2010-04-01',
      call_sid: rec.callSid,
      channels: rec.channels,
      conference_sid: null,
      date_created: rfc2822(rec.dateCreated),
      date_updated: rfc2822(rec.dateCreated),
      duration: String(rec.durationSec),
      encryption_details: null,
      error_code: null,
      media_url: `${deps.baseUrl()}${API}/Accounts/${deps.accountSid}/Recordings/${sid}`,
      price: null,
      price_unit: 'USD',
      sid,
      source: 'OutboundAPI',
      start_time: rfc2822(rec.startTime),
      status: 'completed',
      track: 'both',
      uri: `${API}/Accounts/${deps.accountSid}/Recordings/${sid}.json`,
    });
  }
  if (deps.takeRecordingFailure()) return sendError(res, 500, 20500, 'Internal Server Error');
  // Twilio serves WAV when no extension is given.
  const mp3 = ext === '.mp3';
  const data = mp3 ? await recordingMp3(deps, rec) : encodeWav(mulawDecode(rec.left), mulawDecode(rec.right), rec.channels);
  res.writeHead(200, {
    'Content-Type': mp3 ? 'audio/mpeg' : 'audio/x-wav',
    'Content-Length': String(data.length),
  });
  res.end(data, () => deps.onRecordingDownloaded?.(sid));
}

/** Encoded once, on the first download; a failed encoding is not kept, so a retry encodes again. */
function recordingMp3(deps: RestDeps, rec: StoredRecording): Promise<Uint8Array> {
  rec.mp3 ??= deps.encodeMp3(rec.left, rec.right, rec.channels).catch((e: unknown) => {
    rec.mp3 = undefined;
    throw e;
  });
  return rec.mp3;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Twilio-Request-Id': newSid('RQ'),
  });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
