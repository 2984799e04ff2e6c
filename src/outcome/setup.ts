import { SettingsError, type Settings } from '../config/settings.js';
import type { Db } from '../store/database.js';
import { OutcomesRepo } from '../store/outcomes-repo.js';
import type { OutcomeDeps } from './call-outcomes.js';
import { createExtractor } from './providers/registry.js';

/** The outcome parts the settings ask for. Throws SettingsError for a webhook without its secret. */
export function outcomeDeps(s: Settings, db: Db, o: { webhookRetryDelaysMs?: number[] } = {}): OutcomeDeps {
  if (s.CALL_WEBHOOK_URL && !s.CALL_WEBHOOK_SECRET) throw new SettingsError(['CALL_WEBHOOK_SECRET: is required when CALL_WEBHOOK_URL is set (the receiver checks each POST with it)']);
  const ex = createExtractor(s);
  return {
    repo: new OutcomesRepo(db),
    ...('extractor' in ex ? { extractor: ex.extractor } : { notComputedReason: ex.reason }),
    ...(s.CALL_WEBHOOK_URL && s.CALL_WEBHOOK_SECRET ? { webhook: { url: s.CALL_WEBHOOK_URL, secret: s.CALL_WEBHOOK_SECRET, maxAttempts: s.CALL_WEBHOOK_MAX_ATTEMPTS, retryDelaysMs: o.webhookRetryDelaysMs } } : {}),
  };
}
