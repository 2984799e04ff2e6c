import { missingForCalls, type Settings } from '../config/settings.js';
import { parseAllowList } from '../calls/allow-list.js';
import { embeddingsProviderFor } from '../knowledge/embeddings/embedder.js';
import type { Carrier } from '../telephony/carrier.js';
import type { ServerStatus } from '../shared/api-types.js';

/**
 * What `GET /api/status` says about this server. Built from settings on each request, so it is never
 * stale; it carries flags, counts and limits only: no key, no file path, no allow-list entry.
 */
export function serverStatus(s: Settings, carrier: Carrier | undefined, liveCalls: number, version: string): ServerStatus {
  const missing = missingForCalls(s);
  return {
    version,
    simulated: Boolean(carrier) && isLoopback(s.TWILIO_API_URL),
    carrier: carrier ? { name: carrier.name, configured: true } : { name: 'twilio', configured: false },
    provider: s.AI_PROVIDER,
    publicUrl: Boolean(s.PUBLIC_URL),
    readyToCall: missing.length === 0,
    missing,
    liveCalls,
    engines: {
      openai: { configured: Boolean(s.OPENAI_API_KEY), model: s.OPENAI_REALTIME_MODEL },
      gemini: { configured: Boolean(s.GEMINI_API_KEY), model: s.GEMINI_LIVE_MODEL },
      // Needs no key: its servers may all be local (docs/cascade.md). The model shown is the LLM.
      cascade: { configured: true, model: s.LLM_MODEL },
    },
    defaultCountry: s.DEFAULT_COUNTRY,
    recordCalls: s.RECORD_CALLS,
    safety: {
      callingHours: s.CALLING_HOURS,
      allowListEntries: parseAllowList(s.ALLOWED_DESTINATIONS)?.length ?? 0,
      doNotCallList: Boolean(s.DNC_FILE),
      maxConcurrentCalls: s.MAX_CONCURRENT_CALLS,
      maxCallsPerDay: s.MAX_CALLS_PER_DAY,
      maxCostPerCallUsd: s.MAX_COST_PER_CALL_USD,
      maxCostPerDayUsd: s.MAX_COST_PER_DAY_USD,
      maxCallSeconds: s.MAX_CALL_SECONDS,
      discloseAi: s.DISCLOSE_AI,
      announceRecording: s.ANNOUNCE_RECORDING,
    },
    knowledge: { embeddings: embeddingsProviderFor(s) ?? 'none', topK: s.KNOWLEDGE_TOP_K, watch: s.KNOWLEDGE_WATCH },
  };
}

/** Real carriers are never on this machine: a loopback API URL is a simulator. */
function isLoopback(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
