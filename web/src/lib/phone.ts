import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

export type PhoneCheck =
  | { state: 'empty' }
  | { state: 'valid'; e164: string; international: string; country?: string }
  | { state: 'incomplete' | 'invalid'; message: string };

const regionNames = typeof Intl.DisplayNames === 'function' ? new Intl.DisplayNames(undefined, { type: 'region' }) : undefined;

export function countryName(code: string | undefined): string | undefined {
  if (!code) return undefined;
  try {
    return regionNames?.of(code) ?? code;
  } catch {
    return code;
  }
}

/**
 * Checks a number as it is typed: a number without a leading + is read in the default country. The
 * server checks again (E.164, emergency and premium-rate numbers); this is for the person typing.
 */
export function checkPhone(input: string, defaultCountry: string): PhoneCheck {
  const raw = input.trim();
  if (!raw) return { state: 'empty' };
  if (/[^\d\s()+.\-]/.test(raw)) return { state: 'invalid', message: 'Use digits only (spaces, dashes and a leading + are fine).' };
  const p = parsePhoneNumberFromString(raw, defaultCountry as CountryCode);
  if (p?.isValid()) return { state: 'valid', e164: p.number, international: p.formatInternational(), country: countryName(p.country) };
  const digits = raw.replace(/\D/g, '').length;
  if (!p || !p.isPossible()) {
    return digits < 7 ? { state: 'incomplete', message: 'Keep typing…' } : { state: 'invalid', message: `This is not a valid number${raw.startsWith('+') ? '' : ` in ${countryName(defaultCountry) ?? defaultCountry} (start with + for another country)`}.` };
  }
  return { state: 'invalid', message: `This number does not exist in ${countryName(p.country ?? defaultCountry) ?? 'that country'}.` };
}
