import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseTarget, describeTarget, transferTargets, transferTargetsSchema } from '../../src/calls/transfer/transfer-targets.js';

const OWNER = '+14155550142';

test('transfer destinations: OWNER_PHONE first as "owner", then the call\'s own, labelled', () => {
  const list = transferTargets(OWNER, ['+14155550199', { label: 'Billing', number: '+14155550177' }]);
  assert.deepEqual(list, [
    { label: 'owner', number: OWNER },
    { label: 'transfer-1', number: '+14155550199' },
    { label: 'billing', number: '+14155550177' },
  ]);
  assert.deepEqual(transferTargets(undefined, undefined), []);
});

test('transferTo is checked like a dialled number: emergency, premium-rate and malformed numbers, the owner label, duplicates', () => {
  for (const bad of [['911'], ['+19005550123'], ['4155550199'], [], [{ label: 'owner', number: '+14155550199' }], [{ label: 'a', number: '+14155550199' }, { label: 'A', number: '+14155550177' }], [{ label: '<b>', number: '+14155550199' }], Array(6).fill('+14155550199')]) {
    assert.equal(transferTargetsSchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
  assert.equal(transferTargetsSchema.safeParse(['+14155550199', { label: 'desk', number: '+14155550177' }]).success, true);
});

test('the model picks by label or position, never by number; none given means the first', () => {
  const list = transferTargets(OWNER, [{ label: 'desk', number: '+14155550177' }]);
  assert.deepEqual(chooseTarget(list, undefined), { ok: true, target: list[0] });
  assert.deepEqual(chooseTarget(list, ' Desk '), { ok: true, target: list[1] });
  assert.deepEqual(chooseTarget(list, '2'), { ok: true, target: list[1] });
  // Even a number that is on the list: a label is the only way to choose.
  for (const n of [OWNER, '+1 415 555 0177', '4155550177']) {
    const r = chooseTarget(list, n);
    assert.equal(r.ok, false);
    assert.match((r as { message: string }).message, /a phone number cannot be given; choose one of: owner, desk/);
  }
  assert.deepEqual(chooseTarget(list, 'sales'), { ok: false, message: 'unknown destination "sales"; choose one of: owner, desk' });
  assert.deepEqual(chooseTarget(list, '3'), { ok: false, message: 'unknown destination "3"; choose one of: owner, desk' });
  assert.match((chooseTarget([], undefined) as { message: string }).message, /no transfer destination is set/);
});

test('what the record shows of a destination: its label and a masked number', () => {
  assert.deepEqual(describeTarget({ label: 'owner', number: OWNER }), { label: 'owner', number: '+14*******42' });
});
