import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDestination, maskNumber } from '../../src/calls/policy.js';

test('accepts valid E.164 numbers', () => {
  assert.deepEqual(checkDestination('+14155550123'), { ok: true, e164: '+14155550123', country: 'US' });
  assert.equal(checkDestination('+442071838750').ok, true);
});

test('refuses emergency numbers however written', () => {
  for (const n of ['911', '+911', '112', '+112', '999', '+44999', '+1911', '000', '+61000', '110']) {
    const r = checkDestination(n);
    assert.equal(r.ok, false, n);
    if (!r.ok) assert.match(r.message, /emergency/, n);
  }
});

test('refuses premium-rate numbers', () => {
  for (const n of ['+19005550123', '+449098790000']) {
    const r = checkDestination(n);
    assert.equal(r.ok, false, n);
    if (!r.ok) assert.match(r.message, /premium/, n);
  }
});

test('refuses what is not E.164 or not a real number', () => {
  for (const n of ['4155550123', '+1 415 555 0123', '+1415555', '+0123456789', 'hello', '', '+999999999999999']) {
    const r = checkDestination(n);
    assert.equal(r.ok, false, n);
  }
});

test('masks numbers for logs', () => {
  assert.equal(maskNumber('+14155550123'), '+14*******23');
});
