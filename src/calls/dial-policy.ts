import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { Settings } from '../config/settings.js';
import { isAllowed, parseAllowList, type AllowEntry } from './allow-list.js';
import { DncList } from './dnc-list.js';
import type { TimelineEventType } from '../shared/event-types.js';
import { checkCallingHours, parseCallingHours, type HoursWindow } from './calling-hours.js';

/** A policy refusal: which rule, the HTTP status the API shows, and a message for the user. */
export interface PolicyRefusal {
  rule: 'not-allowed' | 'do-not-call' | 'calling-hours';
  status: number;
  message: string;
}

export interface PolicyPass {
  /** What the call's timeline should say about the policy (e.g. an override and the local time it overrode). */
  notes: Array<{ type: TimelineEventType; data: Record<string, unknown> }>;
}

/**
 * Who may be called, and when: the allow list, the do-not-call list and calling hours. Emergency and
 * premium-rate numbers are refused earlier, by `checkDestination`, with no way around them.
 */
export class DialPolicy {
  private readonly allow?: AllowEntry[];
  private readonly dnc?: DncList;
  private readonly hours?: HoursWindow;

  constructor(s: Pick<Settings, 'ALLOWED_DESTINATIONS' | 'DNC_FILE' | 'CALLING_HOURS'>) {
    this.allow = parseAllowList(s.ALLOWED_DESTINATIONS);
    this.dnc = s.DNC_FILE ? new DncList(s.DNC_FILE) : undefined;
    this.hours = parseCallingHours(s.CALLING_HOURS);
  }

  async check(e164: string, country: string | undefined, opts: { overrideCallingHours?: boolean; overrideReason?: string; now: Date }): Promise<PolicyRefusal | PolicyPass> {
    if (!isAllowed(this.allow, e164, country)) {
      return { rule: 'not-allowed', status: 403, message: `to: ${e164} is not on the allow list (ALLOWED_DESTINATIONS)` };
    }
    if (this.dnc) {
      let listed: boolean;
      try {
        listed = this.dnc.has(e164);
      } catch (err) {
        return { rule: 'do-not-call', status: 503, message: (err as Error).message };
      }
      if (listed) return { rule: 'do-not-call', status: 403, message: `to: ${e164} is on the do-not-call list (DNC_FILE)` };
    }
    const notes: PolicyPass['notes'] = [];
    if (this.hours) {
      const phone = parsePhoneNumberFromString(e164)!;
      const r = await checkCallingHours(phone, this.hours, opts.now);
      if (!r.ok && !opts.overrideCallingHours) return { rule: 'calling-hours', status: 403, message: `to: ${r.message}` };
      if (!r.ok) notes.push({ type: 'policy.override', data: { rule: 'calling-hours', window: this.hours.text, local: r.local, ...(opts.overrideReason ? { reason: opts.overrideReason } : {}) } });
    }
    return { notes };
  }
}

export const isRefusal = (r: PolicyRefusal | PolicyPass): r is PolicyRefusal => 'rule' in r;
