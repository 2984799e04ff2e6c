import { SettingsError, type Settings } from '../config/settings.js';
import { OutcomesRepo, type OutcomesRepoOptions } from '../store/outcomes-repo.js';
import type { SqlStore } from '../store/sql/sql-store.js';
import type { OutcomeDeps } from './call-outcomes.js';
import { createExtractor } from './providers/registry.js';

/** The outcome parts the settings ask for. Throws SettingsError for a webhook without its secret. */
export function outcomeDeps(s: Settings, store: SqlStore, o: { webhookRetryDelaysMs?: number[]; repo?: OutcomesRepoOptions } = {}): OutcomeDeps {
  if (s.CALL_WEBHOOK_URL && !s.CALL_WEBHOOK_SECRET) throw new SettingsError(['CALL_WEBHOOK_SECRET: is required when CALL_WEBHOOK_URL is set (the receiver checks each POST with it)']);
  const ex = createExtractor(s);
  return {
    repo: new OutcomesRepo(store, o.repo),
    ...('extractor' in ex ? { extractor: ex.extractor } : { notComputedReason: ex.reason }),
    ...(s.CALL_WEBHOOK_URL && s.CALL_WEBHOOK_SECRET ? { webhook: { url: s.CALL_WEBHOOK_URL, secret: s.CALL_WEBHOOK_SECRET, maxAttempts: s.CALL_WEBHOOK_MAX_ATTEMPTS, retryDelaysMs: o.webhookRetryDelaysMs } } : {}),
  };
}
