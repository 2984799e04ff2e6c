import { z } from 'zod';
import type { ChannelSpec } from './announcements.js';

/**
 * Word between nodes that a campaign changed (a number dialled or settled by this node's runner; paused,
 * resumed or cancelled through this node's API), so a node with someone watching that campaign's live
 * stream tells them at once. A lost message leaves a watcher one change behind until the next change or
 * a reconnect, whose first event is the whole state again.
 */
export interface CampaignChangeNotice {
  campaignId: string;
  /** The number that changed, when one did. */
  index?: number;
}

export const CAMPAIGN_CHANNEL: ChannelSpec<CampaignChangeNotice> = {
  name: 'callwright:campaigns',
  schema: z.object({ campaignId: z.string().uuid(), index: z.number().int().min(1).optional() }),
  onPublishFailed: {
    event: 'campaign.announceFailed',
    message: "could not tell the other nodes a campaign changed; whoever watches it there sees it at the next change or when their stream reconnects",
    fields: (m) => ({ campaignId: m.campaignId }),
  },
};
