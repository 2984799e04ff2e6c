/**
 * ALLOWED_DESTINATIONS: when set, only numbers it matches may be called. Entries, separated by commas or
 * spaces: a full E.164 number (+14155550123), a prefix (+1415), or an ISO country code (US, GB).
 */
export type AllowEntry = { kind: 'prefix'; value: string } | { kind: 'country'; value: string };

export class AllowListError extends Error {}

/** One entry, or undefined if it is neither a number/prefix nor a country code. The settings check uses it too. */
export function parseAllowEntry(e: string): AllowEntry | undefined {
  if (/^\+[1-9]\d{0,14}$/.test(e)) return { kind: 'prefix', value: e };
  if (/^[A-Za-z]{2}$/.test(e)) return { kind: 'country', value: e.toUpperCase() };
  return undefined;
}

/** The entries of the setting's text, separated by commas or spaces. */
export function allowListEntries(raw: string): string[] {
  return raw.split(/[\s,]+/).filter(Boolean);
}

export function parseAllowList(raw: string | undefined): AllowEntry[] | undefined {
  if (!raw) return undefined;
  return allowListEntries(raw).map((e) => {
    const entry = parseAllowEntry(e);
    if (!entry) throw new AllowListError(`ALLOWED_DESTINATIONS: "${e}" is neither a number or prefix (+1415) nor a two-letter country code (US)`);
    return entry;
  });
}

export function isAllowed(list: AllowEntry[] | undefined, e164: string, country: string | undefined): boolean {
  if (!list) return true;
  return list.some((a) => (a.kind === 'prefix' ? e164.startsWith(a.value) : a.value === country));
}
