import { missingForCalls, type Settings } from '../config/settings.js';
import { CallRequestError } from '../calls/call-request.js';
import { ClientError, loadClientProfile } from '../clients/profile.js';

/**
 * What a campaign needs before any number is stored, as a call would find at once: a carrier and engine
 * configured (503 naming the settings), and the client, if one is named (400 on `clientId`).
 */
export async function checkCampaignReady(s: Settings, hasCarrier: boolean, input: { clientId?: string; provider?: string }): Promise<void> {
  const provider = (input.provider ?? s.AI_PROVIDER) as Settings['AI_PROVIDER'];
  const missing = missingForCalls(s, provider);
  if (missing.length || !hasCarrier) {
    throw new CallRequestError(503, undefined, `Callwright is not configured to place calls yet. Set: ${missing.join('; ')}. See .env.example and docs/first-real-call.md.`, missing, undefined, 'not_configured');
  }
  if (!input.clientId) return;
  try {
    await loadClientProfile(s.CLIENTS_DIR, input.clientId);
  } catch (err) {
    if (err instanceof ClientError) throw new CallRequestError(400, 'clientId', `clientId: ${err.message}`);
    throw err;
  }
}
