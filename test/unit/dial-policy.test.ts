import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { checkDestination } from '../../src/calls/policy.js';
import { isAllowed, parseAllowList } from '../../src/calls/allow-list.js';
import { DncList, parseDncText } from '../../src/calls/dnc-list.js';
import { checkCallingHours, inWindow, parseCallingHours, zonesFor } from '../../src/calls/calling-hours.js';
import { DialPolicy, isRefusal } from '../../src/calls/dial-policy.js';

const phone = (n: string) => parsePhoneNumberFromString(n)!;
const hours = parseCallingHours('08:00-21:00')!;

test('premium-rate and shared-cost numbers are refused in several countries; ordinary ones pass', () => {
  const refused: Array<[string, RegExp]> = [
    ['+19005550123', /premium/], // US 900
    ['+448712345678', /premium/], // UK 087x (premium in libphonenumber's metadata)
    ['+33890123456', /premium/], // FR 089
    ['+33810123456', /shared-cost/], // FR 081
    ['+34803123456', /premium/], // ES 803
    ['+81990123456', /premium/], // JP 0990
  ];
  for (const [n, why] of refused) {
    const r = checkDestination(n);
    assert.equal(r.ok, false, n);
    if (!r.ok) assert.match(r.message, why, n);
  }
  for (const n of ['+14155550123', '+442071838750', '+4930123456', '+61291234567']) assert.equal(checkDestination(n).ok, true, n);
});

test('emergency short codes of many countries are refused as emergencies, however written', () => {
  for (const n of ['911', '112', '+1911', '+44999', '+4915', '+49110', '+33112', '+61000', '+81110', '+81119', '+91108', '+55190', '+86120', '+7112']) {
    const r = checkDestination(n);
    assert.equal(r.ok, false, n);
    if (!r.ok) assert.equal(r.rule, 'emergency', `${n}: ${r.message}`);
  }
});

test('allow list: numbers, prefixes and countries; a bad entry names the setting', () => {
  const list = parseAllowList('+14155550123, +1312 GB');
  assert.equal(isAllowed(list, '+14155550123', 'US'), true);
  assert.equal(isAllowed(list, '+13125550199', 'US'), true);
  assert.equal(isAllowed(list, '+442071838750', 'GB'), true);
  assert.equal(isAllowed(list, '+14155550124', 'US'), false);
  assert.equal(isAllowed(undefined, '+14155550124', 'US'), true, 'no list: anyone (the other rules still apply)');
  assert.throws(() => parseAllowList('+1415, 415-555'), /ALLOWED_DESTINATIONS: "415-555"/);
});

test('do-not-call file: comments, formatting, bad lines reported, re-read when it changes, fails closed', () => {
  const parsed = parseDncText('# our list\n+1 (415) 555-0123  # asked on 2026-11-02\n\n+44 20 7183 8750\nnot a number\n');
  assert.deepEqual([...parsed.numbers], ['+14155550123', '+442071838750']);
  assert.deepEqual(parsed.invalidLines, [5]);

  const dir = mkdtempSync(join(tmpdir(), 'cw-dnc-'));
  const file = join(dir, 'dnc.txt');
  writeFileSync(file, '+14155550123\n');
  const dnc = new DncList(file);
  assert.equal(dnc.has('+14155550123'), true);
  assert.equal(dnc.has('+14155550199'), false);
  writeFileSync(file, '+14155550123\n+14155550199\n');
  utimesSync(file, new Date(), new Date(Date.now() + 5000));
  assert.equal(dnc.has('+14155550199'), true, 'the edit applies without a restart');
  assert.throws(() => new DncList(join(dir, 'missing.txt')).has('+14155550123'), /DNC_FILE .* cannot be read/);
});

