import type { FastifyInstance } from 'fastify';
import { errorBody, sendError, sendZodError } from './errors.js';
import type { Settings } from '../config/settings.js';
import { CarrierError, type Carrier } from '../telephony/carrier.js';
import { documented } from './openapi.js';

/**
 * POST /api/setup/twilio: points TWILIO_FROM_NUMBER's incoming calls (voice webhook and status
 * callback) at PUBLIC_URL, so calls to the number reach this server (answered per INBOUND). Carrier
 * details stay in the carrier: this route only asks it to configure the number.
 */
export async function setupRoutes(app: FastifyInstance, o: { settings: Settings; carrier?: Carrier }): Promise<void> {
  const s = o.settings;
  app.post(
    '/api/setup/twilio',
    documented({
      tag: 'system',
      summary: "Points TWILIO_FROM_NUMBER's voice webhook (and call status callback) at PUBLIC_URL/twilio/voice, so calls to the number reach this server; INBOUND decides how they are answered (docs/inbound.md)",
      responses: {
        200: '{number, numberId, voiceUrl, voiceMethod, statusCallback, inbound}: the number as the carrier now holds it',
        404: 'TWILIO_FROM_NUMBER is not a number of this Twilio account',
        502: 'the carrier refused or failed',
        503: 'a setting is missing (`missing` lists them)',
      },
    }),
    async (_req, reply) => {
      const missing = [
        ...(s.TWILIO_ACCOUNT_SID && s.TWILIO_AUTH_TOKEN ? [] : ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN']),
        ...(s.TWILIO_FROM_NUMBER ? [] : ['TWILIO_FROM_NUMBER']),
        ...(s.PUBLIC_URL ? [] : ['PUBLIC_URL']),
      ];
      if (missing.length || !o.carrier) return sendError(reply, 503, `not configured: set ${missing.join(', ')}`, { missing });
      if (!o.carrier.configureNumber) return sendError(reply, 503, `the ${o.carrier.name} carrier cannot configure numbers here: set the voice webhook by hand`, { missing: [] });
      try {
        const n = await o.carrier.configureNumber(s.TWILIO_FROM_NUMBER!, s.PUBLIC_URL!);
        return { number: s.TWILIO_FROM_NUMBER, ...n, inbound: s.INBOUND };
      } catch (err) {
        const e = err as CarrierError;
        if (e instanceof CarrierError && e.status === 404) return sendError(reply, 404, 'TWILIO_FROM_NUMBER: ' + e.message, { field: 'TWILIO_FROM_NUMBER' });
        return sendError(reply, 502, (err as Error).message);
      }
    },
  );
}
