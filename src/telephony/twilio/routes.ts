import { z } from 'zod';
import { sendError } from '../../server/errors.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CarrierEvent, IncomingCall, IncomingCallAnswer, InboundMessage, TransferLegHandler } from '../carrier.js';
import { handleMediaSocket, type StreamAuthorizer } from './media-connection.js';
import { streamTwiml, hangupTwiml, briefTwiml, conferenceTwiml, messageTwiml, sayThenHangupTwiml } from './twiml.js';
import { mediaStreamUrl, transferLegUrls } from './urls.js';
import { documented } from '../../server/openapi.js';
import { amdSchema, inboundMessageSchema, legAnsweredSchema, recordingSchema, statusSchema, voiceDocSchema, voiceSchema } from './webhooks.js';
import { isValidSignature, parseIncomingVoiceWebhook, parseLegAnsweredWebhook, parseAmdWebhook, parseInboundMessageWebhook, parseRecordingWebhook, parseStatusWebhook, parseVoiceWebhook, WebhookError, type ParsedWebhook } from './webhooks.js';
import { MalformedEncodingError, parseFormBody } from '../../server/url-encoding.js';

export interface TwilioRouteHandlers {
  /** Stream parameters for a call Twilio asks TwiML for; undefined if the call is unknown or over. */
  streamParamsFor(callId: string, carrierCallId: string): Record<string, string> | undefined;
  /** Applies a callback; resolves once applied (or dropped as a duplicate). A rejection is answered 500, so the carrier retries. */
  onCarrierEvent(callId: string, carrierCallId: string, event: CarrierEvent, dedupeKey: string): void | Promise<void>;
  authorizeStream: StreamAuthorizer;
  /** Warm-transfer legs (the call to the owner). */
  transferLeg?: TransferLegHandler;
  /** A text message to one of our numbers; resolves the reply to text back, or nothing. */
  onInboundMessage?(msg: InboundMessage): Promise<string | undefined>;
  /** A call to our number (its voice webhook names no call of ours). Absent: declined. */
  incomingCall?(call: IncomingCall): Promise<IncomingCallAnswer>;
}

export interface TwilioRoutesOptions {
  /** Undefined until configured: every Twilio-facing route then refuses with 503. */
  authToken?: string;
  publicUrl?: string;
  /**
   * Multi-node mode: this node's path prefix (`/n/<node id>`, src/cluster/node-urls.ts). The streams this
   * node opens are addressed under it, so the proxy brings them back here; registered under the prefix
   * `/n/:nodeId`, the routes refuse another node's prefix (421: the proxy routed it to the wrong node).
   */
  nodePath?: string;
  handlers: TwilioRouteHandlers;
}

/**
 * Twilio-facing routes: TwiML, status/AMD/recording callbacks and the media WebSocket. These are the
 * only public routes; every one checks X-Twilio-Signature against PUBLIC_URL before doing anything.
 */