test('calling hours: the window, wrapping past midnight, and off', () => {
  assert.equal(parseCallingHours('off'), undefined);
  assert.throws(() => parseCallingHours('8-21'), /HH:MM/);
  assert.equal(inWindow(hours, 8 * 60), true);
  assert.equal(inWindow(hours, 21 * 60), false, 'the end is exclusive');
  const night = parseCallingHours('22:00-06:00')!;
  assert.equal(inWindow(night, 23 * 60), true);
  assert.equal(inWindow(night, 5 * 60), true);
  assert.equal(inWindow(night, 12 * 60), false);
});

test('calling hours use the zone of the number, and name the local time when refusing', async () => {
  // 2026-01-15 04:14 UTC = 22:14 in Chicago (CST, UTC-6), 20:14 in Los Angeles (PST, UTC-8).
  const at = new Date('2026-01-15T04:14:00Z');
  const chicago = await checkCallingHours(phone('+13125550123'), hours, at);
  assert.equal(chicago.ok, false);
  if (!chicago.ok) assert.match(chicago.message, /it is 22:14 in America\/Chicago for \+1 312 555 0123/);
  const la = await checkCallingHours(phone('+14155550123'), hours, at);
  assert.equal(la.ok, true, 'still 20:14 in San Francisco');
  // Summer time is the zone's business: 2026-07-15 01:30 UTC = 20:30 in Chicago (CDT, UTC-5).
  assert.equal((await checkCallingHours(phone('+13125550123'), hours, new Date('2026-07-15T01:30:00Z'))).ok, true);
  assert.equal((await checkCallingHours(phone('+442071838750'), hours, new Date('2026-07-15T07:30:00Z'))).ok, true, '08:30 in London (BST)');
  assert.equal((await checkCallingHours(phone('+442071838750'), hours, new Date('2026-01-15T07:30:00Z'))).ok, false, '07:30 in London (GMT)');
});

test('a number that may be in several zones must be inside the window in all of them', async () => {
  // A Russian mobile prefix that libphonenumber maps to many zones, or a non-geographic North American number.
  const multi = phone('+15555550123');
  const zones = await zonesFor(multi);
  assert.ok(zones.length > 5, `zones: ${zones.length}`);
  // 18:00 UTC: 13:00 in New York but 08:00 in Honolulu and 07:00 or so further west: refused.
  const r = await checkCallingHours(multi, hours, new Date('2026-01-15T17:30:00Z'));
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.message, /may be in any of \d+ time zones; all must be inside the window/);
});

test('DialPolicy: allow list, do-not-call and calling hours refuse with rule and status; an override passes with a note', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cw-policy-'));
  writeFileSync(join(dir, 'dnc.txt'), '+14155550199\n');
  const p = new DialPolicy({ ALLOWED_DESTINATIONS: 'US', DNC_FILE: join(dir, 'dnc.txt'), CALLING_HOURS: '08:00-21:00' });
  const noon = new Date('2026-01-15T20:00:00Z'); // 12:00 in San Francisco
  const night = new Date('2026-01-15T07:00:00Z'); // 23:00 in San Francisco
  const gb = await p.check('+442071838750', 'GB', { now: noon });
  assert.ok(isRefusal(gb) && gb.rule === 'not-allowed' && gb.status === 403);
  const dnc = await p.check('+14155550199', 'US', { now: noon });
  assert.ok(isRefusal(dnc) && dnc.rule === 'do-not-call');
  const late = await p.check('+14155550123', 'US', { now: night });
  assert.ok(isRefusal(late) && late.rule === 'calling-hours' && /23:00 in America\/Los_Angeles/.test(late.message));
  const ok = await p.check('+14155550123', 'US', { now: noon });
  assert.ok(!isRefusal(ok) && ok.notes.length === 0);
  const overridden = await p.check('+14155550123', 'US', { now: night, overrideCallingHours: true, overrideReason: 'the restaurant asked us to call back after closing' });
  assert.ok(!isRefusal(overridden));
  assert.equal(overridden.notes[0].type, 'policy.override');
  assert.deepEqual(overridden.notes[0].data.local, [{ zone: 'America/Los_Angeles', time: '23:00' }]);
  assert.equal(overridden.notes[0].data.reason, 'the restaurant asked us to call back after closing');
});
