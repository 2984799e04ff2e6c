import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CarrierEvent } from '../carrier.js';
import { handleMediaSocket, type StreamAuthorizer } from './media-connection.js';
import { streamTwiml, hangupTwiml } from './twiml.js';
import { mediaStreamUrl } from './urls.js';
import { isValidSignature, parseAmdWebhook, parseRecordingWebhook, parseStatusWebhook, parseVoiceWebhook, WebhookError, type ParsedWebhook } from './webhooks.js';
import { MalformedEncodingError, parseFormBody } from '../../server/url-encoding.js';

export interface TwilioRouteHandlers {
  /** Stream parameters for a call Twilio asks TwiML for; undefined if the call is unknown or over. */
  streamParamsFor(callId: string, carrierCallId: string): Record<string, string> | undefined;
  onCarrierEvent(callId: string, carrierCallId: string, event: CarrierEvent, dedupeKey: string): void;
  authorizeStream: StreamAuthorizer;
}

export interface TwilioRoutesOptions {
  /** Undefined until configured: every Twilio-facing route then refuses with 503. */
  authToken?: string;
  publicUrl?: string;
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
    if (err instanceof MalformedEncodingError) return reply.code(400).send({ error: err.message, field: err.field });
    throw err; // to the app's handler
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    try {
      done(null, parseFormBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  const verify = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!opts.authToken || !opts.publicUrl) return reply.code(503).send({ error: 'Twilio is not configured on this server' });
    const url = opts.publicUrl.replace(/\/+$/, '') + req.url;
    const sig = req.headers['x-twilio-signature'];
    if (!isValidSignature(opts.authToken, typeof sig === 'string' ? sig : undefined, url, (req.body ?? {}) as Record<string, unknown>)) {
      req.log.warn({ event: 'twilio.badSignature', route: req.routeOptions.url }, 'Twilio webhook refused: invalid signature');
      return reply.code(403).send({ error: 'invalid signature' });
    }
  };

  const callIdOf = (req: FastifyRequest) => {
    const q = req.query as Record<string, unknown>;
    return typeof q.callId === 'string' ? q.callId : '';
  };

  app.post('/twilio/voice', { preHandler: verify }, async (req, reply) => {
    let carrierCallId: string;
    try {
      carrierCallId = parseVoiceWebhook(req.body).carrierCallId;
    } catch (err) {
      if (err instanceof WebhookError) return reply.code(400).send({ error: err.message });
      throw err;
    }
    const params = opts.handlers.streamParamsFor(callIdOf(req), carrierCallId);
    reply.type('text/xml');
    // An unknown or finished call gets a polite hang-up rather than an error Twilio would read aloud.
    return params ? streamTwiml(mediaStreamUrl(opts.publicUrl!), params) : hangupTwiml();
  });

  const callback = (parse: (b: unknown) => ParsedWebhook) => async (req: FastifyRequest, reply: FastifyReply) => {
    let parsed: ParsedWebhook;
    try {
      parsed = parse(req.body);
    } catch (err) {
      if (err instanceof WebhookError) return reply.code(400).send({ error: err.message });
      throw err;
    }
    opts.handlers.onCarrierEvent(callIdOf(req), parsed.carrierCallId, parsed.event, parsed.dedupeKey);
    return reply.code(204).send();
  };

  app.post('/twilio/status', { preHandler: verify }, callback(parseStatusWebhook));
  app.post('/twilio/amd', { preHandler: verify }, callback(parseAmdWebhook));
  app.post('/twilio/recording', { preHandler: verify }, callback(parseRecordingWebhook));

  app.get(
    '/twilio/media',
    {
      websocket: true,
      preValidation: async (req, reply) => {
        if (!opts.authToken || !opts.publicUrl) return reply.code(503).send({ error: 'Twilio is not configured on this server' });
        const sig = req.headers['x-twilio-signature'];
        if (!isValidSignature(opts.authToken, typeof sig === 'string' ? sig : undefined, mediaStreamUrl(opts.publicUrl), {})) {
          req.log.warn({ event: 'twilio.badSignature', route: '/twilio/media' }, 'media stream refused: invalid signature');
          return reply.code(403).send({ error: 'invalid signature' });
        }
      },
    },
    (socket, req) => handleMediaSocket(socket, opts.handlers.authorizeStream, req.log),
  );
}
