/**
 * Programmable Messaging, the slice the product uses: `POST /2010-04-01/Accounts/{sid}/Messages.json`
 * (send an SMS) and the incoming-message webhook a reply to that SMS produces. Fields, statuses and error
 * codes follow Twilio's Message resource and incoming-message webhook docs (see README.md).
 */
import type { ServerResponse } from 'node:http';
import { E164, newSid, rfc2822 } from './util.js';
import type { WebhookResult, WebhookSender } from './webhooks.js';

/** An SMS the product sent through the simulator. */
export interface SimMessage {
  sid: string;
  to: string;
  from: string;
  body: string;
  statusCallback?: string;
  createdAt: number;
}

/** An SMS the simulator delivered to the product's incoming-message webhook (someone replied). */
export interface SimInboundMessage {
  sid: string;
  from: string;
  to: string;
  body: string;
  url: string;
  result: WebhookResult;
}

/** Twilio's own limit: a body longer than 1600 characters is refused (error 21617). */
const MAX_BODY_CHARS = 1600;

export type RestErrorSender = (res: ServerResponse, status: number, code: number, message: string) => void;
export type RestJsonSender = (res: ServerResponse, status: number, body: unknown) => void;

export class Messaging {
  readonly sent: SimMessage[] = [];
  readonly received: SimInboundMessage[] = [];
  /** The messaging webhook configured on the account's numbers (a number's SmsUrl in the Console). */
  incomingUrl?: string;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly o: { accountSid: string; webhooks: WebhookSender }) {}

  /** `POST Messages.json`: validated like Twilio, answered with the Message resource (status `queued`). */
  create(form: URLSearchParams, res: ServerResponse, sendJson: RestJsonSender, sendError: RestErrorSender): void {
    const to = form.get('To') ?? '';
    const from = form.get('From') ?? '';
    const body = form.get('Body') ?? '';
    if (!to) return sendError(res, 400, 21604, "A 'To' phone number is required.");
    if (!E164.test(to)) return sendError(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!from && !form.get('MessagingServiceSid')) return sendError(res, 400, 21603, "A 'From' phone number is required.");
    if (from && !E164.test(from)) return sendError(res, 400, 21212, `The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`);
    if (!body && !form.get('MediaUrl')) return sendError(res, 400, 21602, 'Message body is required.');
    if (body.length > MAX_BODY_CHARS) return sendError(res, 400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    const msg: SimMessage = { sid: newSid('SM'), to, from, body, statusCallback: form.get('StatusCallback') ?? undefined, createdAt: Date.now() };
    this.sent.push(msg);
    this.notify();
    sendJson(res, 201, this.resource(msg));
  }

  /** Resolves with the first sent message matching `pred` (already sent ones count). */
  waitForMessage(pred: (m: SimMessage) => boolean = () => true, timeoutMs = 5000): Promise<SimMessage> {
    const found = this.sent.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.sent.find(pred);
        if (!m) return;
        done();
        resolve(m);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching SMS was sent within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  /**
   * Someone texts one of the account's numbers: Twilio POSTs the incoming-message webhook (form fields
   * as documented, signed with X-Twilio-Signature) and reads the TwiML the product answers with.
   */
  async deliverInbound(m: { from: string; to: string; body: string; url?: string }, signal: AbortSignal): Promise<SimInboundMessage> {
    const url = m.url ?? this.incomingUrl;
    if (!url) throw new Error('no incoming-message webhook configured: set incomingSmsUrl');
    const sid = newSid('SM');
    const params: Record<string, string> = {
      ToCountry: 'US',
      ToState: 'CA',
      SmsMessageSid: sid,
      NumMedia: '0',
      SmsSid: sid,
      SmsStatus: 'received',
      Body: m.body,
      FromCountry: 'US',
      To: m.to,
      NumSegments: '1',
      MessageSid: sid,
      AccountSid: this.o.accountSid,
      From: m.from,
      ApiVersion: '2010-04-01',
    };
    const result = await this.o.webhooks.send({ kind: 'sms', url, params }, signal, () => undefined);
    const rec: SimInboundMessage = { sid, from: m.from, to: m.to, body: m.body, url, result };
    this.received.push(rec);
    return rec;
  }

  private resource(m: SimMessage): Record<string, unknown> {
    const created = rfc2822(new Date(m.createdAt));
    const uri = `/2010-04-01/Accounts/${this.o.accountSid}/Messages/${m.sid}.json`;
    return {
      account_sid: this.o.accountSid,
      api_version: '2010-04-01',
      body: m.body,
      date_created: created,
      date_sent: null,
      date_updated: created,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: m.from,
      messaging_service_sid: null,
      num_media: '0',
      num_segments: String(Math.max(1, Math.ceil(m.body.length / 153))),
      price: null,
      price_unit: 'USD',
      sid: m.sid,
      status: 'queued',
      subresource_uris: { media: uri.replace(/\.json$/, '/Media.json') },
      to: m.to,
      uri,
    };
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}
