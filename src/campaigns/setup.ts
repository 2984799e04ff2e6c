import { nodeIdOf } from '../cluster/node-id.js';
import type { Settings } from '../config/settings.js';
import type { SqlStore } from '../store/sql/sql-store.js';
import type { CallService } from '../calls/call-service.js';
import type { CallsRepo } from '../store/calls-repo.js';
import { CampaignsRepo } from '../store/campaigns-repo.js';
import { RunbookLibrary } from '../runbooks/runbook-library.js';
import { CampaignService } from './campaign-service.js';
import { CampaignRunner, type RunnerLog } from './campaign-runner.js';
import { checkCampaignReady } from './campaign-ready.js';
import type { Announcements } from '../cluster/announcements.js';
import type { CampaignChangeNotice } from '../cluster/campaign-changes.js';

/**
 * The campaigns' service (the API's) and runner (the dialling loop), wired to the call service; `changes`
 * carries word of changes between nodes, so a campaign watched on one node is live whichever node dials.
 */
export function setupCampaigns(o: { sql: SqlStore; settings: Settings; service: CallService; calls: CallsRepo; hasCarrier: boolean; changes: Announcements<CampaignChangeNotice>; now?: () => Date; log: RunnerLog }): { service: CampaignService; runner: CampaignRunner } {
  const s = o.settings;
  const now = o.now ?? (() => new Date());
  const repo = new CampaignsRepo(o.sql);
  const runbooks = new RunbookLibrary(s.RUNBOOKS_DIR);
  const service = new CampaignService({ repo, runbooks, now, checkReady: (input) => checkCampaignReady(s, o.hasCarrier, input), announce: (change) => o.changes.announce(change) });
  o.changes.onRemote(({ campaignId, index }) => service.changedElsewhere(campaignId, index));
  const runner = new CampaignRunner({
    repo,
    runbooks,
    dial: (input) => o.service.create(input),
    getCall: (id) => o.calls.get(id),
    callForAttempt: (key) => o.calls.idForCampaignAttempt(key),
    freeLines: () => (s.MAX_CONCURRENT_CALLS > 0 ? s.MAX_CONCURRENT_CALLS - o.service.liveCount : Infinity),
    nodeId: nodeIdOf(s),
    leaseMs: s.CAMPAIGN_LEASE_SECONDS * 1000,
    tickMs: s.CAMPAIGN_TICK_MS,
    now,
    log: o.log,
    changed: (id, index) => service.changed(id, index),
  });
  service.runner = runner;
  return { service, runner };
}
