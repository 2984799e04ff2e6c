import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * Numbers an automated agent must never dial, whatever the user asks: emergency services (by their
 * short codes, in any country) and premium-rate lines. This is the floor; allow/deny lists and calling
 * hours build on it.
 */
const EMERGENCY = new Set(['911', '112', '999', '000', '110', '119', '118', '120', '122', '100', '101', '102', '108', '15', '17', '18', '190', '192', '193', '199', '111', '995', '997', '998', '1122', '933', '106', '113', '115', '117', '133', '150', '155', '197']);

/**
 * Number types the callee's carrier bills the caller extra for: premium-rate lines (900, 09x) and
 * shared-cost lines (UK 084x/087x, FR 08x). libphonenumber knows them per country from its metadata.
 */
const SURCHARGED: Record<string, string> = {
  PREMIUM_RATE: 'premium-rate numbers are never dialled by Callwright',
  SHARED_COST: 'shared-cost numbers (the caller pays a surcharge) are never dialled by Callwright',
};

/** Why a destination failed: the format is the caller's typo; the others are policy and are recorded. */
export type DestinationRule = 'format' | 'invalid' | 'emergency' | 'premium-rate' | 'shared-cost';
export type DestinationCheck = { ok: true; e164: string; country?: string } | { ok: false; message: string; rule: DestinationRule };

export function checkDestination(to: string): DestinationCheck {
  const raw = to.trim();
  const digits = raw.replace(/[^\d]/g, '');
  const emergency = { ok: false, rule: 'emergency', message: 'emergency numbers are never dialled by Callwright' } as const;
  if (EMERGENCY.has(digits)) return emergency;
  if (!/^\+[1-9]\d{1,14}$/.test(raw)) return { ok: false, rule: 'format', message: 'must be an E.164 number: "+" then country code and number, no spaces (e.g. +14155550123)' };
  const phone = parsePhoneNumberFromString(raw);
  if (phone && EMERGENCY.has(String(phone.nationalNumber))) return emergency;
  if (!phone || !phone.isValid()) return { ok: false, rule: 'invalid', message: 'is not a valid phone number' };
  const type = phone.getType();
  if (type === 'PREMIUM_RATE') return { ok: false, rule: 'premium-rate', message: SURCHARGED[type] };
  if (type === 'SHARED_COST') return { ok: false, rule: 'shared-cost', message: SURCHARGED[type] };
  return { ok: true, e164: phone.number, country: phone.country };
}

/** Masks a phone number for logs: country code and last two digits survive. */
export function maskNumber(n: string): string {
  if (n.length <= 5) return '***';
  return n.slice(0, 3) + '*'.repeat(Math.max(0, n.length - 5)) + n.slice(-2);
}
