/**
 * `callwright call --at`, `calls scheduled` and `calls cancel`, and `--override-calling-hours <reason>`,
 * run as a child process (bin/callwright.js) against the real server and the simulators.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { at, runCli } from './cli-process.js';
import { withStack } from './helpers.js';
import { parseWhen } from '../../src/cli/when.js';

const cli = (args: string[]) => runCli(args, { TZ: 'Europe/Berlin' });

test('--at: ISO with an offset as is, local date-times and delays made absolute, anything else refused', () => {
  const now = new Date('2026-05-04T10:00:00Z');
  assert.equal(parseWhen('2026-05-04T09:30:00+02:00', now), '2026-05-04T09:30:00+02:00');
  assert.equal(parseWhen('+10m', now), '2026-05-04T10:10:00.000Z');
  assert.equal(parseWhen('+1d', now), '2026-05-05T10:00:00.000Z');
  assert.equal(parseWhen('2026-05-04 09:30', now), new Date(2026, 4, 4, 9, 30).toISOString());
  assert.throws(() => parseWhen('tomorrow', now), /expected a date and time/);
});

test('callwright call --at schedules, calls scheduled lists it, calls cancel cancels it; an override needs its reason', async () => {
  await withStack({ env: { CALLING_HOURS: 'off' } }, async (stack) => {
    const s = await cli(['call', '+14155550123', 'Remind them of the booking', '--client', 'raju', '--at', '+2h', ...at(stack)]);
    assert.equal(s.code, 0, s.stderr);
    const id = /^Scheduled call ([0-9a-f-]{36}) to \+14155550123 at \d{4}-\d\d-\d\d \d\d:\d\d \(\+0[12]:00\)$/m.exec(s.stdout)?.[1];
    assert.ok(id, s.stdout);
    assert.match(s.stdout, new RegExp(`Cancel: callwright calls cancel ${id}`));
    assert.equal(stack.twilio.calls.length, 0);

    const list = await cli(['calls', 'scheduled', ...at(stack)]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`${id} .*\\+14155550123 +raju +scheduled +Remind them of the booking`));
    const json = JSON.parse((await cli(['calls', 'scheduled', '--json', ...at(stack)])).stdout);
    assert.equal(json.scheduledCalls[0].id, id);

    const c = await cli(['calls', 'cancel', id!, ...at(stack)]);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /: cancelled$/m);
    assert.match((await cli(['calls', 'scheduled', ...at(stack)])).stdout, /No calls are scheduled\./);
    const again = await cli(['calls', 'cancel', id!, ...at(stack)]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /only a waiting call can be cancelled/);

    const late = await cli(['call', '+14155550123', 'x', '--at', '+1h', '--override-calling-hours', 'they asked for a late call', '--json', ...at(stack)]);
    assert.equal(late.code, 0, late.stderr);
    assert.deepEqual([JSON.parse(late.stdout).overrideCallingHours, JSON.parse(late.stdout).overrideReason], [true, 'they asked for a late call']);
    const noReason = await cli(['call', '+14155550123', 'x', ...at(stack), '--override-calling-hours']);
    assert.notEqual(noReason.code, 0);
    assert.match(noReason.stderr, /--override-calling-hours <reason>. argument missing/);

    const bad = await cli(['call', '+14155550123', 'x', '--at', 'tomorrow', ...at(stack)]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /expected a date and time/);
  });
});