export async function twilioRoutes(app: FastifyInstance, opts: TwilioRoutesOptions): Promise<void> {
  // Twilio's form bodies, read strictly: a malformed %-escape is a 400 naming the field (see
  // url-encoding.ts). The signature check needs the parsed parameters, so this comes first.
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof MalformedEncodingError) return sendError(reply, 400, err.message, { field: err.field });
    throw err; // to the app's handler
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    try {
      done(null, parseFormBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  // Under `/n/:nodeId`: a prefix naming another node means the proxy sent this node another node's call,
  // whose session is not here. Refused before the signature check, saying so.
  if (app.prefix) {
    app.addHook('onRequest', async (req, reply) => {
      const asked = `/n/${(req.params as { nodeId?: string }).nodeId ?? ''}`;
      if (asked === opts.nodePath) return;
      req.log.warn({ event: 'twilio.wrongNode', asked, self: opts.nodePath ?? null }, 'carrier request for another node refused: the proxy must route /n/<node id>/ to that node');
      return sendError(reply, 421, `this request is for node ${asked.slice(3)}, but this is ${opts.nodePath ? `node ${opts.nodePath.slice(3)}` : 'a single node'}: the proxy must route /n/<node id>/ to that node (docs/deployment.md)`);
    });
  }
  // The public base the carrier reaches this node's calls on (its streams, a transfer leg's next URL).
  const callBase = () => opts.publicUrl!.replace(/\/+$/, '') + (opts.nodePath ?? '');

  const verify = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!opts.authToken || !opts.publicUrl) return sendError(reply, 503, 'Twilio is not configured on this server');
    const url = opts.publicUrl.replace(/\/+$/, '') + req.url;
    const sig = req.headers['x-twilio-signature'];
    if (!isValidSignature(opts.authToken, typeof sig === 'string' ? sig : undefined, url, (req.body ?? {}) as Record<string, unknown>)) {
      req.log.warn({ event: 'twilio.badSignature', route: req.routeOptions.url }, 'Twilio webhook refused: invalid signature');
      return sendError(reply, 403, 'X-Twilio-Signature does not match this request: PUBLIC_URL must be the exact origin Twilio calls (see docs/first-real-call.md)');
    }
  };

  const callIdOf = (req: FastifyRequest) => {
    const q = req.query as Record<string, unknown>;
    return typeof q.callId === 'string' ? q.callId : '';
  };

  const FORM = 'application/x-www-form-urlencoded';
  const callQuery = z.object({ callId: z.string().optional() });
  /**
   * Helmet's headers (CSP, HSTS, frame and referrer policy...) are for browsers; Twilio ignores them, and
   * building a dozen headers per webhook (about 20 per call, each on the loop that carries live audio)
   * was one of the larger per-call costs in the bridge's profile (issue 18). Every carrier route skips it.
   */
  const webhook = (summary: string, body: z.ZodType, ok: Record<number, string | { description: string; contentType?: string }>) => ({
    helmet: false as const,
    ...documented({ tag: 'carrier', auth: 'twilio-signature', summary, query: callQuery, body, bodyContentType: FORM, responses: { ...ok, 400: 'a required field is missing', 403: 'invalid X-Twilio-Signature', 503: 'Twilio is not configured on this server' } }),
  });

  app.post('/twilio/voice', { preHandler: verify, ...webhook("Twilio asks what to do with the answered call: TwiML connecting its media stream. Without `callId`: a call to our number (the number's voice webhook, with From, To and Direction=inbound), answered per INBOUND", voiceDocSchema, { 200: { description: 'TwiML', contentType: 'text/xml' } }) }, async (req, reply) => {
    if (!callIdOf(req)) return incoming(req, reply);
    let carrierCallId: string;
    try {
      carrierCallId = parseVoiceWebhook(req.body).carrierCallId;
    } catch (err) {
      if (err instanceof WebhookError) return sendError(reply, 400, err.message);
      throw err;
    }
    const params = opts.handlers.streamParamsFor(callIdOf(req), carrierCallId);
    reply.type('text/xml');
    // An unknown or finished call gets a polite hang-up rather than an error Twilio would read aloud.
    return params ? streamTwiml(mediaStreamUrl(callBase()), params) : hangupTwiml();
  });

  // A call to our number: an AI session (its stream parameters) or a sentence and a hang-up.
  const incoming = async (req: FastifyRequest, reply: FastifyReply) => {
    let call: IncomingCall;
    try {
      call = parseIncomingVoiceWebhook(req.body);
    } catch (err) {
      if (err instanceof WebhookError) return sendError(reply, 400, err.message);
      throw err;
    }
    const answer: IncomingCallAnswer = (await opts.handlers.incomingCall?.(call)) ?? { decline: 'Sorry, this number does not take calls. Goodbye.' };
    reply.type('text/xml');
    return 'connect' in answer ? streamTwiml(mediaStreamUrl(callBase()), answer.connect) : sayThenHangupTwiml(answer.decline);
  };

  const callback = (parse: (b: unknown) => ParsedWebhook) => async (req: FastifyRequest, reply: FastifyReply) => {
    let parsed: ParsedWebhook;
    try {
      parsed = parse(req.body);
    } catch (err) {
      if (err instanceof WebhookError) return sendError(reply, 400, err.message);
      throw err;
    }
    await opts.handlers.onCarrierEvent(callIdOf(req), parsed.carrierCallId, parsed.event, parsed.dedupeKey);
    return reply.code(204).send();
  };

  app.post('/twilio/status', { preHandler: verify, ...webhook('Call progress (initiated, ringing, answered, completed)', statusSchema, { 204: 'recorded' }) }, callback(parseStatusWebhook));
  app.post('/twilio/amd', { preHandler: verify, ...webhook("Answering-machine detection's verdict (AnsweredBy)", amdSchema, { 204: 'recorded' }) }, callback(parseAmdWebhook));
  app.post('/twilio/recording', { preHandler: verify, ...webhook('The recording is ready (or failed)', recordingSchema, { 204: 'recorded' }) }, callback(parseRecordingWebhook));

  // Warm transfer: the owner's leg. Answered (with the machine verdict): the brief, then back to us;
  // briefed: into the room. Anything unexpected hangs the leg up rather than leave the owner in silence.
  const legTwiml = (answer: (callId: string, body: unknown) => string) => async (req: FastifyRequest, reply: FastifyReply) => {
    let twiml: string;
    try {
      twiml = answer(callIdOf(req), req.body);
    } catch (err) {
      if (err instanceof WebhookError) return sendError(reply, 400, err.message);
      throw err;
    }
    return reply.type('text/xml').send(twiml);
  };
  app.post(
    '/twilio/transfer/answered',
    { preHandler: verify, ...webhook("Warm transfer: the owner's call answered (with the machine verdict): TwiML with the brief, or a hang-up", legAnsweredSchema, { 200: { description: 'TwiML', contentType: 'text/xml' } }) },
    legTwiml((callId, body) => {
      const { carrierCallId, human } = parseLegAnsweredWebhook(body);
      const next = opts.handlers.transferLeg?.answered(callId, carrierCallId, human);
      return next ? briefTwiml(next.brief, transferLegUrls(callBase(), callId).briefed) : hangupTwiml();
    }),
  );
  app.post(
    '/twilio/transfer/briefed',
    { preHandler: verify, ...webhook('Warm transfer: the owner has heard the brief: TwiML joining them to the conference, or a hang-up', voiceSchema, { 200: { description: 'TwiML', contentType: 'text/xml' } }) },
    legTwiml((callId, body) => {
      const next = opts.handlers.transferLeg?.briefed(callId, parseVoiceWebhook(body).carrierCallId);
      return next ? conferenceTwiml(next.room) : hangupTwiml();
    }),
  );
  app.post('/twilio/transfer/status', { preHandler: verify, ...webhook("Warm transfer: progress of the owner's call", statusSchema, { 204: 'recorded' }) }, async (req, reply) => {
    let parsed: ParsedWebhook;
    try {
      parsed = parseStatusWebhook(req.body);
    } catch (err) {
      if (err instanceof WebhookError) return sendError(reply, 400, err.message);
      throw err;
    }
    if (parsed.event.type === 'status') opts.handlers.transferLeg?.status(callIdOf(req), parsed.carrierCallId, parsed.event.status);
    return reply.code(204).send();
  });

  // Configure this URL as the messaging webhook ("A message comes in") of TWILIO_FROM_NUMBER.
  app.post('/twilio/sms', { preHandler: verify, ...webhook('A text message to our number (the owner replying to a question, see docs/ask-owner.md)', inboundMessageSchema, { 200: { description: 'TwiML: a reply message, or nothing', contentType: 'text/xml' } }) }, async (req, reply) => {
    let msg: InboundMessage;
    try {
      msg = parseInboundMessageWebhook(req.body);
    } catch (err) {
      if (err instanceof WebhookError) return sendError(reply, 400, err.message);
      throw err;
    }
    const answer = opts.handlers.onInboundMessage ? await opts.handlers.onInboundMessage(msg) : undefined;
    reply.type('text/xml');
    return messageTwiml(answer);
  });

  app.get(
    '/twilio/media',
    {
      websocket: true,
      helmet: false,
      ...documented({
        tag: 'carrier',
        auth: 'twilio-signature',
        summary: 'Media Streams WebSocket (bidirectional, mu-law 8 kHz): the call id and a per-call secret arrive in the start message',
        responses: { 101: 'switching to WebSocket', 403: 'invalid X-Twilio-Signature', 503: 'Twilio is not configured on this server' },
      }),
      preValidation: async (req, reply) => {
        if (!opts.authToken || !opts.publicUrl) return sendError(reply, 503, 'Twilio is not configured on this server');
        const sig = req.headers['x-twilio-signature'];
        // The URL the carrier was given: under the node prefix when it came that way (checked above).
        const url = mediaStreamUrl(opts.publicUrl.replace(/\/+$/, '') + (app.prefix ? (opts.nodePath ?? '') : ''));
        if (!isValidSignature(opts.authToken, typeof sig === 'string' ? sig : undefined, url, {})) {
          req.log.warn({ event: 'twilio.badSignature', route: '/twilio/media' }, 'media stream refused: invalid signature');
          return sendError(reply, 403, 'X-Twilio-Signature does not match this request: PUBLIC_URL must be the exact origin Twilio calls (see docs/first-real-call.md)');
        }
      },
    },
    (socket, req) => handleMediaSocket(socket, opts.handlers.authorizeStream, req.log),
  );
}
