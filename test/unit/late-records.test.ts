import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { LateRecords, type LateRecord } from '../../src/calls/late-records.js';

function tracker(timeoutMs = 60_000) {
  const completed: Array<{ callId: string; missing: LateRecord[] }> = [];
  const late = new LateRecords(timeoutMs, (callId, missing) => completed.push({ callId, missing }));
  return { late, completed };
}

test('a call completes once both its price and its recording are in', () => {
  const { late, completed } = tracker();
  late.expect('a', ['price', 'recording']);
  assert.equal(late.isWaiting('a'), true);
  late.arrived('a', 'recording', false);
  assert.deepEqual(completed, []);
  late.arrived('a', 'price', false);
  assert.deepEqual(completed, [{ callId: 'a', missing: [] }]);
  assert.equal(late.isWaiting('a'), false);
  // A late duplicate (a retried callback) changes nothing.
  late.arrived('a', 'price', false);
  assert.equal(completed.length, 1);
});

test('a recording stored while the call was still ending counts when the wait starts', () => {
  // The soak found it: the carrier's callbacks and a fast download finished while the server was still
  // writing the transcript, and the call then waited for a recording it already had.
  const { late, completed } = tracker();
  late.arrived('a', 'recording', true);
  late.expect('a', ['price', 'recording']);
  assert.deepEqual(completed, []);
  late.arrived('a', 'price', false);
  assert.deepEqual(completed, [{ callId: 'a', missing: [] }]);
  assert.deepEqual(late.size, { waiting: 0, early: 0 });
});

test('everything arrived early: the call completes as soon as it is expected', () => {
  const { late, completed } = tracker();
  late.arrived('a', 'price', true);
  late.arrived('a', 'recording', true);
  late.expect('a', ['price', 'recording']);
  assert.deepEqual(completed, [{ callId: 'a', missing: [] }]);
  assert.equal(late.isWaiting('a'), false);
});

test('nothing to wait for completes at once', () => {
  const { late, completed } = tracker();
  late.expect('a', []);
  assert.deepEqual(completed, [{ callId: 'a', missing: [] }]);
});

test('an arrival for a call that is neither ending nor waited for is not kept', () => {
  const { late, completed } = tracker();
  late.expect('done', []);
  late.arrived('done', 'recording', false);
  late.arrived('unknown', 'price', false);
  assert.deepEqual(late.size, { waiting: 0, early: 0 });
  assert.equal(completed.length, 1);
});

test('an end that failed before the wait started leaves nothing behind', () => {
  const { late } = tracker();
  late.arrived('a', 'recording', true);
  late.dropEarly('a');
  assert.deepEqual(late.size, { waiting: 0, early: 0 });
});

test('waiting too long completes the call naming what is missing', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const { late, completed } = tracker(1_000);
    late.expect('a', ['price', 'recording']);
    late.arrived('a', 'price', false);
    mock.timers.tick(999);
    assert.deepEqual(completed, []);
    mock.timers.tick(1);
    assert.deepEqual(completed, [{ callId: 'a', missing: ['recording'] }]);
    assert.equal(late.isWaiting('a'), false);
  } finally {
    mock.timers.reset();
  }
});

test('calls are kept apart, and shutdown completes every wait', () => {
  const { late, completed } = tracker();
  late.arrived('a', 'recording', true);
  late.expect('b', ['price', 'recording']);
  late.expect('a', ['price', 'recording']);
  late.arrived('b', 'price', false);
  late.completeAll();
  assert.deepEqual(
    completed.sort((x, y) => x.callId.localeCompare(y.callId)),
    [
      { callId: 'a', missing: ['price'] },
      { callId: 'b', missing: ['recording'] },
    ],
  );
  assert.deepEqual(late.size, { waiting: 0, early: 0 });
});
